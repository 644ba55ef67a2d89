import { RenderError } from '../../src/problems';
import { renderUwsgiIni, UwsgiCheaperAlgorithm, UwsgiConfig, uwsgiProblems, uwsgiStartScript } from '../../src/servers/uwsgi';

const base: UwsgiConfig = {
  appModule: 'config.wsgi:application',
  protocol: 'uwsgi',
  bindHost: '127.0.0.1',
  bindPort: 8000,
  healthCheckPort: 8001,
  processes: 3,
  threads: 4,
  harakiriSeconds: 30,
  reloadOnRssMiB: 256,
  bufferSize: 32768,
  postBuffering: 65536,
  lazyApps: false,
};

/** The ini's options as [key, value] pairs, in order. */
function options(ini: string): Array<[string, string]> {
  return ini.split('\n').filter((l) => / = /.test(l)).map((l) => l.split(' = ', 2) as [string, string]);
}
const value = (ini: string, key: string) => options(ini).find(([k]) => k === key)?.[1];

describe('renderUwsgiIni', () => {
  const ini = renderUwsgiIni(base);

  test.each([
    ['strict', 'true'], ['master', 'true'], ['module', 'config.wsgi:application'],
    ['socket', '127.0.0.1:8000'], ['http-socket', '127.0.0.1:8001'],
    ['processes', '3'], ['threads', '4'], ['enable-threads', 'true'], ['single-interpreter', 'true'],
    ['need-app', 'true'], ['vacuum', 'true'], ['die-on-term', 'true'],
    ['hook-master-start', 'unix_signal:15 gracefully_kill_them_all'],
    ['harakiri', '30'], ['worker-reload-mercy', '30'], ['reload-on-rss', '256'],
    ['buffer-size', '32768'], ['post-buffering', '65536'],
  ])('renders %s = %s', (key, v) => {
    expect(value(ini, key)).toBe(v);
  });

  test('starts with the [uwsgi] section and names no plugins (pip-installed uWSGI has them built in)', () => {
    expect(ini).toMatch(/^# .*\n\[uwsgi\]\n/);
    expect(ini).not.toMatch(/^plugins? = /m);
  });

  test('renders version-sensitive options only when asked (uWSGI 2.0.21 rejects max-requests-delta under strict)', () => {
    expect(value(ini, 'max-requests')).toBeUndefined();
    expect(value(ini, 'max-requests-delta')).toBeUndefined();
    const recycled = renderUwsgiIni({ ...base, maxRequests: 1000, maxRequestsDelta: 250 });
    expect(value(recycled, 'max-requests')).toBe('1000');
    expect(value(recycled, 'max-requests-delta')).toBe('250');
  });

  test('faces the ALB through the HTTP router with an idle timeout above the ALB\'s', () => {
    const http = renderUwsgiIni({ ...base, protocol: 'http', bindHost: '0.0.0.0', healthCheckPort: undefined, httpKeepAliveSeconds: 75 });
    expect(value(http, 'http')).toBe('0.0.0.0:8000');
    expect(value(http, 'http-keepalive')).toBe('1');
    expect(value(http, 'http-auto-chunked')).toBe('true');
    expect(value(http, 'http-timeout')).toBe('75');
    expect(value(http, 'socket')).toBeUndefined();
    // an http11-socket leaves responses without Content-Length open forever on 2.0.21
    expect(value(http, 'http11-socket')).toBeUndefined();
  });

  test('renders cheaper mode, the cache, lazy-apps and extra options', () => {
    const full = renderUwsgiIni({
      ...base,
      processes: 8,
      lazyApps: true,
      cheaper: { algorithm: UwsgiCheaperAlgorithm.BACKLOG, min: 2, initial: 4, step: 2 },
      cache: { name: 'default', items: 500, blockSize: 65536 },
      extraOptions: { 'thunder-lock': 'true' },
    });
    expect(value(full, 'cheaper-algo')).toBe('backlog');
    expect(value(full, 'cheaper')).toBe('2');
    expect(value(full, 'cheaper-initial')).toBe('4');
    expect(value(full, 'cheaper-step')).toBe('2');
    expect(value(full, 'cache2')).toBe('name=default,items=500,blocksize=65536');
    expect(value(full, 'lazy-apps')).toBe('true');
    expect(options(full).at(-1)).toEqual(['thunder-lock', 'true']);
  });

  test('refuses to render an invalid config', () => {
    expect(() => renderUwsgiIni({ ...base, processes: 0 })).toThrow(RenderError);
  });
});

describe('uwsgiProblems', () => {
  test('a valid config has none', () => {
    expect(uwsgiProblems(base)).toEqual([]);
  });

  test.each<[string, Partial<UwsgiConfig>, string]>([
    ['zero processes', { processes: 0 }, 'processes'],
    ['zero threads', { threads: 0 }, 'threads'],
    ['a module without a callable', { appModule: 'config.wsgi' }, 'wsgiModule'],
    ['a fractional harakiri', { harakiriSeconds: 1.5 }, 'workerTimeout'],
    ['a delta without max-requests', { maxRequestsDelta: 10 }, 'maxRequestsDelta'],
    ['a tiny buffer', { bufferSize: 1024 }, 'bufferSize'],
    ['a buffer over 64 KiB', { bufferSize: 70000 }, 'bufferSize'],
    ['cheaper min not below processes', { cheaper: { algorithm: UwsgiCheaperAlgorithm.SPARE, min: 3, initial: 3, step: 1 } }, 'cheaper.min'],
    ['cheaper initial above processes', { cheaper: { algorithm: UwsgiCheaperAlgorithm.SPARE, min: 1, initial: 5, step: 1 } }, 'cheaper.initial'],
    ['a zero cheaper step', { cheaper: { algorithm: UwsgiCheaperAlgorithm.SPARE, min: 1, initial: 1, step: 0 } }, 'cheaper.step'],
    ['a cache name with a space', { cache: { name: 'my cache', items: 1, blockSize: 1 } }, 'cache.name'],
    ['an empty cache', { cache: { name: 'c', items: 0, blockSize: 1 } }, 'cache.items'],
    ['an extra option the construct owns', { extraOptions: { harakiri: '60' } }, 'extraOptions'],
    ['harakiri-verbose, which the construct renders', { extraOptions: { 'harakiri-verbose': 'false' } }, 'extraOptions'],
    ['a second app through wsgi-file', { extraOptions: { 'wsgi-file': 'other.py' } }, 'extraOptions'],
    ['the uwsgi socket under its alias', { extraOptions: { 'uwsgi-socket': ':9000' } }, 'extraOptions'],
    ['an extra option that is not a name', { extraOptions: { 'bad name': '1' } }, 'extraOptions'],
    ['a multi-line extra value', { extraOptions: { 'thunder-lock': 'true\nmaster = false' } }, 'extraOptions'],
  ])('%s is reported against %s', (_name, change, prop) => {
    expect(uwsgiProblems({ ...base, ...change }).map((p) => p.prop)).toContain(prop);
  });
});

describe('uwsgiStartScript', () => {
  test('writes the ini from a variable uWSGI does not read, then execs uwsgi (PID 1 gets SIGTERM)', () => {
    expect(uwsgiStartScript('CDK_DJANGO_UWSGI_INI', '/tmp/u.ini')).toBe('printf \'%s\' "$CDK_DJANGO_UWSGI_INI" > /tmp/u.ini && exec uwsgi --ini /tmp/u.ini');
  });

  test('refuses a UWSGI_* variable (uWSGI would read the whole ini as an option value)', () => {
    expect(() => uwsgiStartScript('UWSGI_INI', '/tmp/u.ini')).toThrow(/UWSGI_/);
  });
});
