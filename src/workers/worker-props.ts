import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { IDjangoCache } from '../data/cache';
import { IDjangoDatabase } from '../data/database';
import { StaticFiles } from '../static-files';
import { DjangoTaskQueue } from './task-queue';
import { WorkerCommand } from './worker-command';

/** The size, capacity, scaling and shutdown of a worker service: the same on DjangoWorkerService and a DjangoApp's `workers`. */
export interface DjangoWorkerCapacityOptions {
  /**
   * Task CPU units (256 to 16384). The Celery concurrency derives from it.
   * @default 512
   */
  readonly cpu?: number;
  /**
   * Task memory in MiB, valid for `cpu`.
   * @default 1024
   */
  readonly memoryLimitMiB?: number;
  /**
   * The CPU architecture of the task; the image must be built for it.
   * @default ecs.CpuArchitecture.X86_64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;
  /**
   * Run on Fargate Spot (up to 70% cheaper; a task can be reclaimed with two minutes' notice, which the warm
   * shutdown within `stopTimeout` absorbs). An `ecs.Cluster` of this app gets its Fargate capacity providers
   * turned on; an imported cluster must have them.
   * @default false
   */
  readonly spot?: boolean;
  /**
   * Fewest tasks. Not with a singleton command (beat), which runs exactly one.
   * @default 1
   */
  readonly minTasks?: number;
  /**
   * Most tasks autoscaling may run.
   * @default - 4 x minTasks
   */
  readonly maxTasks?: number;
  /**
   * With an SQS broker: the number of waiting messages at which a task is added (5 times it adds 3 at once);
   * an empty queue removes one.
   * @default 10
   */
  readonly scaleOutQueueDepth?: number;
  /**
   * With the Redis broker (whose queue length CloudWatch cannot see): the average CPU utilization
   * autoscaling keeps the tasks at.
   * @default 60
   */
  readonly targetCpuUtilization?: number;
  /**
   * How long ECS waits after SIGTERM before it kills the container: longer than the Celery soft time limit
   * (the warm shutdown lets running tasks finish), at most 120 s.
   * @default - Celery worker: timeLimit + 10 s, at most 120 s; beat: 30 s; other commands: gracefulStop + 10 s
   */
  readonly stopTimeout?: Duration;
}

/** Props of DjangoWorkerService. */
export interface DjangoWorkerServiceProps extends DjangoWorkerCapacityOptions {
  /** The Django app image, the same as the web service's. */
  readonly image: ecs.ContainerImage;
  /** The ECS cluster to run in (the web service's). */
  readonly cluster: ecs.ICluster;
  /** What the service runs: `WorkerCommand.celeryWorker()`, `WorkerCommand.celeryBeat()` or `WorkerCommand.of([...])`. */
  readonly command: WorkerCommand;
  /** The secret holding Django's SECRET_KEY: the web service's (`service.secretKey`), so signed values agree. */
  readonly secretKey: secretsmanager.ISecret;
  /**
   * `DJANGO_SETTINGS_MODULE` for the container; its package is the default Celery app.
   * @default - not set: the image's own environment applies
   */
  readonly settingsModule?: string;
  /**
   * The web service's host names (`DJANGO_ALLOWED_HOSTS`), for settings that read them (absolute URLs in e-mails).
   * @default - not set: the settings' local fallback applies
   */
  readonly allowedHosts?: string[];
  /**
   * Where static files come from, as the web service has it (`DJANGO_STATIC_URL` for templates the tasks render).
   * @default StaticFiles.appServed()
   */
  readonly staticFiles?: StaticFiles;
  /**
   * Extra environment variables (not secrets: use `secrets`).
   * @default - none
   */
  readonly environment?: { [name: string]: string };
  /**
   * Extra secrets, resolved by ECS at start.
   * @default - none
   */
  readonly secrets?: { [name: string]: ecs.Secret };
  /**
   * The database: its settings in the container, the service admitted on its port, and the service starts once it is ready.
   * @default - no database
   */
  readonly database?: IDjangoDatabase;
  /**
   * The cache: its settings (`REDIS_URL`, `REDIS_PASSWORD`) in the container and the service admitted on its
   * port. Without `taskQueue` it is the Celery broker.
   * @default - no cache
   */
  readonly cache?: IDjangoCache;
  /**
   * SQS queues as the Celery broker instead of the cache: their settings in the container, rights to consume,
   * scaling on queue depth.
   * @default - the cache is the broker
   */
  readonly taskQueue?: DjangoTaskQueue;
  /**
   * Subnets of the tasks.
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Retention of the container log group.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Create the alarms: fewer running tasks than the minimum for 5 minutes, and with the Redis broker, CPU above
   * 85% for 15 minutes (the workers cannot keep up).
   * @default true
   */
  readonly alarms?: boolean;
  /**
   * A topic for the alarms' ALARM and OK notifications.
   * @default - none: add actions with `addAlarmAction`
   */
  readonly alarmTopic?: sns.ITopic;
}
