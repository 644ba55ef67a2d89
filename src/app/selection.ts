import { isWholeNumber } from '../numbers';
import { Problem } from '../problems';
import { GunicornWorkerClass } from '../servers/gunicorn';

/** The app server layouts DjangoApp can build. */
export enum DjangoServerChoice {
  /** One Gunicorn service (WSGI, or ASGI with the uvicorn worker, which serves WebSockets too). */
  GUNICORN = 'gunicorn',
  /** One uWSGI service. */
  UWSGI = 'uwsgi',
  /** One Daphne service for HTTP and WebSockets. */
  DAPHNE = 'daphne',
  /** Gunicorn for HTTP, Daphne for the WebSocket paths, behind one load balancer. */
  GUNICORN_DAPHNE = 'gunicorn+daphne',
  /** uWSGI for HTTP, Daphne for the WebSocket paths, behind one load balancer. */
  UWSGI_DAPHNE = 'uwsgi+daphne',
  /** Gunicorn for HTTP, a second Gunicorn with the uvicorn worker for the WebSocket paths, behind one load balancer. */
  GUNICORN_UVICORN = 'gunicorn+uvicorn',
  /** uWSGI for HTTP, Gunicorn with the uvicorn worker for the WebSocket paths, behind one load balancer. */
  UWSGI_UVICORN = 'uwsgi+uvicorn',
}

/**
 * What the Django project needs from its app server. DjangoApp picks the server(s) from these;
 * `DjangoAppProps.server` overrides the pick (and is checked against them).
 */
export interface DjangoRequirements {
  /**
   * The project serves WebSockets (Django Channels consumers) or other long-lived connections.
   * Picks Gunicorn with the uvicorn worker for them (the image needs `uvicorn[standard]`): alone when
   * the app is ASGI or `preferSimplicity` is set, otherwise beside a WSGI service that keeps serving
   * plain HTTP (mixed). On the WebSocket echo it answered with a lower p99 than Daphne (benchmarks/RESULTS.md).
   * @default false
   */
  readonly websockets?: boolean;
  /**
   * URL prefixes of the WebSocket routes (Channels' URLRouter paths). Needs `websockets`.
   * In a mixed app these paths go to the WebSocket service and everything else to the WSGI server.
   * @default ['/ws/'] when websockets is set
   */
  readonly websocketPaths?: string[];
  /**
   * The project is an ASGI app (async views, `asgi.py` is the entry point). Without WebSockets
   * this picks Gunicorn with the uvicorn worker; with WebSockets too, the same service serves them.
   * @default false
   */
  readonly asgi?: boolean;
  /**
   * Peak concurrent requests across the whole service (not per task). At or above 500, a
   * CPU-bound project gets uWSGI (adaptive process spawning, per-worker memory limits).
   * @default - ordinary traffic
   */
  readonly expectedConcurrency?: number;
  /**
   * Requests spend most of their time waiting on other services (HTTP APIs, slow queries).
   * Picks Gunicorn's gevent worker (the image needs gevent, and the database driver must be
   * gevent-safe): on a 50 ms I/O view it served about twice what gthread did (benchmarks/RESULTS.md).
   * @default false
   */
  readonly ioBound?: boolean;
  /**
   * The project uses uWSGI's shared in-memory cache (cache2), so it needs uWSGI.
   * @default false
   */
  readonly uwsgiCache?: boolean;
  /**
   * The project needs uWSGI's process management: adaptive spawning (cheaper), reload on memory
   * growth, harakiri per request.
   * @default false
   */
  readonly advancedProcessManagement?: boolean;
  /**
   * Prefer the fewest moving parts: Gunicorn for HTTP, and with WebSockets one Gunicorn with the
   * uvicorn worker for both (no second service; sync views run in its thread pool).
   * @default false
   */
  readonly preferSimplicity?: boolean;
}

/** The server(s) DjangoApp builds, and why. */
export interface ServerDecision {
  /** The layout, e.g. 'gunicorn', 'uwsgi' or 'gunicorn+uvicorn'. */
  readonly server: DjangoServerChoice;
  /** Why, in one or two sentences, including every default a requirement changed. */
  readonly reason: string;
  /** The server for plain HTTP: GUNICORN, UWSGI or DAPHNE. */
  readonly httpServer: DjangoServerChoice;
  /** The server for the WebSocket paths in a mixed app (GUNICORN or DAPHNE). @default - none (not mixed) */
  readonly websocketServer?: DjangoServerChoice;
  /** Gunicorn's worker class on the WebSocket paths of a mixed app, when Gunicorn serves them. @default - not Gunicorn */
  readonly websocketWorkerClass?: GunicornWorkerClass;
  /** WebSocket URL prefixes (empty without WebSockets). */
  readonly websocketPaths: string[];
  /** Gunicorn's worker class, when Gunicorn serves HTTP. @default - not Gunicorn */
  readonly gunicornWorkerClass?: GunicornWorkerClass;
}

/** The server of each layout that serves plain HTTP. */
const HTTP_SERVER: Record<DjangoServerChoice, DjangoServerChoice> = {
  [DjangoServerChoice.GUNICORN]: DjangoServerChoice.GUNICORN,
  [DjangoServerChoice.UWSGI]: DjangoServerChoice.UWSGI,
  [DjangoServerChoice.DAPHNE]: DjangoServerChoice.DAPHNE,
  [DjangoServerChoice.GUNICORN_DAPHNE]: DjangoServerChoice.GUNICORN,
  [DjangoServerChoice.UWSGI_DAPHNE]: DjangoServerChoice.UWSGI,
  [DjangoServerChoice.GUNICORN_UVICORN]: DjangoServerChoice.GUNICORN,
  [DjangoServerChoice.UWSGI_UVICORN]: DjangoServerChoice.UWSGI,
};

/** The server of each mixed layout that serves the WebSocket paths. */
const WEBSOCKET_SERVER: Partial<Record<DjangoServerChoice, DjangoServerChoice>> = {
  [DjangoServerChoice.GUNICORN_DAPHNE]: DjangoServerChoice.DAPHNE,
  [DjangoServerChoice.UWSGI_DAPHNE]: DjangoServerChoice.DAPHNE,
  [DjangoServerChoice.GUNICORN_UVICORN]: DjangoServerChoice.GUNICORN,
  [DjangoServerChoice.UWSGI_UVICORN]: DjangoServerChoice.GUNICORN,
};

/** Peak concurrent requests from which a project counts as high-concurrency. */
export const HIGH_CONCURRENCY = 500;

const DEFAULT_WS_PATHS = ['/ws/'];

/** Everything wrong with the requirements and the override together. */
export function selectionProblems(req: DjangoRequirements, server?: DjangoServerChoice): Problem[] {
  const problems: Problem[] = [];
  const c = req.expectedConcurrency;
  if (c !== undefined && !isWholeNumber(c, 1)) {
    problems.push({ prop: 'requirements.expectedConcurrency', message: `must be a whole number of concurrent requests >= 1, got ${c}` });
  }
  if (req.websocketPaths !== undefined) {
    if (!req.websockets) {
      problems.push({ prop: 'requirements.websocketPaths', message: 'set requirements.websockets to true as well (paths without WebSockets route nowhere)' });
    }
    if (req.websocketPaths.length === 0) {
      problems.push({ prop: 'requirements.websocketPaths', message: 'give at least one path like \'/ws/\', or leave it out for the default' });
    }
    for (const p of req.websocketPaths) {
      if (!/^\/[\w.~!$&*+,;=:@/-]*$/.test(p) || p === '/') {
        problems.push({ prop: 'requirements.websocketPaths', message: `must be URL prefixes like '/ws/' (not '/', no spaces or query), got '${p}'` });
      }
    }
  }
  const wantsUwsgi = req.uwsgiCache || req.advancedProcessManagement;
  if (req.preferSimplicity && wantsUwsgi) {
    problems.push({ prop: 'requirements.preferSimplicity', message: 'conflicts with uwsgiCache/advancedProcessManagement, which need uWSGI; drop one' });
  }
  if (req.asgi && wantsUwsgi) {
    problems.push({ prop: 'requirements.asgi', message: 'uWSGI does not run ASGI apps, and uwsgiCache/advancedProcessManagement need uWSGI; drop one' });
  }
  if (server !== undefined && !Object.values(DjangoServerChoice).includes(server)) {
    problems.push({ prop: 'server', message: `'${server}' is not a layout DjangoApp builds; use one of ${Object.values(DjangoServerChoice).map((choice) => `'${choice}'`).join(', ')}, or leave it out` });
  } else if (server !== undefined) {
    const mixed = WEBSOCKET_SERVER[server] !== undefined;
    const usesUwsgi = HTTP_SERVER[server] === DjangoServerChoice.UWSGI;
    if (req.websockets && server === DjangoServerChoice.UWSGI) {
      problems.push({ prop: 'server', message: '\'uwsgi\' cannot serve WebSockets; use \'uwsgi+uvicorn\' or \'uwsgi+daphne\' (uWSGI keeps plain HTTP), or drop the override' });
    }
    if (mixed && !req.websockets) {
      problems.push({ prop: 'server', message: `'${server}' routes WebSocket paths to a second service: set requirements.websockets, or pick a single server` });
    }
    if (wantsUwsgi && !usesUwsgi) {
      problems.push({ prop: 'server', message: `uwsgiCache/advancedProcessManagement need uWSGI, not '${server}'; use 'uwsgi', 'uwsgi+uvicorn' or 'uwsgi+daphne', or drop the override` });
    }
    if (req.asgi && usesUwsgi) {
      problems.push({ prop: 'server', message: 'uWSGI does not run ASGI apps; use \'gunicorn\' (uvicorn worker) or \'daphne\'' });
    }
  }
  return problems;
}

/**
 * Picks the app server(s) from requirements. Pure: call `selectionProblems` first (DjangoApp does);
 * given conflicting requirements this still answers, but the answer satisfies only some of them.
 */
export function selectServer(req: DjangoRequirements, override?: DjangoServerChoice): ServerDecision {
  const wsPaths = req.websockets ? [...(req.websocketPaths ?? DEFAULT_WS_PATHS)] : [];
  const high = (req.expectedConcurrency ?? 0) >= HIGH_CONCURRENCY;
  const wantsUwsgi = !!(req.uwsgiCache || req.advancedProcessManagement);
  const uwsgiWhy = req.uwsgiCache ? 'the project uses uWSGI\'s shared cache' : 'the project needs uWSGI\'s process management';

  let server: DjangoServerChoice;
  let reason: string;
  if (override !== undefined) {
    server = override;
    reason = `'${override}' was chosen explicitly (server prop).`;
  } else if (req.websockets && (req.asgi || req.preferSimplicity)) {
    server = DjangoServerChoice.GUNICORN;
    reason = req.asgi
      ? `WebSockets on ${wsPaths.join(', ')} and an ASGI app: one Gunicorn service serves both HTTP and WebSockets.`
      : `WebSockets on ${wsPaths.join(', ')} with preferSimplicity: one Gunicorn service serves HTTP and WebSockets (one service instead of two).`;
  } else if (req.websockets) {
    server = wantsUwsgi || (high && !req.ioBound) ? DjangoServerChoice.UWSGI_UVICORN : DjangoServerChoice.GUNICORN_UVICORN;
    const http = server === DjangoServerChoice.UWSGI_UVICORN ? `uWSGI (${wantsUwsgi ? uwsgiWhy : 'high concurrency'})` : 'Gunicorn';
    reason = `WebSockets on ${wsPaths.join(', ')}: Gunicorn with the uvicorn worker serves those paths and ${http} serves plain HTTP, so sync views keep a WSGI server and each service scales on its own metric.`;
  } else if (wantsUwsgi) {
    server = DjangoServerChoice.UWSGI;
    reason = `uWSGI because ${uwsgiWhy}.`;
  } else if (high && !req.ioBound && !req.asgi && !req.preferSimplicity) {
    server = DjangoServerChoice.UWSGI;
    reason = `uWSGI for high concurrency (${req.expectedConcurrency} >= ${HIGH_CONCURRENCY} concurrent requests): adaptive process spawning (cheaper) and reload-on-rss keep many workers healthy.`;
  } else {
    server = DjangoServerChoice.GUNICORN;
    reason = 'Gunicorn: the simplest production server for a Django project with no special needs.';
  }

  const httpServer = HTTP_SERVER[server];
  const websocketServer = WEBSOCKET_SERVER[server];
  const websocketWorkerClass = websocketServer === DjangoServerChoice.GUNICORN ? GunicornWorkerClass.UVICORN : undefined;
  if (websocketWorkerClass) {
    reason += ' The uvicorn worker pings idle sockets every 20 s and echoed with a lower p99 than Daphne (benchmarks/RESULTS.md); the image needs uvicorn[standard].';
  }
  let gunicornWorkerClass: GunicornWorkerClass | undefined;
  if (httpServer === DjangoServerChoice.GUNICORN) {
    if (req.asgi) {
      gunicornWorkerClass = GunicornWorkerClass.UVICORN;
      reason += ` ASGI app: Gunicorn runs the uvicorn worker (the image needs ${req.websockets ? 'uvicorn[standard], which pings idle WebSockets every 20 s' : 'uvicorn'}).`;
    } else if (req.websockets && websocketServer === undefined) {
      gunicornWorkerClass = GunicornWorkerClass.UVICORN;
      reason += ' WebSockets from one Gunicorn: the uvicorn worker, which runs sync views in its thread pool and pings idle sockets every 20 s (the image needs uvicorn[standard]).';
    } else if (req.ioBound) {
      gunicornWorkerClass = GunicornWorkerClass.GEVENT;
      reason += ` I/O-bound${high ? ` at high concurrency (${req.expectedConcurrency})` : ''}: the gevent worker, thousands of waiting requests per process (the image needs gevent; make the database driver gevent-safe, e.g. psycogreen for psycopg2).`;
    } else {
      gunicornWorkerClass = GunicornWorkerClass.GTHREAD;
      if (high && req.preferSimplicity) {
        reason += ' High concurrency with preferSimplicity: Gunicorn gthread, scaled out by task count rather than uWSGI.';
      }
    }
  }
  return {
    server,
    reason,
    httpServer,
    websocketServer,
    websocketWorkerClass,
    websocketPaths: wsPaths,
    gunicornWorkerClass,
  };
}
