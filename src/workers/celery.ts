import { Problem, RenderError } from '../errors';

/** The pool that runs a Celery worker's tasks. */
export enum CeleryPool {
  /** Child processes (Celery's default): CPU-bound and blocking tasks, one task per process. */
  PREFORK = 'prefork',
  /** Threads in one process: I/O-bound tasks that release the GIL. */
  THREADS = 'threads',
  /** One task at a time in the main process: debugging, or one task per container. */
  SOLO = 'solo',
}

/** Everything a Celery worker command line is rendered from. Pure data. */
export interface CeleryWorkerConfig {
  /** The Celery application (`-A`), e.g. `config` for `config/celery.py`. */
  readonly app: string;
  readonly pool: CeleryPool;
  /** Processes (prefork) or threads that run tasks at once. */
  readonly concurrency: number;
  /** Messages each pool slot reserves ahead; 1 keeps long tasks from starving on one worker. */
  readonly prefetchMultiplier: number;
  /** Seconds after which a task gets SoftTimeLimitExceeded (it can clean up). */
  readonly softTimeLimitSeconds: number;
  /** Seconds after which a task's process is killed. */
  readonly timeLimitSeconds: number;
  /** Tasks a pool process runs before it is replaced (0: never), which bounds slow memory leaks. */
  readonly maxTasksPerChild: number;
  /** Queues to consume. */
  readonly queues: readonly string[];
  readonly logLevel: string;
  /** Extra flags appended verbatim, for options this library does not model. */
  readonly extraArgs?: readonly string[];
}

/** Everything a Celery beat command line is rendered from. Pure data. */
export interface CeleryBeatConfig {
  /** The Celery application (`-A`). */
  readonly app: string;
  /** The scheduler class, e.g. `django_celery_beat.schedulers:DatabaseScheduler`. */
  readonly scheduler?: string;
  readonly logLevel: string;
  /** Extra flags appended verbatim. */
  readonly extraArgs?: readonly string[];
}

/** Celery's own default queue name. */
export const CELERY_DEFAULT_QUEUE = 'celery';

/**
 * Default concurrency for a task size: two pool slots per vCPU (Django tasks mostly wait on the
 * database, the cache and HTTP), at least 2 so one slow task never stops the worker.
 */
export function defaultCeleryConcurrency(vcpu: number): number {
  return Math.max(2, Math.round(2 * vcpu));
}

const LOG_LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];
const APP = /^[A-Za-z_][\w.]*(:[A-Za-z_]\w*)?$/;
/** Names SQS accepts too (letters, digits, - and _), so one name works on either broker. */
const QUEUE = /^[A-Za-z0-9_-]{1,80}$/;

function isPositiveInt(n: number): boolean {
  return Number.isInteger(n) && n > 0;
}

function appProblems(app: string): Problem[] {
  return APP.test(app) ? [] : [{ prop: 'app', message: `'${app}' is not a Celery app to import (e.g. 'config' for config/celery.py, or 'config.celery:app')` }];
}

function logLevelProblems(level: string): Problem[] {
  return LOG_LEVELS.includes(level) ? [] : [{ prop: 'logLevel', message: `must be one of ${LOG_LEVELS.join(', ')}, got '${level}'` }];
}

/** Everything wrong with a worker config, as problems naming the prop to change. */
export function celeryWorkerProblems(c: CeleryWorkerConfig): Problem[] {
  const problems: Problem[] = [...appProblems(c.app), ...logLevelProblems(c.logLevel)];
  if (!isPositiveInt(c.concurrency) || c.concurrency > 256) {
    problems.push({ prop: 'concurrency', message: `must be a whole number from 1 to 256, got ${c.concurrency}` });
  }
  if (c.pool === CeleryPool.SOLO && c.concurrency !== 1) {
    problems.push({ prop: 'concurrency', message: `the solo pool runs one task at a time; remove concurrency or choose CeleryPool.PREFORK (got ${c.concurrency})` });
  }
  if (!isPositiveInt(c.prefetchMultiplier)) {
    problems.push({ prop: 'prefetchMultiplier', message: `must be a whole number >= 1, got ${c.prefetchMultiplier}` });
  }
  if (!isPositiveInt(c.softTimeLimitSeconds)) {
    problems.push({ prop: 'softTimeLimit', message: `must be a whole number of seconds >= 1, got ${c.softTimeLimitSeconds}` });
  }
  if (!isPositiveInt(c.timeLimitSeconds)) {
    problems.push({ prop: 'timeLimit', message: `must be a whole number of seconds >= 1, got ${c.timeLimitSeconds}` });
  } else if (c.timeLimitSeconds <= c.softTimeLimitSeconds) {
    problems.push({ prop: 'timeLimit', message: `(${c.timeLimitSeconds} s) must be longer than softTimeLimit (${c.softTimeLimitSeconds} s), so a task can clean up after SoftTimeLimitExceeded before it is killed` });
  }
  if (!Number.isInteger(c.maxTasksPerChild) || c.maxTasksPerChild < 0) {
    problems.push({ prop: 'maxTasksPerChild', message: `must be a whole number >= 0 (0 never replaces a process), got ${c.maxTasksPerChild}` });
  }
  if (c.queues.length === 0) {
    problems.push({ prop: 'queues', message: `give at least one queue (Celery's default is '${CELERY_DEFAULT_QUEUE}')` });
  }
  for (const q of c.queues) {
    if (!QUEUE.test(q)) problems.push({ prop: 'queues', message: `'${q}' is not a queue name both brokers accept (letters, digits, - and _, up to 80)` });
  }
  return problems;
}

/** Everything wrong with a beat config. */
export function celeryBeatProblems(c: CeleryBeatConfig): Problem[] {
  const problems = [...appProblems(c.app), ...logLevelProblems(c.logLevel)];
  if (c.scheduler !== undefined && !/^[A-Za-z_][\w.]*(:[A-Za-z_]\w*)?$/.test(c.scheduler)) {
    problems.push({ prop: 'scheduler', message: `'${c.scheduler}' is not a scheduler class (e.g. 'django_celery_beat.schedulers:DatabaseScheduler')` });
  }
  return problems;
}

/**
 * Renders the Celery worker argv. The container runs exactly this (Celery is PID 1, so SIGTERM from ECS
 * reaches it and starts a warm shutdown: no new tasks, running ones finish), and the integration suite
 * runs the same argv with a real Celery.
 */
export function renderCeleryWorkerArgv(c: CeleryWorkerConfig): string[] {
  const problems = celeryWorkerProblems(c);
  if (problems.length > 0) throw new RenderError(problems);
  const argv = [
    'celery', `--app=${c.app}`, 'worker',
    `--loglevel=${c.logLevel}`,
    `--pool=${c.pool}`,
    `--concurrency=${c.concurrency}`,
    `--prefetch-multiplier=${c.prefetchMultiplier}`,
    `--soft-time-limit=${c.softTimeLimitSeconds}`,
    `--time-limit=${c.timeLimitSeconds}`,
    `--queues=${c.queues.join(',')}`,
    // Each task is its own node: the name tells the log lines of two tasks apart.
    '--hostname=worker@%h',
    // Gossip, mingle and event heartbeats are worker-to-worker chatter over the broker's fanout
    // (which SQS lacks): on a fleet that scales they cost broker traffic and slow start-up, for nothing.
    '--without-gossip',
    '--without-mingle',
    '--without-heartbeat',
  ];
  if (c.pool === CeleryPool.PREFORK && c.maxTasksPerChild > 0) argv.push(`--max-tasks-per-child=${c.maxTasksPerChild}`);
  argv.push(...(c.extraArgs ?? []));
  return argv;
}

/**
 * Renders the Celery beat argv. Its schedule file goes to /tmp: the image's working directory is
 * usually not writable by its user (and a container's disk does not outlive it anyway).
 */
export function renderCeleryBeatArgv(c: CeleryBeatConfig): string[] {
  const problems = celeryBeatProblems(c);
  if (problems.length > 0) throw new RenderError(problems);
  const argv = ['celery', `--app=${c.app}`, 'beat', `--loglevel=${c.logLevel}`];
  argv.push(c.scheduler !== undefined ? `--scheduler=${c.scheduler}` : '--schedule=/tmp/celerybeat-schedule');
  argv.push('--pidfile=');
  argv.push(...(c.extraArgs ?? []));
  return argv;
}
