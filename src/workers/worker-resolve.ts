import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Defaults } from '../defaults';
import { Problem } from '../problems';
import { RenderedWorkerCommand, WorkerCommandKind } from './worker-command';
import type { DjangoWorkerServiceProps } from './worker-props';
import { secondsOf } from '../durations';
import { wholeSecondsProblem } from '../numbers';
import { settingsProblems } from '../services/resolve';
import { fargateSizeProblems } from '../services/task-size';

/** The worker props with every default applied, in plain numbers. */
export interface ResolvedWorker {
  readonly rendered: RenderedWorkerCommand;
  readonly cpu: number;
  readonly memoryLimitMiB: number;
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly scaleOutQueueDepth: number;
  readonly targetCpuUtilization: number;
  readonly stopTimeoutSeconds: number;
  /** The data tier's settings, then the user's. */
  readonly environment: { [name: string]: string };
  readonly secrets: { [name: string]: ecs.Secret };
}

/** The Celery app when none is given: the settings module's package (`config` for `config.settings`). */
export function defaultCeleryApp(settingsModule?: string): string {
  return settingsModule && settingsModule.includes('.') ? settingsModule.slice(0, settingsModule.lastIndexOf('.')) : 'config';
}

export function resolveWorker(props: DjangoWorkerServiceProps): ResolvedWorker {
  const cpu = props.cpu ?? 512;
  const rendered = props.command._render({ vcpu: cpu / 1024, defaultApp: defaultCeleryApp(props.settingsModule) });
  const minTasks = props.minTasks ?? 1;
  const defaultStop = rendered.hardLimitSeconds !== undefined
    ? Math.min(Defaults.maxStopTimeout, rendered.hardLimitSeconds + 10)
    : props.command.kind === WorkerCommandKind.CELERY_BEAT ? 30 : rendered.gracefulStopSeconds + 10;
  return {
    rendered,
    cpu,
    memoryLimitMiB: props.memoryLimitMiB ?? 1024,
    minTasks,
    maxTasks: props.maxTasks ?? 4 * minTasks,
    scaleOutQueueDepth: props.scaleOutQueueDepth ?? 10,
    targetCpuUtilization: props.targetCpuUtilization ?? 60,
    stopTimeoutSeconds: secondsOf(props.stopTimeout, defaultStop),
    environment: { ...props.database?.environment, ...props.cache?.environment, ...props.taskQueue?.environment, ...props.environment },
    secrets: { ...props.database?.secrets, ...props.cache?.secrets, ...props.secrets },
  };
}

function brokerProblems(props: DjangoWorkerServiceProps, r: ResolvedWorker): Problem[] {
  const kind = props.command.kind;
  if (kind === WorkerCommandKind.CUSTOM) return [];
  if (!props.taskQueue && !props.cache) {
    return [{ prop: 'cache', message: 'Celery needs a broker: give cache (the DjangoCache Redis) or taskQueue (a DjangoTaskQueue on SQS)' }];
  }
  const problems: Problem[] = [];
  const q = props.taskQueue;
  if (q) {
    const names = Object.keys(q.queues);
    for (const name of r.rendered.queues.filter((n) => !names.includes(n))) {
      problems.push({ prop: 'queues', message: `'${name}' is not a queue of the task queue (${names.join(', ')}); add it to its queueNames or consume one of those` });
    }
    const hard = r.rendered.hardLimitSeconds;
    if (hard !== undefined && q.visibilityTimeoutSeconds <= hard) {
      problems.push({ prop: 'taskQueue', message: `its visibilityTimeout (${q.visibilityTimeoutSeconds} s) must be longer than timeLimit (${hard} s), or SQS hands a running task to a second worker` });
    }
  }
  return problems;
}

function dataTierProblems(props: DjangoWorkerServiceProps): Problem[] {
  const owned = new Set([
    ...Object.keys(props.database?.environment ?? {}), ...Object.keys(props.database?.secrets ?? {}),
    ...Object.keys(props.cache?.environment ?? {}), ...Object.keys(props.cache?.secrets ?? {}),
    ...Object.keys(props.taskQueue?.environment ?? {}),
  ]);
  return [
    ...Object.keys(props.environment ?? {}).filter((k) => owned.has(k)).map((k) => ({ prop: 'environment', message: `${k} is set from database, cache or taskQueue; remove it from environment` })),
    ...Object.keys(props.secrets ?? {}).filter((k) => owned.has(k)).map((k) => ({ prop: 'secrets', message: `${k} is set from database, cache or taskQueue; remove it from secrets` })),
  ];
}

function scalingProblems(props: DjangoWorkerServiceProps, r: ResolvedWorker): Problem[] {
  const problems: Problem[] = [];
  if (props.command.singleton) {
    for (const prop of ['minTasks', 'maxTasks', 'scaleOutQueueDepth', 'targetCpuUtilization'] as const) {
      if (props[prop] !== undefined) {
        problems.push({ prop, message: 'a singleton command (Celery beat) runs exactly one task and never scales; remove it' });
      }
    }
    return problems;
  }
  if (!Number.isInteger(r.minTasks) || r.minTasks < 1) {
    problems.push({ prop: 'minTasks', message: `must be a whole number >= 1, got ${r.minTasks}` });
  }
  if (!Number.isInteger(r.maxTasks) || r.maxTasks < r.minTasks) {
    problems.push({ prop: 'maxTasks', message: `must be a whole number >= minTasks (${r.minTasks}), got ${r.maxTasks}` });
  }
  if (!Number.isInteger(r.scaleOutQueueDepth) || r.scaleOutQueueDepth < 1) {
    problems.push({ prop: 'scaleOutQueueDepth', message: `must be a whole number of messages >= 1, got ${r.scaleOutQueueDepth}` });
  }
  if (props.scaleOutQueueDepth !== undefined && !props.taskQueue) {
    problems.push({ prop: 'scaleOutQueueDepth', message: 'applies to an SQS broker (taskQueue), whose depth CloudWatch sees; with the Redis broker the service scales on CPU (targetCpuUtilization)' });
  }
  if (props.targetCpuUtilization !== undefined && props.taskQueue) {
    problems.push({ prop: 'targetCpuUtilization', message: 'with an SQS broker the service scales on queue depth (scaleOutQueueDepth); remove targetCpuUtilization' });
  }
  if (!(r.targetCpuUtilization >= 10 && r.targetCpuUtilization <= 90)) {
    problems.push({ prop: 'targetCpuUtilization', message: `must be 10-90 percent, got ${r.targetCpuUtilization}` });
  }
  return problems;
}

function stopProblems(r: ResolvedWorker): Problem[] {
  const stop = r.stopTimeoutSeconds;
  const problems = wholeSecondsProblem('stopTimeout', stop, 2, Defaults.maxStopTimeout)
    .map((p) => ({ ...p, message: `${p.message} (ECS allows at most ${Defaults.maxStopTimeout})` }));
  const graceful = r.rendered.gracefulStopSeconds;
  if (problems.length === 0 && stop <= graceful) {
    problems.push({
      prop: 'stopTimeout',
      message: r.rendered.gracefulStopProp === 'softTimeLimit'
        ? `(${stop} s) must be longer than the Celery softTimeLimit (${graceful} s), or ECS kills a task the warm shutdown is still waiting for; `
          + `raise stopTimeout (at most ${Defaults.maxStopTimeout} s) or lower softTimeLimit, and split longer work into chained tasks`
        : `(${stop} s) must be longer than ${r.rendered.gracefulStopProp} (${graceful} s), or ECS kills the command while it stops`,
    });
  }
  return problems;
}

/** Every problem with the props, each naming its prop; empty when the service can be built. */
export function workerProblems(props: DjangoWorkerServiceProps, r: ResolvedWorker): Problem[] {
  return [
    ...r.rendered.problems,
    ...fargateSizeProblems(r.cpu, r.memoryLimitMiB),
    ...settingsProblems({ environment: props.environment, secrets: props.secrets }),
    ...dataTierProblems(props),
    ...brokerProblems(props, r),
    ...scalingProblems(props, r),
    ...stopProblems(r),
  ];
}
