import type { Duration, Size } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';

/** Which reverse proxy, if any, sits between the load balancer and the app server. */
export enum ReverseProxyKind {
  /** An Nginx sidecar in the task; the load balancer targets it. */
  NGINX = 'nginx',
  /** An Apache httpd sidecar in the task; the load balancer targets it. */
  APACHE = 'apache',
  /** No proxy: the load balancer targets the app server directly. */
  NONE = 'none',
}

/** Options for a proxy sidecar (Nginx or Apache). */
export interface ReverseProxyOptions {
  /**
   * The proxy image. The config is written at start from an environment variable, so any stock
   * nginx (or httpd) image with `sh` works; nothing is built.
   * @default - the official nginx 1.28 (or httpd 2.4) Alpine image from the ECR Public mirror of Docker Hub
   */
  readonly image?: ecs.ContainerImage;
  /**
   * Largest request body the proxy accepts; larger uploads get 413.
   * @default - 10 MiB (nginx's own 1 MiB default surprises users with 413s)
   */
  readonly clientMaxBodySize?: Size;
  /**
   * How long the proxy waits for the app to answer. Must be longer than the app's worker timeout
   * (so the app answers or fails first) and shorter than the load balancer idle timeout.
   * @default - the worker timeout + 5 seconds (35 s with the defaults)
   */
  readonly readTimeout?: Duration;
  /**
   * CPU units reserved for the sidecar (out of the task's).
   * @default 128
   */
  readonly cpu?: number;
  /**
   * Memory (MiB) reserved for the sidecar (out of the task's).
   * @default 128
   */
  readonly memoryReservationMiB?: number;
}

/**
 * The reverse-proxy choice for a Django service: `ReverseProxy.nginx()` (the default), `ReverseProxy.apache()` or `ReverseProxy.none()`.
 */
export class ReverseProxy {
  /** An Nginx sidecar: buffers slow clients, serves static files, rejects unknown Hosts. */
  public static nginx(options: ReverseProxyOptions = {}): ReverseProxy {
    return new ReverseProxy(ReverseProxyKind.NGINX, options);
  }

  /** An Apache httpd sidecar (mod_proxy_http / mod_proxy_uwsgi / mod_proxy_wstunnel), same policy as Nginx. */
  public static apache(options: ReverseProxyOptions = {}): ReverseProxy {
    return new ReverseProxy(ReverseProxyKind.APACHE, options);
  }

  /** No proxy: the load balancer talks to the app server directly. */
  public static none(): ReverseProxy {
    return new ReverseProxy(ReverseProxyKind.NONE, {});
  }

  private constructor(
    /** Which proxy. */
    public readonly kind: ReverseProxyKind,
    /** The sidecar options (empty for `none`). */
    public readonly options: ReverseProxyOptions,
  ) {}
}
