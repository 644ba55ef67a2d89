import * as vm from 'vm';
import { MIGRATIONS_HANDLER_SOURCE } from '../../src/migrations/handler-source';

const CLUSTER = 'arn:aws:ecs:eu-west-1:111111111111:cluster/web';
const TASK_DEF = 'arn:aws:ecs:eu-west-1:111111111111:task-definition/mysite:7';
const TASK_ARN = 'arn:aws:ecs:eu-west-1:111111111111:task/web/0123456789abcdef';

/** Resource properties as CloudFormation hands them over (strings and string lists). */
const PROPS = {
  ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:provider',
  Cluster: CLUSTER,
  TaskDefinitionFamily: 'mysite',
  TaskDefinitionArn: TASK_DEF,
  ContainerName: 'app',
  Command: ['python', 'manage.py', 'migrate', '--noinput'],
  Subnets: ['subnet-1', 'subnet-2'],
  SecurityGroups: ['sg-1'],
  LogGroupName: 'mysite-logs',
  LogStreamPrefix: 'app',
  Fingerprint: `${TASK_DEF}#abc`,
};

interface Sent { readonly command: string; readonly input: any }

/**
 * Evaluates the inline handler source as a CommonJS module, the way Lambda does, with a fake
 * `@aws-sdk/client-ecs` that records each command and answers from a queue per command.
 */
function load(responses: { [command: string]: any[] }, env: { [k: string]: string } = {}) {
  const sent: Sent[] = [];
  class Command {
    constructor(public readonly input: any) {}
  }
  class RunTaskCommand extends Command {}
  class DescribeTasksCommand extends Command {}
  class StopTaskCommand extends Command {}
  class ECSClient {
    async send(cmd: Command) {
      const command = cmd.constructor.name.replace(/Command$/, '');
      sent.push({ command, input: cmd.input });
      const queue = responses[command];
      if (!queue || queue.length === 0) throw new Error(`unexpected ${command}`);
      return queue.shift();
    }
  }
  const sdk = { ECSClient, RunTaskCommand, DescribeTasksCommand, StopTaskCommand };
  const module = { exports: {} as any };
  vm.runInNewContext(MIGRATIONS_HANDLER_SOURCE, {
    module,
    exports: module.exports,
    require: (id: string) => {
      if (id === '@aws-sdk/client-ecs') return sdk;
      throw new Error(`the handler may only require @aws-sdk/client-ecs, asked for ${id}`);
    },
    process: { env: { STOP_AFTER_SECONDS: '1770', ...env } },
    console: { log: () => undefined },
  }, { filename: 'index.js' });
  return { onEvent: module.exports.onEvent, isComplete: module.exports.isComplete, sent };
}

/** The message of the error a handler call rejects with (errors from the vm context are not host Errors). */
async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e: any) {
    return String(e?.message);
  }
  throw new Error('expected the handler to fail');
}

const createEvent = { RequestType: 'Create', LogicalResourceId: 'Migrations23B444C5', ResourceProperties: PROPS };
const runningTask = (lastStatus: string) => ({ tasks: [{ taskArn: TASK_ARN, lastStatus, createdAt: new Date(), containers: [{ name: 'app' }] }] });
const stoppedTask = (container: any, task: any = {}) => ({
  tasks: [{ taskArn: TASK_ARN, lastStatus: 'STOPPED', createdAt: new Date(), containers: [{ name: 'proxy', exitCode: 0 }, { name: 'app', ...container }], ...task }],
});
const completeEvent = { ...createEvent, PhysicalResourceId: 'django-migrations-Migrations23B444C5', Data: { TaskArn: TASK_ARN } };

describe('onEvent', () => {
  test('Create runs the task definition once on Fargate, with the command override and no public IP', async () => {
    const h = load({ RunTask: [{ tasks: [{ taskArn: TASK_ARN }], failures: [] }] });
    const result = await h.onEvent(createEvent);
    expect(h.sent).toEqual([{
      command: 'RunTask',
      input: {
        cluster: CLUSTER,
        taskDefinition: TASK_DEF,
        launchType: 'FARGATE',
        count: 1,
        startedBy: 'cdk-django-migrations',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1', 'subnet-2'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' } },
        overrides: { containerOverrides: [{ name: 'app', command: ['python', 'manage.py', 'migrate', '--noinput'] }] },
      },
    }]);
    expect(result).toEqual({ PhysicalResourceId: 'django-migrations-Migrations23B444C5', Data: { TaskArn: TASK_ARN } });
  });

  test('Update with a new fingerprint runs again and keeps the physical ID', async () => {
    const h = load({ RunTask: [{ tasks: [{ taskArn: TASK_ARN }] }] });
    const result = await h.onEvent({
      ...createEvent,
      RequestType: 'Update',
      PhysicalResourceId: 'django-migrations-old',
      OldResourceProperties: { ...PROPS, TaskDefinitionArn: `${TASK_DEF.slice(0, -1)}6`, Fingerprint: `${TASK_DEF.slice(0, -1)}6#abc` },
    });
    expect(h.sent.map((s) => s.command)).toEqual(['RunTask']);
    expect(result.PhysicalResourceId).toBe('django-migrations-old');
  });

  test('each run uses the revision its own properties name: an update the new one, a rollback the old one', async () => {
    const revision = (n: number) => ({ ...PROPS, TaskDefinitionArn: `${TASK_DEF.slice(0, -1)}${n}`, Fingerprint: `${TASK_DEF.slice(0, -1)}${n}#abc` });
    const h = load({ RunTask: [{ tasks: [{ taskArn: TASK_ARN }] }, { tasks: [{ taskArn: TASK_ARN }] }] });
    const update = { ...createEvent, RequestType: 'Update', PhysicalResourceId: 'django-migrations-old' };
    await h.onEvent({ ...update, ResourceProperties: revision(8), OldResourceProperties: revision(7) });
    // UPDATE_ROLLBACK_IN_PROGRESS: CloudFormation sends the old properties as the new ones
    await h.onEvent({ ...update, ResourceProperties: revision(7), OldResourceProperties: revision(8) });
    expect(h.sent.map((s) => s.input.taskDefinition)).toEqual([`${TASK_DEF.slice(0, -1)}8`, `${TASK_DEF.slice(0, -1)}7`]);
  });

  test('Update with the same fingerprint (only subnets changed) runs nothing, and isComplete is done at once', async () => {
    const h = load({});
    const result = await h.onEvent({
      ...createEvent,
      RequestType: 'Update',
      PhysicalResourceId: 'django-migrations-old',
      OldResourceProperties: { ...PROPS, Subnets: ['subnet-9'] },
    });
    expect(h.sent).toEqual([]);
    expect(result).toEqual({ PhysicalResourceId: 'django-migrations-old' });
    expect(await h.isComplete({ ...createEvent, RequestType: 'Update', ...result })).toEqual({ IsComplete: true });
    expect(h.sent).toEqual([]);
  });

  test('RunTask failures fail the deployment with their reasons', async () => {
    const h = load({ RunTask: [{ tasks: [], failures: [{ arn: CLUSTER, reason: 'MISSING', detail: 'cluster not found' }] }] });
    const message = await errorOf(h.onEvent(createEvent));
    expect(message).toContain('MISSING (cluster not found)');
    expect(message).toContain('mysite');
  });

  test('RunTask returning no task at all fails too', async () => {
    const h = load({ RunTask: [{}] });
    expect(await errorOf(h.onEvent(createEvent))).toContain('RunTask returned no task');
  });

  test('Delete does not run a task', async () => {
    const h = load({});
    const result = await h.onEvent({ ...createEvent, RequestType: 'Delete', PhysicalResourceId: 'django-migrations-x' });
    expect(result).toEqual({ PhysicalResourceId: 'django-migrations-x' });
    expect(await h.isComplete({ ...createEvent, RequestType: 'Delete', PhysicalResourceId: 'django-migrations-x' })).toEqual({ IsComplete: true });
    expect(h.sent).toEqual([]);
  });
});

describe('isComplete', () => {
  test('is not complete while the task runs, and complete once the container exited 0', async () => {
    const h = load({ DescribeTasks: [runningTask('PROVISIONING'), runningTask('RUNNING'), stoppedTask({ exitCode: 0 })] });
    expect(await h.isComplete(completeEvent)).toEqual({ IsComplete: false });
    expect(await h.isComplete(completeEvent)).toEqual({ IsComplete: false });
    expect(await h.isComplete(completeEvent)).toEqual({ IsComplete: true, Data: { ExitCode: '0' } });
    expect(h.sent[0]).toEqual({ command: 'DescribeTasks', input: { cluster: CLUSTER, tasks: [TASK_ARN] } });
  });

  test('a non-zero exit names the exit code, the command and the log stream', async () => {
    const h = load({ DescribeTasks: [stoppedTask({ exitCode: 1 }, { stoppedReason: 'Essential container in task exited', stopCode: 'EssentialContainerExited' })] });
    const message = await errorOf(h.isComplete(completeEvent));
    expect(message).toContain('exit code 1');
    expect(message).toContain('Essential container in task exited');
    expect(message).toContain('python manage.py migrate --noinput');
    expect(message).toContain('log stream app/app/0123456789abcdef');
    expect(message).toContain('log group mysite-logs');
  });

  test('the exit code of the migrations container decides, not another container', async () => {
    const h = load({ DescribeTasks: [stoppedTask({ exitCode: 2 })] });
    expect(await errorOf(h.isComplete(completeEvent))).toContain('exit code 2');
  });

  test('a task that never started (image pull failure) names the stopped reason and "no exit code"', async () => {
    const reason = 'CannotPullContainerError: pull image manifest has been retried 5 time(s): example/mysite:1 not found';
    const h = load({ DescribeTasks: [stoppedTask({ reason }, { stoppedReason: 'Task failed to start', stopCode: 'TaskFailedToStart' })] });
    const message = await errorOf(h.isComplete(completeEvent));
    expect(message).toContain('no exit code');
    expect(message).toContain('Task failed to start');
    expect(message).toContain('CannotPullContainerError');
    expect(message).toContain('app/app/0123456789abcdef');
  });

  test('a task not visible yet (DescribeTasks is eventually consistent) is asked about again', async () => {
    const h = load({ DescribeTasks: [{ tasks: [], failures: [{ arn: TASK_ARN, reason: 'MISSING' }] }] });
    expect(await h.isComplete(completeEvent)).toEqual({ IsComplete: false });
  });

  test('a task running past the timeout is stopped and the deployment fails naming the timeout and log stream', async () => {
    const old = new Date(Date.now() - 1800 * 1000);
    const h = load({
      DescribeTasks: [{ tasks: [{ taskArn: TASK_ARN, lastStatus: 'RUNNING', createdAt: old, containers: [{ name: 'app' }] }] }],
      StopTask: [{}],
    });
    const message = await errorOf(h.isComplete(completeEvent));
    expect(h.sent[1]).toEqual({
      command: 'StopTask',
      input: { cluster: CLUSTER, task: TASK_ARN, reason: 'cdk-django migrations timed out after 1770 s' },
    });
    expect(message).toContain('did not finish within 1770 seconds');
    expect(message).toContain('app/app/0123456789abcdef');
  });
});
