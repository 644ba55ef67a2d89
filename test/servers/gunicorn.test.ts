import {
  defaultGunicornThreads, defaultGunicornWorkers, GunicornConfig, GunicornWorkerClass,
  gunicornProblems, renderGunicornArgv,
} from '../../src/servers/gunicorn';

const base: GunicornConfig = {
  appModule: 'config.wsgi:application',
  bindHost: '127.0.0.1',
  bindPort: 8000,
  workerClass: GunicornWorkerClass.GTHREAD,
  workers: 3,
  threads: 4,
  timeoutSeconds: 30,
  gracefulTimeoutSeconds: 25,
  keepAliveSeconds: 75,
  maxRequests: 1000,
  maxRequestsJitter: 250,
  forwardedAllowIps: '127.0.0.1',
};

function flag(argv: string[], name: string): string | undefined {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit?.slice(name.length + 3);
}

describe('renderGunicornArgv', () => {
  const argv = renderGunicornArgv(base);

  test.each([
    ['bind', '127.0.0.1:8000'],
    ['worker-class', 'gthread'],
    ['workers', '3'],
    ['threads', '4'],
    ['timeout', '30'],
    ['graceful-timeout', '25'],
    ['keep-alive', '75'],
    ['max-requests', '1000'],
    ['max-requests-jitter', '250'],
    ['worker-tmp-dir', '/dev/shm'],
    ['limit-request-field_size', '32768'],
    ['forwarded-allow-ips', '127.0.0.1'],
    ['access-logfile', '-'],
    ['error-logfile', '-'],
  ])('renders --%s=%s', (name, value) => {
    expect(flag(argv, name)).toBe(value);
  });

  test('starts with the gunicorn executable and the app module', () => {
    expect(argv.slice(0, 2)).toEqual(['gunicorn', 'config.wsgi:application']);
  });

  test.each([
    [GunicornWorkerClass.SYNC, 'sync'],
    [GunicornWorkerClass.GEVENT, 'gevent'],
    [GunicornWorkerClass.UVICORN, 'uvicorn.workers.UvicornWorker'],
    [GunicornWorkerClass.ASGI, 'asgi'],
  ])('maps worker class %s to %s', (workerClass, arg) => {
    expect(flag(renderGunicornArgv({ ...base, workerClass, threads: undefined }), 'worker-class')).toBe(arg);
  });

  test('omits --threads unless given, and renders --worker-connections for gevent', () => {
    const gevent = renderGunicornArgv({ ...base, workerClass: GunicornWorkerClass.GEVENT, threads: undefined, workerConnections: 500 });
    expect(flag(gevent, 'threads')).toBeUndefined();
    expect(flag(gevent, 'worker-connections')).toBe('500');
  });

  test('appends extra args verbatim, last', () => {
    expect(renderGunicornArgv({ ...base, extraArgs: ['--preload'] }).at(-1)).toBe('--preload');
  });

  test('refuses to render an invalid config', () => {
    expect(() => renderGunicornArgv({ ...base, workers: 0 })).toThrow(/workers/);
  });
});

describe('gunicornProblems', () => {
  test('a valid config has none', () => {
    expect(gunicornProblems(base)).toEqual([]);
  });

  test.each<[string, Partial<GunicornConfig>, string]>([
    ['zero workers', { workers: 0 }, 'workers'],
    ['fractional workers', { workers: 1.5 }, 'workers'],
    ['threads with the sync worker', { workerClass: GunicornWorkerClass.SYNC, threads: 4 }, 'threads'],
    ['zero threads', { threads: 0 }, 'threads'],
    ['worker connections without gevent', { workerConnections: 100 }, 'workerConnections'],
    ['a module without a callable', { appModule: 'config.wsgi' }, 'wsgiModule'],
    ['a module with a space', { appModule: 'config wsgi:app' }, 'wsgiModule'],
    ['zero timeout', { timeoutSeconds: 0 }, 'workerTimeout'],
    ['fractional graceful timeout', { gracefulTimeoutSeconds: 2.5 }, 'gracefulTimeout'],
    ['zero keep-alive', { keepAliveSeconds: 0 }, 'keepAlive'],
    ['negative max requests', { maxRequests: -1 }, 'maxRequests'],
    ['recycling without jitter', { maxRequestsJitter: 0 }, 'maxRequestsJitter'],
    ['a port out of range', { bindPort: 70000 }, 'port'],
  ])('%s is reported against %s', (_name, change, prop) => {
    const problems = gunicornProblems({ ...base, ...change });
    expect(problems.map((p) => p.prop)).toContain(prop);
  });

  test('no jitter is fine when recycling is off', () => {
    expect(gunicornProblems({ ...base, maxRequests: 0, maxRequestsJitter: 0 })).toEqual([]);
  });
});

describe('default workers and threads from the task size', () => {
  test.each<[GunicornWorkerClass, number, number]>([
    [GunicornWorkerClass.GTHREAD, 0.25, 2],
    [GunicornWorkerClass.GTHREAD, 0.5, 2],
    [GunicornWorkerClass.GTHREAD, 1, 2],
    [GunicornWorkerClass.GTHREAD, 2, 3],
    [GunicornWorkerClass.GTHREAD, 4, 5],
    [GunicornWorkerClass.SYNC, 1, 3],
    [GunicornWorkerClass.SYNC, 2, 5],
    [GunicornWorkerClass.SYNC, 4, 9],
    [GunicornWorkerClass.GEVENT, 0.5, 2],
    [GunicornWorkerClass.GEVENT, 4, 4],
    [GunicornWorkerClass.UVICORN, 2, 2],
    [GunicornWorkerClass.ASGI, 2, 2],
  ])('%s on %d vCPU runs %d workers', (workerClass, vcpu, workers) => {
    expect(defaultGunicornWorkers(workerClass, vcpu)).toBe(workers);
  });

  test('only gthread gets threads by default', () => {
    expect(defaultGunicornThreads(GunicornWorkerClass.GTHREAD)).toBe(8);
    expect(defaultGunicornThreads(GunicornWorkerClass.SYNC)).toBeUndefined();
  });
});

describe('gunicornProblems on extraArgs', () => {
  test.each<[readonly string[]]>([
    [['--preload']],
    [['--log-level', 'debug']],
    [['--limit-request-fields', '200']],
    [['--access-logformat', '%(h)s %(r)s']],
  ])('accepts %j', (extraArgs) => {
    expect(gunicornProblems({ ...base, extraArgs })).toEqual([]);
  });

  test.each<[readonly string[], RegExp]>([
    [['--workers=3'], /'--workers=3' overrides --workers; set workers instead/],
    [['--workers', '3'], /set workers instead/],
    [['-w', '3'], /set workers instead/],
    [['-w3'], /set workers instead/],
    [['--timeout=90'], /set workerTimeout instead/],
    [['-t', '90'], /set workerTimeout instead/],
    [['--threads', '8'], /set threads instead/],
    [['--graceful-timeout=60'], /set gracefulTimeout instead/],
    [['--keep-alive', '2'], /set keepAlive instead/],
    [['--worker-class=sync'], /set workerClass instead/],
    [['-k', 'gevent'], /set workerClass instead/],
    [['--worker-connections', '50'], /set workerConnections instead/],
    [['--max-requests', '0'], /set maxRequests instead/],
    [['--max-requests-jitter=0'], /set maxRequestsJitter instead/],
    [['--bind', '0.0.0.0:9000'], /overrides --bind, which the library fixes/],
    [['-b', ':9000'], /overrides --bind, which the library fixes/],
    [['--forwarded-allow-ips=*'], /overrides --forwarded-allow-ips, which the library fixes/],
    [['--worker-tmp-dir', '/tmp'], /overrides --worker-tmp-dir, which the library fixes/],
    [['--timeo=90'], /set workerTimeout instead/], // argparse expands a unique prefix
  ])('reports %j against extraArgs', (extraArgs, message) => {
    const problems = gunicornProblems({ ...base, extraArgs });
    expect(problems.map((p) => p.prop)).toEqual(['extraArgs']);
    expect(problems[0].message).toMatch(message);
  });
});
