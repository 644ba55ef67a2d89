import { CfnOutput, Lazy, Names, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { markLibraryConstruct } from '../annotations';
import { acknowledgeInPacks } from '../compliance';
import { throwIfProblems } from '../errors';
import { acknowledgeFinding } from '../nag';
import { Problem } from '../problems';
import { executeCommandProblems } from './execute-command';
import { commandQuotingProblem, renderLogsTailCommand, renderRunTaskCommand, RunTaskCommandParts } from './run-task-command';
import { selectedSubnetIds } from '../subnets';

/** What `aws ecs run-task` without `--overrides` runs: Django's deployment checks, which exit. */
const DEFAULT_COMMAND = ['python', 'manage.py', 'check', '--deploy'];
/** The command the rendered run-task line overrides it with (README: "One-off commands"). */
const EXAMPLE_COMMAND = ['python', 'manage.py', 'createsuperuser', '--noinput', '--username', 'admin', '--email', 'admin@example.com'];

/** Options of a service's one-off task (`addOneOffTask`). */
export interface DjangoOneOffTaskOptions {
  /**
   * The container's own command, what a run without `--overrides` does. Each run normally overrides it.
   * It replaces the image's CMD only: an ENTRYPOINT still runs in front of it.
   * @default ['python', 'manage.py', 'check', '--deploy'] - checks the settings and exits, never a second web server
   */
  readonly command?: string[];
  /**
   * The awslogs stream prefix, so one-off runs are told apart from the service's tasks in the shared log group.
   * @default 'one-off'
   */
  readonly logStreamPrefix?: string;
  /**
   * The command the `RunTaskCommand` output shows as the override, for a quick start.
   * @default ['python', 'manage.py', 'createsuperuser', '--noinput', '--username', 'admin', '--email', 'admin@example.com']
   */
  readonly exampleCommand?: string[];
}

/** Props of DjangoOneOffTask. */
export interface DjangoOneOffTaskProps extends DjangoOneOffTaskOptions {
  /** The cluster the task runs in. */
  readonly cluster: ecs.ICluster;
  /** The app image. */
  readonly image: ecs.ContainerImage;
  /**
   * The app's environment (not secrets).
   * @default - none
   */
  readonly environment?: { [name: string]: string };
  /**
   * The app's secrets, resolved by ECS at start.
   * @default - none
   */
  readonly secrets?: { [name: string]: ecs.Secret };
  /** The log group the container logs to. */
  readonly logGroup: logs.ILogGroup;
  /** Security groups of the task; they must let it reach what the app reaches (the database, the cache). */
  readonly securityGroups: ec2.ISecurityGroup[];
  /**
   * Subnets of the task (no public IP is assigned).
   * @default - private subnets with egress of the cluster's VPC
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * The role the command runs as: give the service's, so the command may do what the app may.
   * @default - a new role
   */
  readonly taskRole?: iam.IRole;
  /**
   * The role ECS pulls the image and reads the secrets with.
   * @default - a new role
   */
  readonly executionRole?: iam.IRole;
  /**
   * Task CPU units.
   * @default 512
   */
  readonly cpu?: number;
  /**
   * Task memory in MiB.
   * @default 1024
   */
  readonly memoryLimitMiB?: number;
  /**
   * The CPU architecture of the image.
   * @default - X86_64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;
  /**
   * Whether runs may be opened with `aws ecs execute-command` (the rendered command adds `--enable-execute-command`).
   * The cluster must encrypt and log sessions (see `enableExecuteCommand` on the services), and `taskRole` must be
   * the role of a service with `enableExecuteCommand`, which holds the Session Manager and session log permissions.
   * @default false
   */
  readonly enableExecuteCommand?: boolean;
}

/**
 * A task definition for one-off commands (`createsuperuser`, `shell`, a data fix, the migrations): the app
 * container only, with the app's image, settings and secrets, no proxy sidecar, no port, no health check,
 * logging under its own stream prefix. CfnOutputs give the `aws ecs run-task` command that runs it in the
 * app's subnets with the app's security groups, and the `aws logs tail` command that follows its logs.
 */
export class DjangoOneOffTask extends Construct {
  /** The single-container task definition. */
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The app container (named 'app', like the service's). */
  public readonly container: ecs.ContainerDefinition;
  /** The awslogs stream prefix of its runs. */
  public readonly logStreamPrefix: string;
  /** The rendered `aws ecs run-task` command (with tokens; see the `RunTaskCommand` output). */
  public readonly runTaskCommand: string;
  /** The rendered `aws logs tail` command that follows the runs' logs. */
  public readonly logsCommand: string;
  /** Output: the ready-to-paste `aws ecs run-task` command. */
  public readonly runTaskOutput: CfnOutput;
  /** Output: the `aws logs tail` command. */
  public readonly logsOutput: CfnOutput;
  private readonly parts: Omit<RunTaskCommandParts, 'command'>;

  constructor(scope: Construct, id: string, props: DjangoOneOffTaskProps) {
    super(scope, id);
    markLibraryConstruct(this);
    this.logStreamPrefix = props.logStreamPrefix ?? 'one-off';
    const command = props.command ?? DEFAULT_COMMAND;
    const exampleCommand = props.exampleCommand ?? EXAMPLE_COMMAND;
    const problems = oneOffTaskProblems(props, command, exampleCommand, this.logStreamPrefix);
    const subnetIds = selectedSubnetIds(props.cluster.vpc, props.vpcSubnets, problems);
    throwIfProblems(this, problems);

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      // Readable where users type it (`--task-definition <family>` runs the latest revision); unique per stack and path.
      family: Names.uniqueResourceName(this, { maxLength: 255, separator: '-' }),
      cpu: props.cpu ?? 512,
      memoryLimitMiB: props.memoryLimitMiB ?? 1024,
      runtimePlatform: props.cpuArchitecture
        ? { cpuArchitecture: props.cpuArchitecture, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX }
        : undefined,
      taskRole: props.taskRole,
      executionRole: props.executionRole,
    });
    acknowledgeFinding(this.taskDefinition, 'AwsSolutions-ECS2',
      'Environment holds only the app\'s non-secret settings (host names, endpoints); SECRET_KEY and credentials come from Secrets Manager through the secrets field.');
    acknowledgeInPacks(this.taskDefinition, 'IAMNoInlinePolicy',
      'The task and execution role policies are the ones CDK generates from grants to these roles (least privilege, one role each); a managed policy could be attached to other principals.');
    this.container = this.taskDefinition.addContainer('app', {
      image: props.image,
      command,
      essential: true,
      environment: props.environment,
      secrets: props.secrets,
      logging: ecs.LogDrivers.awsLogs({ logGroup: props.logGroup, streamPrefix: this.logStreamPrefix }),
    });

    const securityGroupIds = props.securityGroups.map((sg) => sg.securityGroupId);
    this.parts = {
      cluster: props.cluster.clusterName,
      taskDefinition: this.taskDefinition.taskDefinitionArn,
      subnets: subnetIds,
      securityGroups: securityGroupIds,
      containerName: this.container.containerName,
      enableExecuteCommand: props.enableExecuteCommand ?? false,
    };
    this.runTaskCommand = renderRunTaskCommand({ ...this.parts, command: exampleCommand });
    this.logsCommand = renderLogsTailCommand(props.logGroup.logGroupName, this.logStreamPrefix, this.container.containerName);
    this.runTaskOutput = new CfnOutput(this, 'RunTaskCommand', {
      description: 'Runs a one-off command in the app task (replace the command in --overrides); README: "One-off commands".',
      value: this.runTaskCommand,
    });
    this.logsOutput = new CfnOutput(this, 'LogsCommand', {
      description: 'Follows the logs of one-off runs (streams <prefix>/app/<task id>).',
      value: this.logsCommand,
    });
  }

  /**
   * The `aws ecs run-task` command that runs `command` in this task (for a CfnOutput of your own, e.g. a data fix).
   * Arguments may not contain single quotes (the JSON is single-quoted for the shell).
   */
  public runTaskCommandFor(command: string[]): string {
    const problem = commandQuotingProblem(command);
    throwIfProblems(this, problem ? [{ prop: 'command', message: problem }] : []);
    return renderRunTaskCommand({ ...this.parts, command });
  }

  /**
   * Follows the size and CPU architecture of another task definition (the service's), read at synthesis,
   * so the one-off task runs the same image on the same platform whatever the service was given.
   * @internal
   */
  public _followSizeOf(other: ecs.TaskDefinition): void {
    const from = other.node.defaultChild as ecs.CfnTaskDefinition;
    const to = this.taskDefinition.node.defaultChild as ecs.CfnTaskDefinition;
    to.cpu = Lazy.string({ produce: () => from.cpu });
    to.memory = Lazy.string({ produce: () => from.memory });
    to.runtimePlatform = Lazy.any({ produce: () => from.runtimePlatform }) as any;
  }
}

function oneOffTaskProblems(props: DjangoOneOffTaskProps, command: string[], exampleCommand: string[], prefix: string): Problem[] {
  const problems: Problem[] = [];
  if (command.length === 0 || (!Token.isUnresolved(command[0]) && command[0].trim() === '')) {
    problems.push({ prop: 'command', message: 'is empty; give the program and its arguments, e.g. [\'python\', \'manage.py\', \'check\', \'--deploy\']' });
  }
  const quoting = commandQuotingProblem(exampleCommand);
  if (quoting) problems.push({ prop: 'exampleCommand', message: quoting });
  if (!Token.isUnresolved(prefix) && !/^[A-Za-z0-9][\w.-]{0,63}$/.test(prefix)) {
    problems.push({ prop: 'logStreamPrefix', message: `must be letters, digits, '.', '_' or '-' (a log stream name part, up to 64), got '${prefix}'` });
  }
  if (props.securityGroups.length === 0 || props.securityGroups.length > 5) {
    problems.push({ prop: 'securityGroups', message: `give 1 to 5 security groups that may reach what the app reaches, got ${props.securityGroups.length}` });
  }
  problems.push(...executeCommandProblems(props.cluster, props.enableExecuteCommand));
  if (props.enableExecuteCommand && !props.taskRole) {
    problems.push({ prop: 'taskRole', message: 'is needed with enableExecuteCommand: give the task role of a service with enableExecuteCommand, which holds the Session Manager permissions' });
  }
  return problems;
}
