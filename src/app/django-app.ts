import { Annotations, Duration } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { Problem, throwIfProblems } from '../errors';
import { DjangoRequirements, DjangoServerChoice, selectionProblems, selectServer, ServerDecision } from './selection';
import { DjangoMigrations } from '../migrations/migrations';
import { DjangoAlarms, DjangoAlarmsOptions } from '../observability/alarms';
import { Proxy } from '../proxy/proxy';
import { ChannelLayerOptions } from '../services/channel-layer';
import { DjangoDaphneService } from '../services/daphne-service';
import { DjangoGunicornService } from '../services/gunicorn-service';
import { createVpc } from '../services/network';
import { DjangoServiceBase } from '../services/service-base';
import { DjangoServiceBaseProps } from '../services/service-props';
import { defaultUwsgiProcesses, DjangoUwsgiService } from '../services/uwsgi-service';
import { csrfTrustedOrigins, SettingsEnv } from '../settings';
import { StaticFiles } from '../static-files';

/** Props of DjangoApp. */
export interface DjangoAppProps {
  /** The Django project's image (python3 on PATH, the app server of the chosen layout installed). */
  readonly image: ecs.ContainerImage;
  /**
   * What the project needs; DjangoApp picks the app server(s) from it (see `decision`).
   * @default - no special needs: Gunicorn (gthread) behind Nginx
   */
  readonly requirements?: DjangoRequirements;
  /**
   * Overrides the pick. Checked against `requirements`: a layout that cannot meet them is an error.
   * @default - picked from requirements
   */
  readonly server?: DjangoServerChoice;
  /**
   * The WSGI application, `module:callable`, for Gunicorn or uWSGI.
   * @default 'config.wsgi:application'
   */
  readonly wsgiModule?: string;
  /**
   * The ASGI application, `module:callable`, for Daphne or Gunicorn's uvicorn worker.
   * @default 'config.asgi:application'
   */
  readonly asgiModule?: string;
  /**
   * The VPC. Give one to share it with other stacks.
   * @default - a new VPC: 2 AZs, one NAT gateway, flow logs
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Host names the site answers to, in ALLOWED_HOSTS syntax (`.example.com` is the domain and its subdomains).
   * @default - the load balancer's DNS name
   */
  readonly domainNames?: string[];
  /**
   * TLS certificate for an HTTPS listener (HTTP redirects to HTTPS).
   * @default - HTTP only, with a warning at synth
   */
  readonly certificate?: acm.ICertificate;
  /**
   * The frontend in each task.
   * @default Proxy.nginx()
   */
  readonly proxy?: Proxy;
  /**
   * Where static files come from (for a CDN, see `DjangoStaticFiles` and `StaticFiles.fromUrl`).
   * @default StaticFiles.appServed()
   */
  readonly staticFiles?: StaticFiles;
  /**
   * `DJANGO_SETTINGS_MODULE`.
   * @default - not set: the image's own default applies
   */
  readonly settingsModule?: string;
  /**
   * Django's SECRET_KEY, shared by every service.
   * @default - a generated 64-character secret
   */
  readonly secretKey?: secretsmanager.ISecret;
  /**
   * Extra environment for every app container (not secrets).
   * @default - none
   */
  readonly environment?: { [name: string]: string };
  /**
   * Extra secrets for every app container.
   * @default - none
   */
  readonly secrets?: { [name: string]: ecs.Secret };
  /**
   * Task CPU units of each service.
   * @default 512
   */
  readonly cpu?: number;
  /**
   * Task memory of each service.
   * @default 1024
   */
  readonly memoryLimitMiB?: number;
  /**
   * Fewest tasks of the HTTP service (and of the WebSocket service in a mixed app).
   * @default 2
   */
  readonly minCapacity?: number;
  /**
   * Most tasks of each service.
   * @default - 4 times minCapacity
   */
  readonly maxCapacity?: number;
  /**
   * Health check path (a cheap view, no database query).
   * @default '/healthz'
   */
  readonly healthCheckPath?: string;
  /**
   * Log retention of the containers' log groups.
   * @default ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Priority of the listener rule that sends the WebSocket paths to Daphne in a mixed app. High, so
   * rules users add to the listener with ordinary priorities (1-39999) never clash and win.
   * @default 40000
   */
  readonly websocketRulePriority?: number;
  /**
   * The Redis endpoint of the Channels layer, when Daphne serves WebSockets.
   * @default - none: Daphne runs one task, with a warning
   */
  readonly channelLayer?: ChannelLayerOptions;
  /**
   * Migrations as a deploy step: the services roll out only after `manage.py migrate` exits 0.
   * @default - on when there is a database
   */
  readonly migrations?: DjangoAppMigrationsOptions;
  /**
   * Alarms and a dashboard.
   * @default - on, with the DjangoAlarms defaults and no notification topic
   */
  readonly alarms?: DjangoAppAlarmsOptions;
}

/** Migrations as a deploy step (DjangoMigrations). */
export interface DjangoAppMigrationsOptions {
  /**
   * Run the command once per new image before the services roll out; a non-zero exit fails the deployment.
   * @default - on when DjangoApp has a database (`database` or `existingDatabase`), off otherwise
   */
  readonly enabled?: boolean;
  /**
   * The command, run in the HTTP service's app container (its settings, secrets and network).
   * @default ['python', 'manage.py', 'migrate', '--noinput']
   */
  readonly command?: string[];
  /**
   * How long the run may take before the deployment fails.
   * @default Duration.minutes(30)
   */
  readonly timeout?: Duration;
}

/** CloudWatch alarms and dashboard of a DjangoApp (DjangoAlarms). */
export interface DjangoAppAlarmsOptions extends DjangoAlarmsOptions {
  /**
   * Create the alarms (5xx rate, p99 latency, unhealthy hosts, CPU, memory per service, and the
   * migrations run) and the dashboard.
   * @default true
   */
  readonly enabled?: boolean;
}

const DEFAULT_WEBSOCKET_RULE_PRIORITY = 40000;

/**
 * A Django project in production: picks Gunicorn, uWSGI, Daphne or a WSGI + Daphne pair from the
 * project's requirements, and builds the service(s) behind one load balancer.
 *
 * @example
 * const app = new DjangoApp(stack, 'Site', {
 *   image: ecs.ContainerImage.fromAsset('./mysite'),
 *   requirements: { websockets: true },
 * });
 * app.decision.server; // 'gunicorn+daphne'
 */
export class DjangoApp extends Construct {
  /** The server layout and why it was picked. */
  public readonly decision: ServerDecision;
  /** The service that serves HTTP (and the load balancer's default action). */
  public readonly httpService: DjangoServiceBase;
  /** The Daphne service of a mixed app, serving the WebSocket paths. @default - not mixed */
  public readonly websocketService?: DjangoServiceBase;
  /** Every service, HTTP first. */
  public readonly services: DjangoServiceBase[];
  /** The VPC. */
  public readonly vpc: ec2.IVpc;
  /** The ECS cluster of every service. */
  public readonly cluster: ecs.ICluster;
  /** The migrations run. @default - migrations off */
  public readonly migrations?: DjangoMigrations;
  /** The alarms and dashboard. @default - alarms off */
  public readonly alarms?: DjangoAlarms;

  constructor(scope: Construct, id: string, props: DjangoAppProps) {
    super(scope, id);
    const requirements = props.requirements ?? {};
    throwIfProblems(this, [...selectionProblems(requirements, props.server), ...appProblems(props)]);
    this.decision = selectServer(requirements, props.server);

    this.vpc = props.vpc ?? createVpc(this);
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc: this.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    this.cluster = cluster;
    const common: DjangoServiceBaseProps = {
      image: props.image,
      vpc: this.vpc,
      cluster,
      domainNames: props.domainNames,
      certificate: props.certificate,
      proxy: props.proxy,
      staticFiles: props.staticFiles,
      settingsModule: props.settingsModule,
      secretKey: props.secretKey,
      environment: props.environment,
      secrets: props.secrets,
      cpu: props.cpu,
      memoryLimitMiB: props.memoryLimitMiB,
      minCapacity: props.minCapacity,
      maxCapacity: props.maxCapacity,
      healthCheckPath: props.healthCheckPath,
      logRetention: props.logRetention,
    };

    const d = this.decision;
    const mixed = d.websocketServer !== undefined;
    this.httpService = this.createHttpService(common, props);

    if (mixed) {
      const http = this.httpService;
      const ws = new DjangoDaphneService(this, 'WebSockets', {
        ...common,
        // The same load balancer and host names; only the WebSocket paths come here.
        certificate: undefined,
        listener: http.listener,
        listenerRulePriority: props.websocketRulePriority ?? DEFAULT_WEBSOCKET_RULE_PRIORITY,
        listenerPathPatterns: d.websocketPaths.map((p) => `${p.replace(/\/$/, '')}/*`),
        domainNames: http.allowedHosts,
        secretKey: http.secretKey,
        asgiModule: props.asgiModule,
        websocketPaths: d.websocketPaths,
        channelLayer: props.channelLayer,
        // Static files are the HTTP service's business; WebSocket paths never ask for them.
        staticFiles: StaticFiles.appServed(),
      });
      // The rule shares the HTTP service's listener, so the same origins are trusted (https with a certificate).
      ws.appContainer.addEnvironment(SettingsEnv.CSRF_TRUSTED_ORIGINS,
        csrfTrustedOrigins(http.allowedHosts, props.certificate !== undefined).join(','));
      // Each socket holds memory for its lifetime, while CPU stays low: scale on memory as well.
      ws.scaling.scaleOnMemoryUtilization('Memory', {
        targetUtilizationPercent: 70,
        scaleOutCooldown: Duration.seconds(60),
        scaleInCooldown: Duration.seconds(300),
      });
      this.websocketService = ws;
    }
    this.services = this.websocketService ? [this.httpService, this.websocketService] : [this.httpService];

    if (props.migrations?.enabled ?? false) {
      const http = this.httpService;
      this.migrations = new DjangoMigrations(this, 'Migrations', {
        cluster,
        taskDefinition: http.taskDefinition,
        containerName: http.appContainer.containerName,
        command: props.migrations?.command,
        timeout: props.migrations?.timeout,
        // The HTTP service's security groups: whatever the app may reach (the database), the run may.
        securityGroups: http.service.connections.securityGroups,
        logRetention: props.logRetention,
      });
      // No task of the new image serves traffic before its migrations ran.
      // Only the ECS::Service resource waits: its security group is an input of the run.
      for (const s of this.services) s.service.node.defaultChild!.node.addDependency(this.migrations.customResource);
    }

    const alarms = props.alarms ?? {};
    if (alarms.enabled ?? true) {
      const { enabled: _enabled, ...options } = alarms;
      this.alarms = new DjangoAlarms(this, 'Alarms', {
        ...options,
        services: this.services,
        migrationsFunction: this.migrations?.isCompleteFunction,
      });
    }

    this.node.addMetadata('cdk-django:decision', { server: d.server, reason: d.reason });
    Annotations.of(this).addInfo(`cdk-django: ${d.server} — ${d.reason}`);
  }

  private createHttpService(common: DjangoServiceBaseProps, props: DjangoAppProps): DjangoServiceBase {
    const d = this.decision;
    switch (d.httpServer) {
      case 'uwsgi':
        return new DjangoUwsgiService(this, 'Web', {
          ...common,
          wsgiModule: props.wsgiModule,
          // Adaptive spawning: idle workers are stopped down to half, and respawned as load grows.
          cheaper: props.requirements?.advancedProcessManagement || (props.requirements?.expectedConcurrency ?? 0) > 0
            ? { min: Math.max(1, Math.floor(defaultUwsgiProcesses((props.cpu ?? 512) / 1024) / 2)) } : undefined,
          // requirements.uwsgiCache: a shared cache named 'default' (CACHES uses django-uwsgi-cache's backend).
          cache: props.requirements?.uwsgiCache ? { name: 'default', items: 1000 } : undefined,
        });
      case 'daphne':
        return new DjangoDaphneService(this, 'Web', {
          ...common,
          asgiModule: props.asgiModule,
          websocketPaths: d.websocketPaths.length > 0 ? d.websocketPaths : undefined,
          channelLayer: props.channelLayer,
        });
      default:
        return new DjangoGunicornService(this, 'Web', {
          ...common,
          workerClass: d.gunicornWorkerClass,
          threads: d.gunicornThreads,
          wsgiModule: props.wsgiModule,
          asgiModule: d.gunicornWorkerClass === 'uvicorn' ? props.asgiModule : undefined,
        });
    }
  }
}

function appProblems(props: DjangoAppProps): Problem[] {
  const problems: Problem[] = [];
  const p = props.websocketRulePriority;
  if (p !== undefined && (!Number.isInteger(p) || p < 1 || p > 50000)) {
    problems.push({ prop: 'websocketRulePriority', message: `must be a whole number from 1 to 50000, got ${p}` });
  }
  return problems;
}
