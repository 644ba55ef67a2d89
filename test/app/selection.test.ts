import { DjangoRequirements, DjangoServerChoice as S, selectionProblems, selectServer } from '../../src/app/selection';
import { GunicornWorkerClass as W } from '../../src/servers/gunicorn';

// requirements → [server, Gunicorn worker class, text the reason must contain]
const TABLE: Array<[string, DjangoRequirements, S, W | undefined, RegExp]> = [
  ['nothing special', {}, S.GUNICORN, W.GTHREAD, /simplest/],
  ['preferSimplicity', { preferSimplicity: true }, S.GUNICORN, W.GTHREAD, /Gunicorn/],
  ['I/O-bound', { ioBound: true }, S.GUNICORN, W.GEVENT, /I\/O-bound: the gevent worker/],
  ['ASGI without WebSockets', { asgi: true }, S.GUNICORN, W.UVICORN, /uvicorn/],
  ['high concurrency, CPU-bound', { expectedConcurrency: 2000 }, S.UWSGI, undefined, /2000 >= 500/],
  ['just under the high-concurrency line', { expectedConcurrency: 499 }, S.GUNICORN, W.GTHREAD, /simplest/],
  ['high concurrency, I/O-bound', { expectedConcurrency: 500, ioBound: true }, S.GUNICORN, W.GEVENT, /at high concurrency \(500\): the gevent worker/],
  ['high concurrency, preferSimplicity', { expectedConcurrency: 900, preferSimplicity: true }, S.GUNICORN, W.GTHREAD, /scaled out by task count/],
  ['high concurrency, ASGI', { expectedConcurrency: 900, asgi: true }, S.GUNICORN, W.UVICORN, /uvicorn/],
  ['uWSGI cache', { uwsgiCache: true }, S.UWSGI, undefined, /shared cache/],
  ['process management', { advancedProcessManagement: true }, S.UWSGI, undefined, /process management/],
  ['WebSockets (sync views)', { websockets: true }, S.GUNICORN_UVICORN, W.GTHREAD, /uvicorn worker serves those paths and Gunicorn serves plain HTTP/],
  ['WebSockets, I/O-bound', { websockets: true, ioBound: true }, S.GUNICORN_UVICORN, W.GEVENT, /gevent/],
  ['WebSockets with the uWSGI cache', { websockets: true, uwsgiCache: true }, S.UWSGI_UVICORN, undefined, /uWSGI \(the project uses/],
  ['WebSockets at high concurrency', { websockets: true, expectedConcurrency: 1000 }, S.UWSGI_UVICORN, undefined, /high concurrency/],
  ['WebSockets and ASGI', { websockets: true, asgi: true }, S.GUNICORN, W.UVICORN, /one Gunicorn service serves both/],
  ['WebSockets, preferSimplicity', { websockets: true, preferSimplicity: true }, S.GUNICORN, W.UVICORN, /one service instead of two.*thread pool/],
];

// The server of each mixed layout's WebSocket paths, and its Gunicorn worker class.
const WS_HALF: { [layout: string]: [S, W | undefined] } = {
  'gunicorn+uvicorn': [S.GUNICORN, W.UVICORN],
  'uwsgi+uvicorn': [S.GUNICORN, W.UVICORN],
  'gunicorn+daphne': [S.DAPHNE, undefined],
  'uwsgi+daphne': [S.DAPHNE, undefined],
};

describe('selectServer', () => {
  test.each(TABLE)('%s', (_name, req, server, workerClass, reason) => {
    expect(selectionProblems(req)).toEqual([]);
    const d = selectServer(req);
    expect(d.server).toBe(server);
    expect(d.gunicornWorkerClass).toBe(workerClass);
    expect(d.reason).toMatch(reason);
    expect(d.httpServer).toBe(server.split('+')[0]);
    expect([d.websocketServer, d.websocketWorkerClass]).toEqual(WS_HALF[server] ?? [undefined, undefined]);
    expect(d.websocketPaths.length > 0).toBe(req.websockets === true);
  });

  test('every mixed override names its WebSocket server', () => {
    for (const [layout, [server, workerClass]] of Object.entries(WS_HALF)) {
      const d = selectServer({ websockets: true }, layout as S);
      expect([d.websocketServer, d.websocketWorkerClass]).toEqual([server, workerClass]);
    }
  });

  test('one Gunicorn with WebSockets runs the uvicorn worker even when the HTTP side would pick gevent', () => {
    expect(selectServer({ websockets: true, ioBound: true }, S.GUNICORN))
      .toMatchObject({ gunicornWorkerClass: W.UVICORN, websocketServer: undefined });
  });

  test('WebSocket paths default to /ws/ and are kept as given', () => {
    expect(selectServer({ websockets: true }).websocketPaths).toEqual(['/ws/']);
    expect(selectServer({ websockets: true, websocketPaths: ['/ws/', '/live/'] }).websocketPaths).toEqual(['/ws/', '/live/']);
    expect(selectServer({}).websocketPaths).toEqual([]);
    expect(selectServer({ websockets: true, websocketPaths: ['/live/'] }).reason).toContain('/live/');
  });

  test('an explicit server wins and says so, and requirement-driven defaults still apply', () => {
    const d = selectServer({ ioBound: true }, S.GUNICORN);
    expect(d.server).toBe(S.GUNICORN);
    expect(d.reason).toMatch(/chosen explicitly.*gevent worker/);
    expect(selectServer({ expectedConcurrency: 5000 }, S.GUNICORN).server).toBe(S.GUNICORN);
    expect(selectServer({}, S.DAPHNE)).toMatchObject({ server: S.DAPHNE, gunicornWorkerClass: undefined });
  });
});

describe('selectionProblems', () => {
  test.each<[string, DjangoRequirements, S | undefined, string, RegExp]>([
    ['WebSockets with uWSGI alone', { websockets: true }, S.UWSGI, 'server', /cannot serve WebSockets; use 'uwsgi\+uvicorn'/],
    ['a mixed override without WebSockets', {}, S.GUNICORN_DAPHNE, 'server', /set requirements.websockets/],
    ['a uvicorn mixed override without WebSockets', {}, S.UWSGI_UVICORN, 'server', /set requirements.websockets/],
    ['ASGI on uWSGI beside uvicorn', { websockets: true, asgi: true }, S.UWSGI_UVICORN, 'server', /does not run ASGI/],
    ['the uWSGI cache on Gunicorn', { uwsgiCache: true }, S.GUNICORN, 'server', /need uWSGI/],
    ['ASGI on uWSGI', { asgi: true }, S.UWSGI, 'server', /does not run ASGI/],
    ['simplicity and the uWSGI cache', { preferSimplicity: true, uwsgiCache: true }, undefined, 'requirements.preferSimplicity', /drop one/],
    ['ASGI and uWSGI process management', { asgi: true, advancedProcessManagement: true }, undefined, 'requirements.asgi', /drop one/],
    ['paths without WebSockets', { websocketPaths: ['/ws/'] }, undefined, 'requirements.websocketPaths', /websockets to true/],
    ['an empty path list', { websockets: true, websocketPaths: [] }, undefined, 'requirements.websocketPaths', /at least one/],
    ['the root as a WebSocket path', { websockets: true, websocketPaths: ['/'] }, undefined, 'requirements.websocketPaths', /not '\/'/],
    ['a relative path', { websockets: true, websocketPaths: ['ws/'] }, undefined, 'requirements.websocketPaths', /URL prefixes/],
    ['zero concurrency', { expectedConcurrency: 0 }, undefined, 'requirements.expectedConcurrency', />= 1/],
    ['fractional concurrency', { expectedConcurrency: 2.5 }, undefined, 'requirements.expectedConcurrency', /whole number/],
  ])('%s', (_name, req, server, prop, message) => {
    const problems = selectionProblems(req, server);
    expect(problems.map((p) => p.prop)).toContain(prop);
    expect(problems.find((p) => p.prop === prop)!.message).toMatch(message);
  });

  test('every consistent override passes', () => {
    expect(selectionProblems({ websockets: true }, S.DAPHNE)).toEqual([]);
    expect(selectionProblems({ websockets: true, uwsgiCache: true }, S.UWSGI_DAPHNE)).toEqual([]);
    expect(selectionProblems({ asgi: true }, S.DAPHNE)).toEqual([]);
    expect(selectionProblems({ websockets: true }, S.GUNICORN)).toEqual([]);
    expect(selectionProblems({ websockets: true, uwsgiCache: true }, S.UWSGI_UVICORN)).toEqual([]);
    expect(selectionProblems({ websockets: true }, S.GUNICORN_DAPHNE)).toEqual([]);
  });
});
