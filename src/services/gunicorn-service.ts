import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  applyChannelLayer, ChannelLayerOptions, channelLayerProblems, channelLayerSettingsProblems, channelLayerWarnings, channelsServiceDefaults,
} from '../channel-layer';
import { Defaults } from '../defaults';
import { foreignPropProblems } from './foreign-props';
import { DjangoServiceBase } from './service-base';
import { AppServerSpec, DjangoServiceBaseProps, LeafDefaults, ServerContext } from './service-props';
import { secondsOf } from '../durations';
import {
  defaultGunicornThreads, defaultGunicornWorkers, GunicornConfig, GunicornWorkerClass,
  gunicornProblems, isAsgiWorker, renderGunicornArgv,
} from '../servers/gunicorn';

/** Props of DjangoGunicornService. */
export interface DjangoGunicornServiceProps extends DjangoServiceBaseProps {
  /**
   * The WSGI application, `module:callable`. Checked against the project when the image is built from it.
   * @default - the project's `<package>/wsgi.py` when the image is `ContainerImage.fromAsset(dir)`, else 'config.wsgi:application'
   */
  readonly wsgiModule?: string;
  /**
   * The ASGI application for the UVICORN or ASGI worker class, `module:callable`. Checked against the project when the image is built from it.
   * @default - the project's `<package>/asgi.py` when the image is `ContainerImage.fromAsset(dir)`, else 'config.asgi:application'
   */
  readonly asgiModule?: string;
  /**
   * Gunicorn worker class.
   * @default GunicornWorkerClass.GTHREAD
   */
  readonly workerClass?: GunicornWorkerClass;
  /**
   * Worker processes per task.
   * @default - 2 x vCPU + 1 (at least 2) for sync; vCPU + 1 (at least 2) for gthread; vCPU (at least 2) for gevent/uvicorn
   */
  readonly workers?: number;
  /**
   * Threads per worker process (gthread only).
   * @default 8
   */
  readonly threads?: number;
  /**
   * Concurrent connections per worker (gevent only).
   * @default - Gunicorn's default (1000)
   */
  readonly workerConnections?: number;
  /**
   * After SIGTERM, how long workers get to finish in-flight requests.
   * @default Duration.seconds(25)
   */
  readonly gracefulTimeout?: Duration;
  /**
   * How long Gunicorn keeps an idle client connection open. Facing the ALB directly it must be
   * longer than the ALB idle timeout (Gunicorn's own 2 s default there is the classic random 502).
   * @default - ALB idle timeout + 15 s (75 s) without a proxy; 5 s behind the proxy
   */
  readonly keepAlive?: Duration;
  /**
   * Requests after which a worker is recycled (0 disables). Serving WebSockets, a recycled worker
   * closes every socket it holds (uvicorn exits at the limit), so recycling is off there by default.
   * @default - 10000; 0 when the service serves websocketPaths
   */
  readonly maxRequests?: number;
  /**
   * Random extra requests (0..jitter) added per worker, so workers do not all restart at once.
   * @default - a quarter of maxRequests (2500)
   */
  readonly maxRequestsJitter?: number;
  /**
   * URL prefixes the proxy passes on as WebSockets (UVICORN or ASGI worker only: an ASGI app can serve them).
   * UVICORN pings idle sockets every 20 s (the image needs `uvicorn[standard]`, or `websockets`);
   * Gunicorn's own ASGI worker sends no pings, so idle sockets close at the proxy read timeout.
   * Serving them makes the service one task unless `channelLayer` is given.
   * @default - none
   */
  readonly websocketPaths?: string[];
  /**
   * The Redis endpoint of the Channels layer (`REDIS_URL`, `REDIS_PASSWORD`, and a way in through
   * Redis's security group). Without it, a service that serves `websocketPaths` runs one task:
   * groups and `channel_layer.send` would reach only the consumers of one task.
   * @default - no shared layer; one task when serving WebSockets, and a warning
   */
  readonly channelLayer?: ChannelLayerOptions;
  /**
   * Proxy read timeout on the WebSocket paths; above uvicorn's 20 s ping interval.
   * @default Duration.seconds(60)
   */
  readonly websocketReadTimeout?: Duration;
  /**
   * Extra Gunicorn flags appended verbatim, for options not modelled here.
   * @default - none
   */
  readonly extraArgs?: string[];
}

/** uvicorn's WebSocket ping interval (`ws_ping_interval`, 20 s); its Gunicorn worker has no flag for it. */
export const UVICORN_PING_SECONDS = 20;

/** Whether the service serves WebSocket paths (an ASGI worker class with websocketPaths). */
function servesWebSockets(props: DjangoGunicornServiceProps): boolean {
  return (props.websocketPaths ?? []).length > 0 && isAsgiWorker(props.workerClass ?? GunicornWorkerClass.GTHREAD);
}

/** The Gunicorn config a set of props and a task context render to. */
function gunicornConfigOf(props: DjangoGunicornServiceProps, ctx: ServerContext): GunicornConfig {
  const workerClass = props.workerClass ?? GunicornWorkerClass.GTHREAD;
  // A recycled ASGI worker closes every WebSocket it holds (uvicorn exits at its request limit).
  const maxRequests = props.maxRequests ?? (servesWebSockets(props) ? 0 : Defaults.maxRequests);
  const keepAliveDefault = ctx.facingLoadBalancer
    ? ctx.idleTimeoutSeconds + Defaults.directKeepAliveMargin
    : Defaults.keepAliveBehindProxy;
  return {
    appModule: isAsgiWorker(workerClass)
      ? props.asgiModule ?? ctx.defaultAsgiModule
      : props.wsgiModule ?? ctx.defaultWsgiModule,
    bindHost: ctx.bindHost,
    bindPort: ctx.port,
    workerClass,
    workers: props.workers ?? defaultGunicornWorkers(workerClass, ctx.vcpu),
    threads: props.threads ?? defaultGunicornThreads(workerClass),
    workerConnections: props.workerConnections,
    timeoutSeconds: ctx.workerTimeoutSeconds,
    gracefulTimeoutSeconds: secondsOf(props.gracefulTimeout, Defaults.gracefulTimeout),
    keepAliveSeconds: secondsOf(props.keepAlive, keepAliveDefault),
    maxRequests,
    maxRequestsJitter: props.maxRequestsJitter ?? Math.floor(maxRequests * Defaults.maxRequestsJitterFraction),
    // Behind the proxy only loopback talks to Gunicorn; facing the ALB, the security group admits
    // only the load balancer, whose addresses change, so trust any peer.
    forwardedAllowIps: ctx.facingLoadBalancer ? '*' : '127.0.0.1',
    extraArgs: props.extraArgs,
  };
}

/**
 * A Django WSGI app under Gunicorn on ECS Fargate, behind an Nginx sidecar (default) or the load
 * balancer alone. Works with only `image` given.
 */
export class DjangoGunicornService extends DjangoServiceBase {
  /** The Gunicorn worker class in use. */
  public readonly workerClass: GunicornWorkerClass;
  /** Worker processes per task. */
  public readonly workers: number;
  /** Threads per worker (gthread), else undefined. */
  public readonly threads?: number;

  constructor(scope: Construct, id: string, props: DjangoGunicornServiceProps) {
    super(scope, id, props);
    const config = gunicornConfigOf(props, this._serverContext);
    this.workerClass = config.workerClass;
    this.workers = config.workers;
    this.threads = config.threads;
    applyChannelLayer(props, this.appContainer, this.service);
  }

  /** @internal */
  protected _leafDefaults(props: DjangoServiceBaseProps): LeafDefaults {
    const p = props as DjangoGunicornServiceProps;
    if (!servesWebSockets(p)) return super._leafDefaults(props);
    return { idleTimeoutSeconds: Defaults.loadBalancerIdleTimeout, ...channelsServiceDefaults(p) };
  }

  /** @internal */
  protected _renderServer(baseProps: DjangoServiceBaseProps, ctx: ServerContext): AppServerSpec {
    const props = baseProps as DjangoGunicornServiceProps;
    const config = gunicornConfigOf(props, ctx);
    const problems = gunicornProblems(config);
    if (props.asgiModule !== undefined && !isAsgiWorker(config.workerClass)) {
      problems.push({ prop: 'asgiModule', message: 'only the UVICORN and ASGI worker classes run an ASGI app; use wsgiModule, or set workerClass to UVICORN or ASGI' });
    }
    if (props.websocketPaths !== undefined && !isAsgiWorker(config.workerClass)) {
      problems.push({ prop: 'websocketPaths', message: 'a WSGI worker cannot serve WebSockets; set workerClass to UVICORN or ASGI, or use DjangoDaphneService' });
    }
    const ws = servesWebSockets(props);
    const wsRead = secondsOf(props.websocketReadTimeout, 3 * UVICORN_PING_SECONDS);
    if (props.websocketReadTimeout !== undefined && !ws) {
      problems.push({ prop: 'websocketReadTimeout', message: 'applies to WebSocket paths only; give websocketPaths (with the UVICORN worker), or remove it' });
    }
    if (props.websocketReadTimeout !== undefined && ws && ctx.facingLoadBalancer) {
      problems.push({ prop: 'websocketReadTimeout', message: 'is the proxy\'s read timeout, and ReverseProxy.none() has no proxy; remove it (the ALB idle timeout, idleTimeout, bounds idle WebSockets)' });
    }
    if (ws && config.workerClass === GunicornWorkerClass.UVICORN) {
      if (!ctx.facingLoadBalancer && wsRead <= UVICORN_PING_SECONDS) {
        problems.push({ prop: 'websocketReadTimeout', message: `(${wsRead} s) must be longer than uvicorn's ${UVICORN_PING_SECONDS} s ping interval, or the proxy closes idle WebSockets between pings` });
      }
      if (ctx.idleTimeoutSeconds <= UVICORN_PING_SECONDS) {
        problems.push({ prop: 'idleTimeout', message: `(${ctx.idleTimeoutSeconds} s) must be longer than uvicorn's ${UVICORN_PING_SECONDS} s ping interval, or the ALB closes idle WebSockets between pings` });
      }
    }
    // Every layer's settings must agree with environment/secrets; the one-task rule is for Channels consumers.
    problems.push(...(ws ? channelLayerProblems(props) : channelLayerSettingsProblems(props)));
    problems.push(...foreignPropProblems(props, { cache: 'the uWSGI cache exists only under uWSGI; use DjangoUwsgiService, or Redis for the Django cache' }));
    if (props.wsgiModule !== undefined && isAsgiWorker(config.workerClass)) {
      problems.push({ prop: 'wsgiModule', message: `the ${config.workerClass.toUpperCase()} worker class runs an ASGI app; use asgiModule instead` });
    }
    return {
      command: problems.length === 0 ? renderGunicornArgv(config) : [],
      appModule: isAsgiWorker(config.workerClass)
        ? { kind: 'asgi', module: config.appModule, given: props.asgiModule !== undefined }
        : { kind: 'wsgi', module: config.appModule, given: props.wsgiModule !== undefined },
      upstreamProtocol: 'http',
      websocketPaths: props.websocketPaths,
      websocketReadTimeoutSeconds: ws ? wsRead : undefined,
      problems,
      gracefulStopSeconds: config.gracefulTimeoutSeconds,
      keepAliveSeconds: config.keepAliveSeconds,
      // The sync worker closes every connection after its reply; the others keep it for keepAlive seconds.
      proxyKeepAliveSeconds: config.workerClass === GunicornWorkerClass.SYNC ? undefined : config.keepAliveSeconds,
      keepAliveProp: 'keepAlive',
      warnings: [
        ...ctx.facingLoadBalancer && config.workerClass === GunicornWorkerClass.SYNC
          ? [{ id: 'sync-worker-without-proxy', message: 'The sync worker serves one request per process and ignores keep-alive; facing the ALB directly, slow clients tie up workers. Prefer gthread, or keep the Nginx proxy.' }]
          : [],
        ...ws && config.workerClass === GunicornWorkerClass.ASGI
          ? [{ id: 'asgi-worker-no-pings', message: `Gunicorn's ASGI worker sends no WebSocket pings: a socket idle for ${ctx.facingLoadBalancer ? ctx.idleTimeoutSeconds : Math.min(wsRead, ctx.idleTimeoutSeconds)} s is closed by the ${ctx.facingLoadBalancer ? 'load balancer' : 'proxy or the load balancer'} unless the client pings. The UVICORN worker pings every ${UVICORN_PING_SECONDS} s.` }]
          : [],
        ...ws ? channelLayerWarnings(props) : [],
        ...ws && config.maxRequests > 0
          ? [{ id: 'websocket-worker-recycling', message: `maxRequests ${config.maxRequests}: a worker that reaches it closes every WebSocket it holds, so clients reconnect in bursts. Leave maxRequests unset (0 for WebSocket services) unless memory grows.` }]
          : [],
      ],
    };
  }
}
