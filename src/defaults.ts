/**
 * The production defaults shared by every layer, in seconds unless named otherwise.
 *
 * Timeouts nest from the inside out (worker < proxy < load balancer) so the innermost layer gives up
 * first and answers; keep-alive nests the other way (the server behind the ALB keeps idle connections
 * open longer than the ALB), or the ALB reuses a connection the server just closed: a random 502.
 */
export const Defaults = {
  /** ALB idle timeout (the AWS default). */
  loadBalancerIdleTimeout: 60,
  /** App worker timeout: gunicorn --timeout, uWSGI harakiri. */
  workerTimeout: 30,
  /** Gunicorn graceful timeout: in-flight requests get this long after SIGTERM. */
  gracefulTimeout: 25,
  /** Proxy read timeout = worker timeout + this margin, so the worker answers (or dies) first. */
  proxyReadTimeoutMargin: 5,
  /** Proxy keep-alive towards the ALB = ALB idle timeout + this margin. */
  proxyKeepAliveMargin: 5,
  /** App server keep-alive when it faces the ALB directly = ALB idle timeout + this margin. */
  directKeepAliveMargin: 15,
  /** Gunicorn keep-alive behind a proxy on loopback (the proxy opens one connection per request). */
  keepAliveBehindProxy: 5,
  /** ECS container stop timeout ceiling. */
  maxStopTimeout: 120,
  /** Target group deregistration delay (the AWS default of 300 s makes every deploy slow). */
  deregistrationDelay: 30,
  /** Port the app server listens on inside the task. */
  appPort: 8000,
  /** Port the proxy sidecar listens on (unprivileged, so a non-root proxy image works too). */
  proxyPort: 8080,
  /** Where the proxy sidecar finds collected static files. */
  staticMountPath: '/srv/static',
  /**
   * Recycle a worker after this many requests (with jitter), which bounds slow memory leaks. Each restart
   * re-imports the project on the task's CPU: at 1000, a busy 1-vCPU task restarted a worker every
   * second or so and lost about a third of its throughput (benchmarks/RESULTS.md, bench:recycling-cost).
   */
  maxRequests: 10_000,
  /** Jitter as a fraction of maxRequests: workers restart spread out, not all at once. */
  maxRequestsJitterFraction: 0.25,
  /** Default request body limit at the proxy (nginx's own default of 1m surprises users with 413). */
  clientMaxBodySizeKiB: 10 * 1024,
  healthCheckPath: '/healthz',
} as const;
