/**
 * PURE: the AWS CLI command lines a user pastes to run a one-off command in the app's task, follow its
 * logs, or open a shell in a running task. Values may be CDK tokens (they are strings); the renderer
 * only concatenates, so every reference stays the template's own.
 *
 * The commands are for a POSIX shell (bash, zsh): JSON goes inside single quotes, which no value here
 * contains (ids, names and the example command are checked by the callers).
 */

/** What the `aws ecs run-task` command names. */
export interface RunTaskCommandParts {
  /** The cluster name or ARN. */
  readonly cluster: string;
  /** The task definition ARN (one revision) or family (its latest revision). */
  readonly taskDefinition: string;
  readonly subnets: readonly string[];
  readonly securityGroups: readonly string[];
  /** The container whose command is overridden. */
  readonly containerName: string;
  /** The command to run in it. */
  readonly command: readonly string[];
  /** Adds `--enable-execute-command`, so `aws ecs execute-command` can reach the task. */
  readonly enableExecuteCommand: boolean;
}

/** The `--overrides` JSON: only the container's command. */
export function renderOverrides(containerName: string, command: readonly string[]): string {
  return JSON.stringify({ containerOverrides: [{ name: containerName, command }] });
}

/** `aws ecs run-task ...` with the awsvpc network configuration in the CLI's shorthand syntax. */
export function renderRunTaskCommand(p: RunTaskCommandParts): string {
  const network = `awsvpcConfiguration={subnets=[${p.subnets.join(',')}],securityGroups=[${p.securityGroups.join(',')}],assignPublicIp=DISABLED}`;
  return [
    'aws ecs run-task',
    `--cluster ${p.cluster}`,
    `--task-definition ${p.taskDefinition}`,
    '--launch-type FARGATE',
    `--network-configuration '${network}'`,
    ...(p.enableExecuteCommand ? ['--enable-execute-command'] : []),
    `--overrides '${renderOverrides(p.containerName, p.command)}'`,
  ].join(' ');
}

/** `aws logs tail` over the streams of one prefix (`<prefix>/<container>/<task id>`), following new events. */
export function renderLogsTailCommand(logGroupName: string, streamPrefix: string, containerName: string): string {
  return `aws logs tail ${logGroupName} --follow --log-stream-name-prefix ${streamPrefix}/${containerName}/`;
}

/** `aws ecs execute-command` into the first running task of a service, running `command` interactively. */
export function renderExecuteCommand(cluster: string, serviceName: string, containerName: string, command: string): string {
  const task = `"$(aws ecs list-tasks --cluster ${cluster} --service-name ${serviceName} --desired-status RUNNING --query 'taskArns[0]' --output text)"`;
  return `aws ecs execute-command --cluster ${cluster} --task ${task} --container ${containerName} --interactive --command '${command}'`;
}

/** Why a command cannot go into the rendered output, or undefined when it can. */
export function commandQuotingProblem(command: readonly string[]): string | undefined {
  if (command.length === 0) return 'is empty; give the program and its arguments, e.g. [\'python\', \'manage.py\', \'check\', \'--deploy\']';
  const quoted = command.find((a) => a.includes('\''));
  return quoted === undefined ? undefined
    : `'${quoted}' holds a single quote, which the rendered shell command wraps the JSON in; use double quotes inside the argument`;
}
