import { Duration } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DjangoDeploymentOptions } from '../deploy/strategy';
import { Problem } from '../problems';
import { ReverseProxy, ReverseProxyKind } from './reverse-proxy';
import { AppModuleUse } from '../project/checks';
import { StaticFiles } from '../static-files';
import { DjangoPlacementProps } from './placement-props';

/**
 * Props every construct that runs the Django app shares (DjangoApp and each service): the image, where
 * it runs, its host names and settings, and the size of each service.
 */
export interface DjangoSiteProps extends DjangoPlacementProps {
  /** The Django app image (your Dockerfile, e.g. `ContainerImage.fromAsset('./mysite')`). */
  readonly image: ecs.ContainerImage;
  /**
   * The VPC to run in.
   * @default - a new VPC over 2 AZs with flow logs, and one NAT gateway per AZ unless `vpcOptions` says otherwise
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Deletion protection on the load balancer created here, switched on once the stack's create succeeded
   * (never in the template: a failed first create must be able to roll back). Turn it off, and deploy,
   * before destroying the stack.
   * @default true
   */
  readonly loadBalancerDeletionProtection?: boolean;
  /**
   * A new WAFv2 web ACL on the load balancer created here: AWS managed rules (common rule set, known bad
   * inputs, IP reputation) with the common set's 8 KB body limit counted rather than enforced, a rule that
   * refuses (413) a declared body larger than the proxy's `clientMaxBodySize`, and logs to an encrypted
   * `aws-waf-logs-` log group kept `logRetention`. Exclusive with `webAclArn`.
   * @default false
   */
  readonly waf?: boolean;
  /**
   * The ARN of an existing regional WAFv2 web ACL to associate with the load balancer created here
   * (its rules and logging are its owner's). Exclusive with `waf`.
   * @default - no existing web ACL
   */
  readonly webAclArn?: string;
  /**
   * TLS certificate: creates an HTTPS listener (TLS 1.2+/1.3 policy, HTTP/2) and redirects HTTP to HTTPS.
   * @default - HTTP only, with a warning at synth
   */
  readonly certificate?: acm.ICertificate;
  /**
   * Host names the site answers to (Django `ALLOWED_HOSTS` syntax: `example.com`, `.example.com`).
   * Sets `DJANGO_ALLOWED_HOSTS` and `DJANGO_CSRF_TRUSTED_ORIGINS`, and the proxy's accepted Hosts.
   * @default - the load balancer's DNS name
   */
  readonly allowedHosts?: string[];
  /**
   * The reverse proxy in front of the app server.
   * @default ReverseProxy.nginx()
   */
  readonly reverseProxy?: ReverseProxy;
  /**
   * Where static files come from.
   * @default StaticFiles.appServed() - requests for static files go to Django (WhiteNoise)
   */
  readonly staticFiles?: StaticFiles;
  /**
   * `DJANGO_SETTINGS_MODULE` for the container.
   * @default - not set: the image's own environment or the `os.environ.setdefault` in wsgi.py applies
   */
  readonly settingsModule?: string;
  /**
   * The secret holding Django's `SECRET_KEY` (the whole secret string), passed as `DJANGO_SECRET_KEY`.
   * @default - a new 64-character secret generated in Secrets Manager
   */
  readonly secretKey?: secretsmanager.ISecret;
  /**
   * Extra environment variables for the app container (not secrets: use `secrets`).
   * @default - none
   */
  readonly environment?: { [name: string]: string };
  /**
   * Extra secrets for the app container, resolved by ECS at start; values never enter the template.
   * @default - none
   */
  readonly secrets?: { [name: string]: ecs.Secret };
  /**
   * Task CPU units (256, 512, 1024, 2048, 4096, 8192 or 16384). Worker counts derive from it.
   * @default 512
   */
  readonly cpu?: number;
  /**
   * Task memory in MiB, valid for the chosen `cpu` (Fargate's table).
   * @default 1024
   */
  readonly memoryLimitMiB?: number;
  /**
   * Minimum number of tasks (also the count on first deploy).
   * @default 2 - one per AZ, so one task can be replaced while the other serves; 1 for a service that serves WebSockets without a channelLayer
   */
  readonly minTasks?: number;
  /**
   * Maximum number of tasks CPU autoscaling may run.
   * @default - 4 x minTasks
   */
  readonly maxTasks?: number;
  /**
   * Average CPU utilization (percent, 10-90) that autoscaling keeps tasks at.
   * @default 60
   */
  readonly targetCpuUtilization?: number;
  /**
   * Average memory utilization (percent, 10-90) that autoscaling keeps tasks at, beside the CPU target.
   * @default - 70 for services that serve WebSockets (Daphne, Gunicorn with websocketPaths: each socket holds memory while CPU stays low), else off
   */
  readonly targetMemoryUtilization?: number;
  /**
   * Path of a view that answers 200 when Django is up (no database round trip needed).
   * @default '/healthz'
   */
  readonly healthCheckPath?: string;
  /**
   * ECS Exec (`aws ecs execute-command`) into the app tasks, e.g. for `python manage.py shell`: the
   * service enables it, the task role gets the Session Manager channel actions, and a cluster created here
   * encrypts each session with a KMS key of its own and logs it to an encrypted log group. A given
   * `cluster` must already be configured so (it cannot be changed from here).
   * @default false
   */
  readonly enableExecuteCommand?: boolean;
  /**
   * Retention of the container log group.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * How a deploy replaces the tasks: the strategy (ROLLING, BLUE_GREEN, LINEAR, CANARY), bake times,
   * alarm rollback, the test listener and a smoke test (README: "Deploy strategies").
   * @default - ROLLING with the circuit breaker; DjangoApp adds rollback on each service's 5xx-rate alarm
   */
  readonly deployment?: DjangoDeploymentOptions;
}

/** Props every Django service shares. */
export interface DjangoServiceBaseProps extends DjangoSiteProps {
  /**
   * The ECS cluster to run in.
   * @default - a new cluster with Container Insights
   */
  readonly cluster?: ecs.ICluster;
  /**
   * An existing load balancer to add listeners to. Give its `idleTimeout` too if it is not 60 s.
   * @default - a new internet-facing ALB with access logs and invalid-header dropping
   */
  readonly loadBalancer?: elbv2.IApplicationLoadBalancer;
  /**
   * An existing listener to add this service to, with a host-header rule for `allowedHosts` at
   * `listenerRulePriority`. Mutually exclusive with `loadBalancer` and `certificate`.
   * @default - listeners are created on the load balancer
   */
  readonly listener?: elbv2.IApplicationListener;
  /**
   * The protocol browsers reach an existing `listener` with, which makes `DJANGO_CSRF_TRUSTED_ORIGINS`
   * https:// or http://.
   * @default - the listener's own protocol when it is an ApplicationListener of this app; HTTPS for an imported one
   */
  readonly listenerProtocol?: elbv2.ApplicationProtocol;
  /**
   * Priority of the host-header rule on an existing `listener` (1-50000, unique on that listener).
   * @default - required when `listener` is given
   */
  readonly listenerRulePriority?: number;
  /**
   * ALB path patterns (like `/ws/*`) the rule on an existing `listener` also matches, so this
   * service gets only those paths of its host names (a WebSocket service beside a WSGI one).
   * @default - every path of the host names
   */
  readonly listenerPathPatterns?: string[];
  /**
   * Load balancer idle timeout. Timeouts inside nest below it, keep-alives above it.
   * @default Duration.seconds(60) - 50 s for Daphne without a proxy (Daphne closes idle connections at 60 s)
   */
  readonly idleTimeout?: Duration;
  /**
   * Interval of the load balancer and container health checks.
   * @default Duration.seconds(15)
   */
  readonly healthCheckInterval?: Duration;
  /**
   * Timeout of one health check; must be shorter than the interval.
   * @default Duration.seconds(5)
   */
  readonly healthCheckTimeout?: Duration;
  /**
   * How long a new task may fail load balancer health checks while Django starts.
   * @default Duration.seconds(60)
   */
  readonly healthCheckGracePeriod?: Duration;
  /**
   * How long the load balancer lets in-flight requests finish before a task is stopped.
   * @default Duration.seconds(30)
   */
  readonly deregistrationDelay?: Duration;
  /**
   * How long ECS waits after the stop signal before killing the app container. Must exceed the
   * server's graceful timeout, and ECS allows at most 120 s.
   * @default - the server's graceful timeout + 10 seconds (35 s for Gunicorn)
   */
  readonly stopTimeout?: Duration;
  /**
   * The app worker timeout (Gunicorn `--timeout`, uWSGI `harakiri`): a request running longer is killed.
   * @default Duration.seconds(30)
   */
  readonly workerTimeout?: Duration;
}

/** What a server leaf renders for the base. @internal */
export interface AppServerSpec {
  readonly command: string[];
  /** The WSGI/ASGI module the command imports (checked against the project when the image is built from it). */
  readonly appModule: AppModuleUse;
  /** How the proxy talks to the server (uWSGI behind a proxy speaks the uwsgi protocol). */
  readonly upstreamProtocol: 'http' | 'uwsgi';
  /** URL prefixes the proxy passes on as WebSockets. */
  readonly websocketPaths?: string[];
  /** The proxy's read timeout on WebSocket paths (above the server's ping interval). */
  readonly websocketReadTimeoutSeconds?: number;
  /** Port the container health check asks over HTTP (defaults to the app port). */
  readonly healthCheckPort?: number;
  /** Extra environment for the app container (e.g. the rendered uwsgi.ini). */
  readonly environment?: { [name: string]: string };
  readonly problems: Problem[];
  /** Seconds the server needs after SIGTERM to finish in-flight requests. */
  readonly gracefulStopSeconds: number;
  /** Seconds the server keeps idle connections open (matters when it faces the ALB). */
  readonly keepAliveSeconds?: number;
  /**
   * Seconds the server keeps an idle connection from the proxy open, when it keeps connections at all
   * (the proxy then reuses them for less). Undefined: the proxy opens one connection per request.
   */
  readonly proxyKeepAliveSeconds?: number;
  /** Name of the prop that sets keepAliveSeconds, for error messages. */
  readonly keepAliveProp?: string;
  /** Advice shown at synth (acknowledgeable by id). */
  readonly warnings?: Array<{ id: string; message: string }>;
}

/** What the base tells a server leaf about where it runs. @internal */
export interface ServerContext {
  /** The WSGI module when none is given: the project's wsgi.py (fromAsset), else config.wsgi:application. */
  readonly defaultWsgiModule: string;
  /** The ASGI module when none is given: the project's asgi.py (fromAsset), else config.asgi:application. */
  readonly defaultAsgiModule: string;
  readonly vcpu: number;
  readonly memoryLimitMiB: number;
  readonly proxyKind: ReverseProxyKind;
  /** true when the load balancer targets the app server (ReverseProxy.none()). */
  readonly facingLoadBalancer: boolean;
  readonly bindHost: string;
  readonly port: number;
  readonly idleTimeoutSeconds: number;
  readonly workerTimeoutSeconds: number;
}

/** Defaults a server leaf chooses. @internal */
export interface LeafDefaults {
  readonly idleTimeoutSeconds: number;
  readonly minTasks: number;
  /** @default 4 x minTasks */
  readonly maxTasks?: number;
  /** @default - no memory target */
  readonly targetMemoryUtilization?: number;
}
