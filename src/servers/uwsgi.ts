import { isWholeNumber } from '../numbers';
import { Problem, RenderError } from '../problems';

/** uWSGI's algorithms for adaptive process spawning ("cheaper" mode) built into the core. */
export enum UwsgiCheaperAlgorithm {
  /** Keep a few idle workers ready; spawn more when all are busy (uWSGI's default). */
  SPARE = 'spare',
  /** Spawn when requests queue up in the listen backlog (Linux only). */
  BACKLOG = 'backlog',
}

export interface UwsgiCacheConfig { readonly name: string; readonly items: number; readonly blockSize: number }
export interface UwsgiCheaperConfig {
  readonly algorithm: UwsgiCheaperAlgorithm;
  readonly min: number;
  readonly initial: number;
  readonly step: number;
}

/** Everything uwsgi.ini is rendered from. Pure data. */
export interface UwsgiConfig {
  /** `module:callable` of the WSGI application. */
  readonly appModule: string;
  /** `uwsgi` socket for Nginx uwsgi_pass / Apache mod_proxy_uwsgi; `http` for uWSGI's own HTTP facing the ALB. */
  readonly protocol: 'uwsgi' | 'http';
  readonly bindHost: string;
  readonly bindPort: number;
  /** Loopback HTTP port for the container health check (protocol `uwsgi` only). */
  readonly healthCheckPort?: number;
  readonly processes: number;
  readonly threads: number;
  readonly harakiriSeconds: number;
  readonly maxRequests?: number;
  /** Jitter for maxRequests. `max-requests-delta` needs uWSGI >= 2.0.29 (2.0.22 rejects it under strict, measured). */
  readonly maxRequestsDelta?: number;
  readonly reloadOnRssMiB?: number;
  readonly bufferSize: number;
  readonly postBuffering: number;
  readonly lazyApps: boolean;
  readonly cheaper?: UwsgiCheaperConfig;
  readonly cache?: UwsgiCacheConfig;
  /** Idle keep-alive of the HTTP socket towards the ALB (protocol `http` only). */
  readonly httpKeepAliveSeconds?: number;
  readonly extraOptions?: Readonly<Record<string, string>>;
}

/** Options the renderer owns; extraOptions may not override them (strict mode would also reject duplicates silently). */
const OWNED = new Set([
  'strict', 'master', 'module', 'socket', 'http-socket', 'http11-socket', 'processes', 'workers', 'threads',
  'enable-threads', 'single-interpreter', 'need-app', 'vacuum', 'die-on-term', 'hook-master-start', 'harakiri',
  'max-requests', 'max-requests-delta', 'reload-on-rss', 'buffer-size', 'post-buffering', 'lazy-apps',
  'cheaper', 'cheaper-algo', 'cheaper-initial', 'cheaper-step', 'cache2', 'http', 'http-timeout', 'http-keepalive', 'http-auto-chunked',
  'worker-reload-mercy', 'harakiri-verbose', 'uwsgi-socket', 'wsgi', 'wsgi-file', 'ini',
]);

export function uwsgiProblems(c: UwsgiConfig): Problem[] {
  const problems: Problem[] = [];
  const bad = (prop: string, message: string) => problems.push({ prop, message });
  if (!/^[A-Za-z_][\w.]*:[A-Za-z_]\w*$/.test(c.appModule)) bad('wsgiModule', `'${c.appModule}' is not 'package.module:callable' (e.g. 'mysite.wsgi:application')`);
  if (!isWholeNumber(c.processes, 1, 512)) bad('processes', `must be a whole number from 1 to 512, got ${c.processes}`);
  if (!isWholeNumber(c.threads, 1, 1000)) bad('threads', `must be a whole number from 1 to 1000, got ${c.threads}`);
  if (!isWholeNumber(c.harakiriSeconds, 1)) bad('workerTimeout', `harakiri must be a whole number of seconds >= 1, got ${c.harakiriSeconds}`);
  if (c.maxRequests !== undefined && !isWholeNumber(c.maxRequests, 1)) bad('maxRequests', `must be a whole number >= 1 (leave it unset for no recycling), got ${c.maxRequests}`);
  if (c.maxRequestsDelta !== undefined) {
    if (c.maxRequests === undefined) bad('maxRequestsDelta', 'only applies with maxRequests; set maxRequests too');
    else if (!isWholeNumber(c.maxRequestsDelta, 1)) bad('maxRequestsDelta', `must be a whole number >= 1, got ${c.maxRequestsDelta}`);
  }
  if (c.reloadOnRssMiB !== undefined && !isWholeNumber(c.reloadOnRssMiB, 16)) bad('reloadOnRssMiB', `must be a whole number of MiB >= 16, got ${c.reloadOnRssMiB}`);
  if (!isWholeNumber(c.bufferSize, 4096, 65535)) bad('bufferSize', `must be a whole number of bytes from 4096 to 65535, got ${c.bufferSize}`);
  if (!isWholeNumber(c.postBuffering, 1)) bad('postBuffering', `must be a whole number of bytes >= 1, got ${c.postBuffering}`);
  if (c.cheaper) {
    const { min, initial, step } = c.cheaper;
    if (!isWholeNumber(min, 1) || min >= c.processes) bad('cheaper.min', `must be a whole number from 1 to below processes (${c.processes}), got ${min}`);
    if (!isWholeNumber(initial, 1) || initial < min || initial > c.processes) bad('cheaper.initial', `must be from cheaper.min (${min}) to processes (${c.processes}), got ${initial}`);
    if (!isWholeNumber(step, 1)) bad('cheaper.step', `must be a whole number >= 1, got ${step}`);
  }
  if (c.cache) {
    if (!/^[A-Za-z0-9_-]+$/.test(c.cache.name)) bad('cache.name', `must be letters, digits, '-' or '_', got '${c.cache.name}'`);
    if (!isWholeNumber(c.cache.items, 1)) bad('cache.items', `must be a whole number >= 1, got ${c.cache.items}`);
    if (!isWholeNumber(c.cache.blockSize, 1)) bad('cache.blockSize', `must be a whole number of bytes >= 1, got ${c.cache.blockSize}`);
  }
  if (c.httpKeepAliveSeconds !== undefined && !isWholeNumber(c.httpKeepAliveSeconds, 1)) bad('httpKeepAlive', `must be a whole number of seconds >= 1, got ${c.httpKeepAliveSeconds}`);
  if (!isWholeNumber(c.bindPort, 1, 65535)) bad('port', `must be a TCP port, got ${c.bindPort}`);
  for (const [key, value] of Object.entries(c.extraOptions ?? {})) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(key)) bad('extraOptions', `'${key}' is not a uWSGI option name`);
    else if (OWNED.has(key)) bad('extraOptions', `'${key}' is set by the construct; use its prop instead`);
    if (/[\r\n]/.test(value)) bad('extraOptions', `the value of '${key}' must be one line`);
  }
  return problems;
}

/**
 * Renders uwsgi.ini. The container writes exactly this text to a file at start, and the integration
 * tests run it with a real uWSGI installed with pip, as in the image (python and http built in, so the
 * ini names no plugins).
 */
export function renderUwsgiIni(c: UwsgiConfig): string {
  const problems = uwsgiProblems(c);
  if (problems.length > 0) throw new RenderError(problems);
  const o: Array<[string, string | number]> = [
    // An option this uWSGI does not know aborts start-up instead of being ignored.
    ['strict', 'true'],
    ['master', 'true'],
    ['module', c.appModule],
  ];
  if (c.protocol === 'uwsgi') {
    o.push(['socket', `${c.bindHost}:${c.bindPort}`]);
    if (c.healthCheckPort !== undefined) o.push(['http-socket', `127.0.0.1:${c.healthCheckPort}`]);
  } else {
    // uWSGI's HTTP router, not an http11-socket (measured on 2.0.31 as on 2.0.21): an http11-socket
    // sends a response without Content-Length (a Django redirect) with neither chunking nor a close, so
    // the client hangs until the socket times out, and each idle keep-alive connection holds a worker
    // thread, so the ALB's idle connections starve the workers. The router keeps idle connections
    // cheaply, closes those it cannot frame, and finishes in-flight requests on SIGTERM (2.0.29+);
    // http-timeout (its idle timeout) must outlast the ALB idle timeout.
    o.push(
      ['http', `${c.bindHost}:${c.bindPort}`],
      ['http-keepalive', 1],
      ['http-auto-chunked', 'true'],
      ['http-timeout', c.httpKeepAliveSeconds ?? 75],
    );
  }
  o.push(
    ['processes', c.processes],
    ['threads', c.threads],
    ['enable-threads', 'true'],
    ['single-interpreter', 'true'],
    ['need-app', 'true'],
    ['vacuum', 'true'],
    // SIGTERM (ECS stop) drains in-flight requests instead of uWSGI's default brutal reload.
    ['die-on-term', 'true'],
    ['hook-master-start', 'unix_signal:15 gracefully_kill_them_all'],
    ['worker-reload-mercy', c.harakiriSeconds],
    ['harakiri', c.harakiriSeconds],
    ['harakiri-verbose', 'true'],
  );
  if (c.maxRequests !== undefined) o.push(['max-requests', c.maxRequests]);
  if (c.maxRequestsDelta !== undefined) o.push(['max-requests-delta', c.maxRequestsDelta]);
  if (c.reloadOnRssMiB !== undefined) o.push(['reload-on-rss', c.reloadOnRssMiB]);
  // Large cookies: the 4 KiB default answers 502 (invalid request block size).
  o.push(['buffer-size', c.bufferSize], ['post-buffering', c.postBuffering]);
  if (c.lazyApps) o.push(['lazy-apps', 'true']);
  if (c.cheaper) {
    o.push(
      ['cheaper-algo', c.cheaper.algorithm],
      ['cheaper', c.cheaper.min],
      ['cheaper-initial', c.cheaper.initial],
      ['cheaper-step', c.cheaper.step],
    );
  }
  if (c.cache) o.push(['cache2', `name=${c.cache.name},items=${c.cache.items},blocksize=${c.cache.blockSize}`]);
  o.push(...Object.entries(c.extraOptions ?? {}));
  return ['# Rendered by cdk-django. Edit the construct props, not this file.', '[uwsgi]', ...o.map(([k, v]) => `${k} = ${v}`), ''].join('\n');
}

/**
 * The container's start script: write the ini from an environment variable (never named UWSGI_*:
 * uWSGI reads every UWSGI_<OPTION> variable as an option), then exec uWSGI so it is PID 1 and
 * receives SIGTERM itself.
 */
export function uwsgiStartScript(configEnvVar: string, iniPath: string): string {
  if (/^UWSGI_/i.test(configEnvVar)) throw new RenderError([{ prop: 'configEnvVar', message: 'must not start with UWSGI_' }]);
  return `printf '%s' "$${configEnvVar}" > ${iniPath} && exec uwsgi --ini ${iniPath}`;
}
