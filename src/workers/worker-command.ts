import { Duration } from 'aws-cdk-lib';
import { Problem } from '../errors';
import {
  CELERY_DEFAULT_QUEUE, CeleryPool, celeryBeatProblems, celeryWorkerProblems, defaultCeleryConcurrency,
  renderCeleryBeatArgv, renderCeleryWorkerArgv,
} from './celery';
import { secondsOf } from '../services/validation';

/** What a worker service runs. */
export enum WorkerCommandKind {
  /** `celery worker`: consumes the queues, scales on their depth. */
  CELERY_WORKER = 'celery-worker',
  /** `celery beat`: the periodic task scheduler, exactly one task. */
  CELERY_BEAT = 'celery-beat',
  /** Any other long-running command. */
  CUSTOM = 'custom',
}

/** Options of a Celery worker (`WorkerCommand.celeryWorker`). */
export interface CeleryWorkerOptions {
  /**
   * The Celery application (`celery --app`), e.g. `config` for `config/celery.py` with `app = Celery(...)`.
   * @default - the package of `settingsModule` (`config` for `config.settings`), else 'config'
   */
  readonly app?: string;
  /**
   * The queues this worker consumes (with an SQS broker, each must be one of the task queue's names).
   * @default ['celery']
   */
  readonly queues?: string[];
  /**
   * The pool running the tasks.
   * @default CeleryPool.PREFORK
   */
  readonly pool?: CeleryPool;
  /**
   * Tasks run at once (processes, or threads).
   * @default - 2 per vCPU of the task, at least 2 (1 with CeleryPool.SOLO)
   */
  readonly concurrency?: number;
  /**
   * Messages each pool slot reserves ahead of time. 1 suits tasks of a second or more: a long task never
   * holds reserved messages that idle workers could run.
   * @default 1
   */
  readonly prefetchMultiplier?: number;
  /**
   * When a task gets SoftTimeLimitExceeded. The stop timeout must be longer (ECS allows at most 120 s), so a
   * task running at SIGTERM finishes in the warm shutdown; split longer work into chained tasks.
   * @default Duration.seconds(60)
   */
  readonly softTimeLimit?: Duration;
  /**
   * When a task's process is killed; longer than softTimeLimit.
   * @default - softTimeLimit + 30 seconds
   */
  readonly timeLimit?: Duration;
  /**
   * Tasks a prefork process runs before it is replaced (0: never).
   * @default 1000
   */
  readonly maxTasksPerChild?: number;
  /**
   * Log level.
   * @default 'INFO'
   */
  readonly logLevel?: string;
  /**
   * Extra flags appended verbatim.
   * @default - none
   */
  readonly extraArgs?: string[];
}

/** Options of Celery beat (`WorkerCommand.celeryBeat`). */
export interface CeleryBeatOptions {
  /**
   * The Celery application (`celery --app`).
   * @default - the package of `settingsModule`, else 'config'
   */
  readonly app?: string;
  /**
   * The scheduler class, e.g. `django_celery_beat.schedulers:DatabaseScheduler` (schedules in the database).
   * @default - Celery's file scheduler, its file in /tmp
   */
  readonly scheduler?: string;
  /**
   * Log level.
   * @default 'INFO'
   */
  readonly logLevel?: string;
  /**
   * Extra flags appended verbatim.
   * @default - none
   */
  readonly extraArgs?: string[];
}

/** Options of any other command (`WorkerCommand.of`). */
export interface WorkerCommandOptions {
  /**
   * Run exactly one task, never two, also during a deploy (a scheduler, a single consumer).
   * @default false
   */
  readonly singleton?: boolean;
  /**
   * How long the command needs after SIGTERM to finish its work; the stop timeout must be longer.
   * @default Duration.seconds(20)
   */
  readonly gracefulStop?: Duration;
}

/** What the worker construct tells the command about where it runs. @internal */
export interface WorkerContext {
  readonly vcpu: number;
  /** The package of the settings module (or the default app). */
  readonly defaultApp: string;
}

/** A rendered worker command. @internal */
export interface RenderedWorkerCommand {
  readonly command: string[];
  readonly problems: Problem[];
  /** Seconds the command may still need after SIGTERM (the soft time limit of a Celery worker). */
  readonly gracefulStopSeconds: number;
  /** The prop that sets gracefulStopSeconds, for messages. */
  readonly gracefulStopProp: string;
  /** Seconds after which a Celery task is killed. */
  readonly hardLimitSeconds?: number;
  readonly queues: string[];
}

/**
 * The long-running command of a DjangoWorkerService: a Celery worker, Celery beat, or any command.
 * The command is the container's whole command line (no shell), so the stop signal reaches it.
 */
export class WorkerCommand {
  /** A Celery worker: warm shutdown on SIGTERM, time limits, no gossip/mingle/heartbeat chatter. */
  public static celeryWorker(options: CeleryWorkerOptions = {}): WorkerCommand {
    return new WorkerCommand(WorkerCommandKind.CELERY_WORKER, false, options, undefined, {});
  }

  /** Celery beat: always exactly one task (stopped before its replacement starts). */
  public static celeryBeat(options: CeleryBeatOptions = {}): WorkerCommand {
    return new WorkerCommand(WorkerCommandKind.CELERY_BEAT, true, {}, options, {});
  }

  /** Any long-running command, e.g. `['python', 'manage.py', 'rqworker']`. */
  public static of(command: string[], options: WorkerCommandOptions = {}): WorkerCommand {
    return new WorkerCommand(WorkerCommandKind.CUSTOM, options.singleton ?? false, {}, undefined, options, command);
  }

  /** What kind of command this is. */
  public readonly kind: WorkerCommandKind;
  /** Whether the service runs exactly one task, never two. */
  public readonly singleton: boolean;

  private constructor(
    kind: WorkerCommandKind,
    singleton: boolean,
    private readonly worker: CeleryWorkerOptions,
    private readonly beat: CeleryBeatOptions | undefined,
    private readonly custom: WorkerCommandOptions,
    private readonly argv?: string[],
  ) {
    this.kind = kind;
    this.singleton = singleton;
  }

  /** @internal */
  public _render(ctx: WorkerContext): RenderedWorkerCommand {
    if (this.kind === WorkerCommandKind.CELERY_WORKER) return this.renderWorker(ctx);
    if (this.kind === WorkerCommandKind.CELERY_BEAT) {
      const b = this.beat ?? {};
      const config = { app: b.app ?? ctx.defaultApp, scheduler: b.scheduler, logLevel: b.logLevel ?? 'INFO', extraArgs: b.extraArgs };
      const problems = celeryBeatProblems(config);
      // Beat only sends messages; on SIGTERM it saves its schedule and exits at once.
      return { command: problems.length ? [] : renderCeleryBeatArgv(config), problems, gracefulStopSeconds: 5, gracefulStopProp: 'stopTimeout', queues: [] };
    }
    const argv = this.argv ?? [];
    const problems: Problem[] = argv.length === 0 || argv.some((a) => typeof a !== 'string')
      ? [{ prop: 'command', message: 'give the command line as a non-empty list of strings, e.g. [\'python\', \'manage.py\', \'rqworker\']' }] : [];
    return { command: argv, problems, gracefulStopSeconds: secondsOf(this.custom.gracefulStop, 20), gracefulStopProp: 'gracefulStop', queues: [] };
  }

  private renderWorker(ctx: WorkerContext): RenderedWorkerCommand {
    const w = this.worker;
    const pool = w.pool ?? CeleryPool.PREFORK;
    const soft = secondsOf(w.softTimeLimit, 60);
    const config = {
      app: w.app ?? ctx.defaultApp,
      pool,
      concurrency: w.concurrency ?? (pool === CeleryPool.SOLO ? 1 : defaultCeleryConcurrency(ctx.vcpu)),
      prefetchMultiplier: w.prefetchMultiplier ?? 1,
      softTimeLimitSeconds: soft,
      timeLimitSeconds: secondsOf(w.timeLimit, soft + 30),
      maxTasksPerChild: w.maxTasksPerChild ?? 1000,
      queues: w.queues ?? [CELERY_DEFAULT_QUEUE],
      logLevel: w.logLevel ?? 'INFO',
      extraArgs: w.extraArgs,
    };
    const problems = celeryWorkerProblems(config);
    return {
      command: problems.length ? [] : renderCeleryWorkerArgv(config),
      problems,
      gracefulStopSeconds: config.softTimeLimitSeconds,
      gracefulStopProp: 'softTimeLimit',
      hardLimitSeconds: config.timeLimitSeconds,
      queues: [...config.queues],
    };
  }
}
