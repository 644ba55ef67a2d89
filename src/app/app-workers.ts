import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { IDjangoCache } from '../data/cache';
import { IDjangoDatabase } from '../data/database';
import { DjangoStaticFiles } from '../data/static-site';
import { throwIfProblems } from '../errors';
import { Problem } from '../problems';
import { DjangoServiceBase } from '../services/service-base';
import { StaticFiles } from '../static-files';
import { taskQueueProblems, DjangoTaskQueue, DjangoTaskQueueProps, TaskQueueEnv } from '../workers/task-queue';
import { WorkerCommand, WorkerCommandKind } from '../workers/worker-command';
import { DjangoWorkerCapacityOptions, DjangoWorkerServiceProps } from '../workers/worker-props';
import { resolveWorker, workerProblems } from '../workers/worker-resolve';
import { DjangoWorkerService } from '../workers/worker-service';

/** A worker service of a DjangoApp (DjangoWorkerService): its image, settings, secrets and data tier are the app's. */
export interface DjangoAppWorkerOptions extends DjangoWorkerCapacityOptions {
  /** The construct id of the service, unique among the app's workers (e.g. 'Celery', 'Beat'). */
  readonly id: string;
  /** What it runs: `WorkerCommand.celeryWorker()`, `WorkerCommand.celeryBeat()` or `WorkerCommand.of([...])`. */
  readonly command: WorkerCommand;
  /**
   * Environment for this worker only, beside the app's.
   * @default - none
   */
  readonly environment?: { [name: string]: string };
}

/** What DjangoApp hands its workers. @internal */
export interface AppWorkersContext {
  readonly image: ecs.ContainerImage;
  readonly cluster: ecs.ICluster;
  readonly httpService: DjangoServiceBase;
  readonly settingsModule?: string;
  readonly environment?: { [name: string]: string };
  readonly secrets?: { [name: string]: ecs.Secret };
  readonly database?: IDjangoDatabase;
  readonly cache?: IDjangoCache;
  readonly taskQueue?: DjangoTaskQueue;
  readonly staticSite?: DjangoStaticFiles;
  readonly staticFiles?: StaticFiles;
  readonly logRetention?: logs.RetentionDays;
  readonly alarms: boolean;
  readonly alarmTopic?: sns.ITopic;
}

/** Whether any worker runs Celery (which needs a broker). */
export function workersUseCelery(workers: readonly DjangoAppWorkerOptions[] = []): boolean {
  return workers.some((w) => w.command.kind !== WorkerCommandKind.CUSTOM);
}

/** Problems of the workers and task queue options that need nothing built to tell, named by DjangoApp's props. */
export function appWorkersProblems(workers: readonly DjangoAppWorkerOptions[] = [], taskQueue?: DjangoTaskQueueProps, cacheOff?: boolean,
  environment: { [name: string]: string } = {}): Problem[] {
  const problems: Problem[] = [];
  if (taskQueue) {
    for (const k of Object.keys(environment).filter((n) => (Object.values(TaskQueueEnv) as string[]).includes(n))) {
      problems.push({ prop: 'environment', message: `${k} is set from taskQueue; remove it from environment` });
    }
    for (const k of ['alarms', 'alarmTopic'] as const) {
      if (taskQueue[k] !== undefined) problems.push({ prop: `taskQueue.${k}`, message: 'the app\'s alarms option decides (alarms.enabled, alarms.topic); remove it' });
    }
  }
  const ids = workers.map((w) => w.id);
  workers.forEach((w, i) => {
    if (!/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(w.id ?? '')) {
      problems.push({ prop: `workers[${i}].id`, message: `'${w.id}' is not a construct id of letters and digits starting with a letter (e.g. 'Celery')` });
    } else if (ids.indexOf(w.id) !== i) {
      problems.push({ prop: `workers[${i}].id`, message: `'${w.id}' is the id of another worker; give each worker its own` });
    }
  });
  if (workers.filter((w) => w.command.kind === WorkerCommandKind.CELERY_BEAT).length > 1) {
    problems.push({ prop: 'workers', message: 'more than one Celery beat would send every periodic task more than once; keep one' });
  }
  if (taskQueue) problems.push(...taskQueueProblems(taskQueue).map((p) => ({ prop: `taskQueue.${p.prop}`, message: p.message })));
  if (cacheOff && !taskQueue && workersUseCelery(workers)) {
    problems.push({ prop: 'cacheOptions', message: 'the Celery workers need a broker: leave the cache on (Redis) or give taskQueue (SQS)' });
  }
  return problems;
}

/** Builds the app's worker services, each validated under `workers[i].` before anything is created. */
export function createAppWorkers(scope: Construct, workers: readonly DjangoAppWorkerOptions[], ctx: AppWorkersContext): DjangoWorkerService[] {
  if (workers.length === 0) return [];
  const http = ctx.httpService;
  const all = workers.map((w): DjangoWorkerServiceProps => ({
    image: ctx.image,
    cluster: ctx.cluster,
    command: w.command,
    secretKey: http.secretKey,
    settingsModule: ctx.settingsModule,
    allowedHosts: http.allowedHosts,
    // The CDN's STATIC_URL, as the web containers have it (the app-served default sets none).
    staticFiles: ctx.staticFiles,
    environment: { ...ctx.environment, ...w.environment },
    secrets: ctx.secrets,
    database: ctx.database,
    cache: ctx.cache,
    taskQueue: ctx.taskQueue,
    cpu: w.cpu,
    memoryLimitMiB: w.memoryLimitMiB,
    cpuArchitecture: w.cpuArchitecture,
    spot: w.spot,
    minTasks: w.minTasks,
    maxTasks: w.maxTasks,
    scaleOutQueueDepth: w.scaleOutQueueDepth,
    targetCpuUtilization: w.targetCpuUtilization,
    stopTimeout: w.stopTimeout,
    logRetention: ctx.logRetention,
    alarms: ctx.alarms,
    alarmTopic: ctx.alarmTopic,
  }));
  throwIfProblems(scope, all.flatMap((p, i) => workerProblems(p, resolveWorker(p)).map((x) => ({ prop: `workers[${i}].${x.prop}`, message: x.message }))));
  const group = new Construct(scope, 'Workers');
  return all.map((p, i) => {
    const worker = new DjangoWorkerService(group, workers[i].id, p);
    ctx.staticSite?.mediaBucket && ctx.staticSite.grantReadWriteMedia(worker.taskDefinition.taskRole);
    return worker;
  });
}

