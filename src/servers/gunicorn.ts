import { isWholeNumber } from '../numbers';
import { Problem, RenderError } from '../problems';

/**
 * Gunicorn worker classes.
 */
export enum GunicornWorkerClass {
  /** One request per process; the simplest, needs a buffering proxy in front. */
  SYNC = 'sync',
  /** Processes with a thread pool each; the default, good for typical Django views. */
  GTHREAD = 'gthread',
  /** Green threads (needs gevent in the image); for I/O-bound apps with many slow calls. */
  GEVENT = 'gevent',
  /** ASGI through uvicorn's Gunicorn worker (needs uvicorn in the image); for async views and WebSockets. */
  UVICORN = 'uvicorn',
  /**
   * ASGI through Gunicorn's own worker (Gunicorn 24 or newer, nothing else in the image); HTTP and
   * WebSockets. Measured beside UVICORN: about 12% more requests per second, the same p99 and drain.
   */
  ASGI = 'asgi',
}

/** Whether the worker class runs an ASGI application (asgiModule, WebSockets) instead of a WSGI one. */
export function isAsgiWorker(workerClass: GunicornWorkerClass): boolean {
  return workerClass === GunicornWorkerClass.UVICORN || workerClass === GunicornWorkerClass.ASGI;
}

/** Everything the Gunicorn command line is rendered from. Pure data. */
export interface GunicornConfig {
  /** `module:callable` of the WSGI (or, for the ASGI worker classes, ASGI) application. */
  readonly appModule: string;
  readonly bindHost: string;
  readonly bindPort: number;
  readonly workerClass: GunicornWorkerClass;
  readonly workers: number;
  /** gthread only. */
  readonly threads?: number;
  /** gevent only. */
  readonly workerConnections?: number;
  readonly timeoutSeconds: number;
  readonly gracefulTimeoutSeconds: number;
  readonly keepAliveSeconds: number;
  readonly maxRequests: number;
  readonly maxRequestsJitter: number;
  /** Comma-separated addresses whose X-Forwarded-* headers Gunicorn trusts. */
  readonly forwardedAllowIps: string;
  /** Extra flags appended verbatim, for options this library does not model. */
  readonly extraArgs?: readonly string[];
}

const WORKER_CLASS_ARG: Record<GunicornWorkerClass, string> = {
  [GunicornWorkerClass.SYNC]: 'sync',
  [GunicornWorkerClass.GTHREAD]: 'gthread',
  [GunicornWorkerClass.GEVENT]: 'gevent',
  [GunicornWorkerClass.UVICORN]: 'uvicorn.workers.UvicornWorker',
  [GunicornWorkerClass.ASGI]: 'asgi',
};

/**
 * Default worker processes for a task size: the classic 2 x vCPU + 1 for sync/gthread; async
 * workers multiplex connections, so one per vCPU is enough (at least 2, so a crash never empties the task).
 */
export function defaultGunicornWorkers(workerClass: GunicornWorkerClass, vcpu: number): number {
  if (workerClass === GunicornWorkerClass.GEVENT || isAsgiWorker(workerClass)) {
    return Math.max(2, Math.ceil(vcpu));
  }
  if (workerClass === GunicornWorkerClass.GTHREAD) {
    // Threads carry the concurrency; fewer processes contend less for the core (the mix profile at
    // 1 vCPU in benchmarks/RESULTS.md: 2 x 8 908 req/s, uWSGI 829, the earlier 3 x 4 472).
    return Math.max(2, Math.floor(vcpu) + 1);
  }
  return Math.max(2, Math.floor(2 * vcpu) + 1);
}

/** Default threads per process: only gthread uses threads. */
export function defaultGunicornThreads(workerClass: GunicornWorkerClass): number | undefined {
  return workerClass === GunicornWorkerClass.GTHREAD ? 8 : undefined;
}

/**
 * The flags the renderer sets, and the prop that changes each (undefined: fixed by the library). A copy
 * in extraArgs would win (argparse keeps the last value), bypass the validation (timeouts that nest,
 * workers the service reports) and make the service's fields wrong.
 */
const OWNED_FLAGS: Record<string, string | undefined> = {
  '--bind': undefined,
  '--worker-class': 'workerClass',
  '--workers': 'workers',
  '--threads': 'threads',
  '--worker-connections': 'workerConnections',
  '--timeout': 'workerTimeout',
  '--graceful-timeout': 'gracefulTimeout',
  '--keep-alive': 'keepAlive',
  '--max-requests': 'maxRequests',
  '--max-requests-jitter': 'maxRequestsJitter',
  '--worker-tmp-dir': undefined,
  '--limit-request-field_size': undefined,
  '--forwarded-allow-ips': undefined,
  '--access-logfile': undefined,
  '--error-logfile': undefined,
  '--log-file': undefined,
  '--capture-output': undefined,
};
const OWNED_SHORT: Record<string, string> = { '-b': '--bind', '-k': '--worker-class', '-w': '--workers', '-t': '--timeout' };

/** The owned flag an extra argument sets (exact, `--x=v`, `-xV`, or an abbreviation argparse would expand), if any. */
function ownedFlagOf(arg: string): string | undefined {
  if (!arg.startsWith('-') || /^-\d/.test(arg)) return undefined;
  if (!arg.startsWith('--')) return OWNED_SHORT[arg.slice(0, 2)];
  const name = arg.split('=')[0];
  if (name in OWNED_FLAGS) return name;
  // argparse accepts a unique prefix of a long option: '--work=3' may still mean --workers.
  return name.length > 3 ? Object.keys(OWNED_FLAGS).find((flag) => flag.startsWith(name)) : undefined;
}

function extraArgsProblems(args: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  for (const arg of args) {
    const flag = ownedFlagOf(arg);
    if (flag === undefined) continue;
    const prop = OWNED_FLAGS[flag];
    problems.push({
      prop: 'extraArgs',
      message: prop
        ? `'${arg}' overrides ${flag}; set ${prop} instead`
        : `'${arg}' overrides ${flag}, which the library fixes (the bind address and port the proxy or load balancer targets, logs to stdout, the worker heartbeat on /dev/shm); remove it`,
    });
  }
  return problems;
}

/** Everything wrong with a config, as problems naming the construct prop to change. */
export function gunicornProblems(c: GunicornConfig): Problem[] {
  const problems: Problem[] = [];
  if (!/^[A-Za-z_][\w.]*:[A-Za-z_]\w*(\(.*\))?$/.test(c.appModule)) {
    const [prop, kind] = isAsgiWorker(c.workerClass) ? ['asgiModule', 'asgi'] : ['wsgiModule', 'wsgi'];
    problems.push({ prop, message: `'${c.appModule}' is not 'package.module:callable' (e.g. 'mysite.${kind}:application')` });
  }
  if (!isWholeNumber(c.workers, 1) || c.workers > 256) {
    problems.push({ prop: 'workers', message: `must be a whole number from 1 to 256, got ${c.workers}` });
  }
  if (c.threads !== undefined) {
    if (c.workerClass !== GunicornWorkerClass.GTHREAD) {
      problems.push({ prop: 'threads', message: `only the gthread worker uses threads; remove threads or set workerClass to GTHREAD (got ${c.workerClass})` });
    } else if (!isWholeNumber(c.threads, 1) || c.threads > 1000) {
      problems.push({ prop: 'threads', message: `must be a whole number from 1 to 1000, got ${c.threads}` });
    }
  }
  if (c.workerConnections !== undefined) {
    if (c.workerClass !== GunicornWorkerClass.GEVENT) {
      problems.push({ prop: 'workerConnections', message: `only the gevent worker uses worker connections; remove it or set workerClass to GEVENT (got ${c.workerClass})` });
    } else if (!isWholeNumber(c.workerConnections, 1)) {
      problems.push({ prop: 'workerConnections', message: `must be a positive whole number, got ${c.workerConnections}` });
    }
  }
  if (!isWholeNumber(c.timeoutSeconds, 1)) {
    problems.push({ prop: 'workerTimeout', message: `must be a whole number of seconds >= 1, got ${c.timeoutSeconds}` });
  }
  if (!isWholeNumber(c.gracefulTimeoutSeconds, 1)) {
    problems.push({ prop: 'gracefulTimeout', message: `must be a whole number of seconds >= 1, got ${c.gracefulTimeoutSeconds}` });
  }
  if (!isWholeNumber(c.keepAliveSeconds, 1)) {
    problems.push({ prop: 'keepAlive', message: `must be a whole number of seconds >= 1, got ${c.keepAliveSeconds}` });
  }
  if (!Number.isInteger(c.maxRequests) || c.maxRequests < 0) {
    problems.push({ prop: 'maxRequests', message: `must be a whole number >= 0 (0 disables recycling), got ${c.maxRequests}` });
  }
  if (!Number.isInteger(c.maxRequestsJitter) || c.maxRequestsJitter < 0) {
    problems.push({ prop: 'maxRequestsJitter', message: `must be a whole number >= 0, got ${c.maxRequestsJitter}` });
  } else if (c.maxRequests > 0 && c.maxRequestsJitter === 0) {
    problems.push({ prop: 'maxRequestsJitter', message: 'a fixed max-requests restarts every worker at the same moment (large p99 tails); give a jitter > 0, e.g. a quarter of maxRequests' });
  }
  if (!isWholeNumber(c.bindPort, 1) || c.bindPort > 65535) {
    problems.push({ prop: 'port', message: `must be a TCP port from 1 to 65535, got ${c.bindPort}` });
  }
  problems.push(...extraArgsProblems(c.extraArgs ?? []));
  return problems;
}

/**
 * Renders the Gunicorn argv. The construct sets it as the app container's command, and the
 * integration tests run exactly this argv with a real Gunicorn.
 */
export function renderGunicornArgv(c: GunicornConfig): string[] {
  const problems = gunicornProblems(c);
  if (problems.length > 0) throw new RenderError(problems);
  const argv = [
    'gunicorn',
    c.appModule,
    `--bind=${c.bindHost}:${c.bindPort}`,
    `--worker-class=${WORKER_CLASS_ARG[c.workerClass]}`,
    `--workers=${c.workers}`,
  ];
  if (c.threads !== undefined) argv.push(`--threads=${c.threads}`);
  if (c.workerConnections !== undefined) argv.push(`--worker-connections=${c.workerConnections}`);
  argv.push(
    `--timeout=${c.timeoutSeconds}`,
    `--graceful-timeout=${c.gracefulTimeoutSeconds}`,
    `--keep-alive=${c.keepAliveSeconds}`,
    `--max-requests=${c.maxRequests}`,
    `--max-requests-jitter=${c.maxRequestsJitter}`,
    // The heartbeat file on a container's overlay disk can stall workers into timeouts.
    '--worker-tmp-dir=/dev/shm',
    // Gunicorn's 8190-byte header limit answers 400 to a 16 KB cookie (measured); the ALB allows 16 KB.
    '--limit-request-field_size=32768',
    `--forwarded-allow-ips=${c.forwardedAllowIps}`,
    '--access-logfile=-',
    '--error-logfile=-',
    '--capture-output',
  );
  argv.push(...(c.extraArgs ?? []));
  return argv;
}
