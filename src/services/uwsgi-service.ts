import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Defaults } from '../defaults';
import { Problem } from '../problems';
import { foreignPropProblems } from './foreign-props';
import { DjangoServiceBase } from './service-base';
import { AppServerSpec, DjangoServiceBaseProps, ServerContext } from './service-props';
import { secondsOf } from '../durations';
import { ReverseProxyKind } from './reverse-proxy';
import {
  renderUwsgiIni, UwsgiCheaperAlgorithm, UwsgiConfig, uwsgiProblems, uwsgiStartScript,
} from '../servers/uwsgi';

/** uWSGI's adaptive process spawning ("cheaper" mode). */
export interface UwsgiCheaperOptions {
  /**
   * The algorithm deciding when to spawn or stop workers.
   * @default UwsgiCheaperAlgorithm.SPARE
   */
  readonly algorithm?: UwsgiCheaperAlgorithm;
  /** Workers always running. */
  readonly min: number;
  /**
   * Workers started at boot.
   * @default - min
   */
  readonly initial?: number;
  /**
   * Workers spawned at a time when more are needed.
   * @default 1
   */
  readonly step?: number;
}

/** A uWSGI cache (`cache2`) that Django can use as a cache backend in every worker of a task. */
export interface UwsgiCacheOptions {
  /** Cache name, as used by the Django backend (e.g. django-uwsgi-cache's `LOCATION`). */
  readonly name: string;
  /** Maximum number of items. */
  readonly items: number;
  /**
   * Size of one block in bytes; an item larger than this needs several blocks.
   * @default 65536
   */
  readonly blockSize?: number;
}

/** Props of DjangoUwsgiService. */
export interface DjangoUwsgiServiceProps extends DjangoServiceBaseProps {
  /**
   * The WSGI application, `module:callable`. Checked against the project when the image is built from it.
   * @default - the project's `<package>/wsgi.py` when the image is `ContainerImage.fromAsset(dir)`, else 'config.wsgi:application'
   */
  readonly wsgiModule?: string;
  /**
   * Worker processes per task (the maximum when `cheaper` is set).
   * @default - 2 x vCPU + 1, at least 2
   */
  readonly processes?: number;
  /**
   * Threads per worker process.
   * @default 4
   */
  readonly threads?: number;
  /**
   * Adaptive process spawning between `cheaper.min` and `processes`.
   * @default - all processes run all the time
   */
  readonly cheaper?: UwsgiCheaperOptions;
  /**
   * Recycle a worker after this many requests.
   * @default - no recycling by count; `reloadOnRssMiB` bounds memory instead
   */
  readonly maxRequests?: number;
  /**
   * Jitter for `maxRequests` (uWSGI `max-requests-delta`, uWSGI 2.0.29 or newer: older ones reject it under `strict`).
   * @default - none
   */
  readonly maxRequestsDelta?: number;
  /**
   * Recycle a worker (after its request) once its resident memory passes this many MiB.
   * @default - the task memory left after 256 MiB for the proxy and master, split over the processes
   */
  readonly reloadOnRssMiB?: number;
  /**
   * Largest request header block in bytes (uWSGI's 4 KiB default answers 502 to large cookies).
   * @default 32768
   */
  readonly bufferSize?: number;
  /**
   * Request bodies larger than this many bytes are buffered to disk before the app sees them.
   * @default 65536
   */
  readonly postBuffering?: number;
  /**
   * Load the app in each worker after fork instead of once in the master.
   * @default false
   */
  readonly lazyApps?: boolean;
  /**
   * A uWSGI cache shared by the processes of a task.
   * @default - none
   */
  readonly cache?: UwsgiCacheOptions;
  /**
   * How long uWSGI's HTTP socket keeps an idle connection open when it faces the ALB
   * (`ReverseProxy.none()`); must be longer than the ALB idle timeout.
   * @default - ALB idle timeout + 15 s
   */
  readonly httpKeepAlive?: Duration;
  /**
   * Extra `uwsgi.ini` options, for what this library does not model.
   * @default - none
   */
  readonly extraOptions?: { [option: string]: string };
}

/** The environment variable carrying the rendered uwsgi.ini (never `UWSGI_*`: uWSGI reads those as options). */
export const UWSGI_INI_ENV = 'CDK_DJANGO_UWSGI_INI';
/** Where the start script writes the ini inside the app container. */
export const UWSGI_INI_PATH = '/tmp/cdk-django-uwsgi.ini';
/** Loopback HTTP port for the container health check when uWSGI speaks the uwsgi protocol. */
export const UWSGI_HEALTH_PORT = 8001;

function uwsgiConfigOf(props: DjangoUwsgiServiceProps, ctx: ServerContext): UwsgiConfig {
  const processes = props.processes ?? defaultUwsgiProcesses(ctx.vcpu);
  const http = ctx.proxyKind === ReverseProxyKind.NONE;
  return {
    appModule: props.wsgiModule ?? ctx.defaultWsgiModule,
    protocol: http ? 'http' : 'uwsgi',
    bindHost: ctx.bindHost,
    bindPort: ctx.port,
    healthCheckPort: http ? undefined : UWSGI_HEALTH_PORT,
    processes,
    threads: props.threads ?? 4,
    harakiriSeconds: ctx.workerTimeoutSeconds,
    maxRequests: props.maxRequests,
    maxRequestsDelta: props.maxRequestsDelta,
    reloadOnRssMiB: props.reloadOnRssMiB ?? Math.max(128, Math.floor((ctx.memoryLimitMiB - 256) / processes)),
    bufferSize: props.bufferSize ?? 32768,
    postBuffering: props.postBuffering ?? 65536,
    lazyApps: props.lazyApps ?? false,
    cheaper: props.cheaper ? {
      algorithm: props.cheaper.algorithm ?? UwsgiCheaperAlgorithm.SPARE,
      min: props.cheaper.min,
      initial: props.cheaper.initial ?? props.cheaper.min,
      step: props.cheaper.step ?? 1,
    } : undefined,
    cache: props.cache ? { name: props.cache.name, items: props.cache.items, blockSize: props.cache.blockSize ?? 65536 } : undefined,
    httpKeepAliveSeconds: http ? secondsOf(props.httpKeepAlive, ctx.idleTimeoutSeconds + Defaults.directKeepAliveMargin) : undefined,
    extraOptions: props.extraOptions,
  };
}

/**
 * A Django WSGI app under uWSGI on ECS Fargate: master with processes x threads, harakiri nested
 * inside the proxy and ALB timeouts, graceful SIGTERM, optional adaptive spawning and uWSGI cache.
 * Behind Nginx or Apache it speaks the uwsgi protocol; with `ReverseProxy.none()` its own HTTP router faces
 * the ALB (and drains in-flight requests on SIGTERM). Works with only `image` given.
 */
export class DjangoUwsgiService extends DjangoServiceBase {
  /** Worker processes per task (the maximum with cheaper mode). */
  public readonly processes: number;
  /** Threads per process. */
  public readonly threads: number;
  /** The rendered uwsgi.ini. */
  public readonly ini: string;

  constructor(scope: Construct, id: string, props: DjangoUwsgiServiceProps) {
    super(scope, id, props);
    const config = uwsgiConfigOf(props, this._serverContext);
    this.processes = config.processes;
    this.threads = config.threads;
    this.ini = renderUwsgiIni(config);
  }

  /** @internal */
  protected _renderServer(baseProps: DjangoServiceBaseProps, ctx: ServerContext): AppServerSpec {
    const props = baseProps as DjangoUwsgiServiceProps;
    const config = uwsgiConfigOf(props, ctx);
    const problems: Problem[] = uwsgiProblems(config);
    problems.push(...foreignPropProblems(props, {
      websocketPaths: 'uWSGI serves WSGI only; use DjangoDaphneService (or Gunicorn with the UVICORN worker) for WebSockets',
    }));
    const ok = problems.length === 0;
    return {
      command: ok ? ['sh', '-c', uwsgiStartScript(UWSGI_INI_ENV, UWSGI_INI_PATH)] : [],
      appModule: { kind: 'wsgi', module: config.appModule, given: props.wsgiModule !== undefined },
      environment: ok ? { [UWSGI_INI_ENV]: renderUwsgiIni(config) } : {},
      upstreamProtocol: config.protocol === 'http' ? 'http' : 'uwsgi',
      healthCheckPort: config.healthCheckPort,
      problems,
      gracefulStopSeconds: ctx.workerTimeoutSeconds,
      keepAliveSeconds: config.httpKeepAliveSeconds,
      keepAliveProp: 'httpKeepAlive',
    };
  }
}

/** Worker processes per task when `processes` is not given: 2 per vCPU, plus one, at least 2. */
export function defaultUwsgiProcesses(vcpu: number): number {
  return Math.max(2, Math.floor(2 * vcpu) + 1);
}
