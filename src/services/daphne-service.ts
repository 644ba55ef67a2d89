import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  applyChannelLayer, ChannelLayerOptions, channelLayerProblems, channelLayerWarnings, channelsServiceDefaults,
} from '../channel-layer';
import { Defaults } from '../defaults';
import { secondsOf } from '../durations';
import { Problem } from '../problems';
import { foreignPropProblems } from './foreign-props';
import { ReverseProxyKind } from './reverse-proxy';
import { DjangoServiceBase } from './service-base';
import { AppServerSpec, DjangoServiceBaseProps, LeafDefaults, ServerContext } from './service-props';
import { DaphneConfig, daphneProblems, renderDaphneArgv } from '../servers/daphne';

/** Daphne (Twisted) closes an idle HTTP keep-alive connection after this many seconds; no flag changes it. */
export const DAPHNE_IDLE_CLOSE_SECONDS = 60;
/** Daphne looks for due pings about every 2 s (measured), so a ping may come that much late. */
const DAPHNE_PING_GRANULARITY_SECONDS = 2;

/** Props of DjangoDaphneService. */
export interface DjangoDaphneServiceProps extends DjangoServiceBaseProps {
  /**
   * The ASGI application (Channels `ProtocolTypeRouter`), `module:callable`. Checked against the project when the image is built from it.
   * @default - the project's `<package>/asgi.py` when the image is `ContainerImage.fromAsset(dir)`, else 'config.asgi:application'
   */
  readonly asgiModule?: string;
  /**
   * URL prefixes the proxy passes on as WebSockets.
   * @default ['/ws/']
   */
  readonly websocketPaths?: string[];
  /**
   * Interval of Daphne's WebSocket pings; below every idle timeout on the path so idle sockets stay open.
   * @default Duration.seconds(20)
   */
  readonly pingInterval?: Duration;
  /**
   * How long a client may leave a ping unanswered before Daphne closes the socket.
   * @default Duration.seconds(30)
   */
  readonly pingTimeout?: Duration;
  /**
   * Longest lifetime of one WebSocket.
   * @default Duration.hours(24)
   */
  readonly websocketTimeout?: Duration;
  /**
   * How long the app's `websocket.connect` handler gets to accept a WebSocket before Daphne rejects it (403).
   * @default - Daphne's own 5 seconds
   */
  readonly websocketConnectTimeout?: Duration;
  /**
   * How long the application gets to clean up after a connection closes.
   * @default Duration.seconds(10)
   */
  readonly applicationCloseTimeout?: Duration;
  /**
   * Longest time Daphne lets an HTTP request run before answering 503.
   * @default - no limit in Daphne; the proxy read timeout and the ALB idle timeout bound it
   */
  readonly httpTimeout?: Duration;
  /**
   * The Redis endpoint of the Channels layer (`REDIS_URL`). Without it, groups and
   * `channel_layer.send` work only inside one task, so the service runs one task.
   * @default - no shared layer; one task, and a warning
   */
  readonly channelLayer?: ChannelLayerOptions;
  /**
   * Proxy read timeout on the WebSocket paths; above the ping interval.
   * @default - 3 x the ping interval (60 s)
   */
  readonly websocketReadTimeout?: Duration;
  /**
   * Extra Daphne flags appended verbatim.
   * @default - none
   */
  readonly extraArgs?: string[];
}

function daphneConfigOf(props: DjangoDaphneServiceProps, ctx: ServerContext): DaphneConfig {
  return {
    asgiModule: props.asgiModule ?? ctx.defaultAsgiModule,
    bindHost: ctx.bindHost,
    bindPort: ctx.port,
    proxyHeaders: true,
    pingIntervalSeconds: secondsOf(props.pingInterval, 20),
    pingTimeoutSeconds: secondsOf(props.pingTimeout, 30),
    websocketTimeoutSeconds: secondsOf(props.websocketTimeout, 86400),
    websocketConnectTimeoutSeconds: props.websocketConnectTimeout ? secondsOf(props.websocketConnectTimeout, 0) : undefined,
    applicationCloseTimeoutSeconds: secondsOf(props.applicationCloseTimeout, 10),
    httpTimeoutSeconds: props.httpTimeout ? secondsOf(props.httpTimeout, 0) : undefined,
    extraArgs: props.extraArgs,
  };
}

/**
 * A Django Channels (ASGI) app under Daphne on ECS Fargate: HTTP and WebSockets, pings that keep
 * sockets open through every idle timeout, proxy headers, a Redis channel layer. Clients get HTTP/2
 * at the ALB's HTTPS listener. Works with only `image` given (one task without a channel layer).
 *
 * Daphne drops in-flight plain HTTP requests on SIGTERM: for mixed apps serve HTTP from a WSGI
 * service and only the WebSocket paths from Daphne.
 */
export class DjangoDaphneService extends DjangoServiceBase {
  /** URL prefixes served as WebSockets. */
  public readonly websocketPaths: string[];

  constructor(scope: Construct, id: string, props: DjangoDaphneServiceProps) {
    super(scope, id, props);
    this.websocketPaths = props.websocketPaths ?? ['/ws/'];
    applyChannelLayer(props, this.appContainer, this.service);
  }

  /** @internal */
  protected _leafDefaults(props: DjangoServiceBaseProps): LeafDefaults {
    const p = props as DjangoDaphneServiceProps;
    const direct = (p.reverseProxy?.kind ?? ReverseProxyKind.NGINX) === ReverseProxyKind.NONE;
    return {
      // Facing the ALB, the ALB must drop idle connections before Daphne's fixed 60 s.
      idleTimeoutSeconds: direct ? 50 : Defaults.loadBalancerIdleTimeout,
      ...channelsServiceDefaults(p),
    };
  }

  /** @internal */
  protected _renderServer(baseProps: DjangoServiceBaseProps, ctx: ServerContext): AppServerSpec {
    const props = baseProps as DjangoDaphneServiceProps;
    const config = daphneConfigOf(props, ctx);
    const problems: Problem[] = daphneProblems(config);
    const websocketPaths = props.websocketPaths ?? ['/ws/'];
    const wsRead = secondsOf(props.websocketReadTimeout, 3 * config.pingIntervalSeconds);
    // Daphne checks for due pings every ~2 s, so a ping can come up to 2 s late.
    if (config.pingIntervalSeconds + DAPHNE_PING_GRANULARITY_SECONDS >= ctx.idleTimeoutSeconds) {
      problems.push({ prop: 'pingInterval', message: `(${config.pingIntervalSeconds} s, + up to ${DAPHNE_PING_GRANULARITY_SECONDS} s late) must be shorter than the load balancer idle timeout (${ctx.idleTimeoutSeconds} s), or the ALB closes idle WebSockets` });
    }
    if (!ctx.facingLoadBalancer && wsRead <= config.pingIntervalSeconds + DAPHNE_PING_GRANULARITY_SECONDS) {
      problems.push({ prop: 'websocketReadTimeout', message: `(${wsRead} s) must be longer than pingInterval (${config.pingIntervalSeconds} s), or the proxy closes idle WebSockets between pings` });
    }
    if (ctx.facingLoadBalancer && props.websocketReadTimeout !== undefined) {
      problems.push({ prop: 'websocketReadTimeout', message: 'is the proxy\'s read timeout, and ReverseProxy.none() has no proxy; remove it (pingInterval keeps idle WebSockets open through the ALB idle timeout)' });
    }
    if (ctx.facingLoadBalancer && ctx.idleTimeoutSeconds >= DAPHNE_IDLE_CLOSE_SECONDS) {
      problems.push({ prop: 'idleTimeout', message: `(${ctx.idleTimeoutSeconds} s) must be below ${DAPHNE_IDLE_CLOSE_SECONDS} s when Daphne faces the ALB: Daphne closes idle keep-alive connections after a fixed ${DAPHNE_IDLE_CLOSE_SECONDS} s, and the ALB would reuse closed ones (random 502s)` });
    }
    problems.push(...channelLayerProblems(props));
    problems.push(...foreignPropProblems(props, { cache: 'the uWSGI cache exists only under uWSGI; use DjangoUwsgiService, or Redis for the Django cache' }));
    return {
      command: problems.length === 0 ? renderDaphneArgv(config) : [],
      appModule: { kind: 'asgi', module: config.asgiModule, given: props.asgiModule !== undefined },
      upstreamProtocol: 'http',
      websocketPaths,
      websocketReadTimeoutSeconds: wsRead,
      proxyKeepAliveSeconds: DAPHNE_IDLE_CLOSE_SECONDS,
      problems,
      // Daphne exits within ~2 s of SIGTERM, dropping what is in flight (measured); behind a proxy
      // the proxy stops first and drains HTTP, so nothing is in flight by then.
      gracefulStopSeconds: 5,
      warnings: channelLayerWarnings(props),
    };
  }
}
