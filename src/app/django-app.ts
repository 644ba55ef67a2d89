import { Duration, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { informUser, markLibraryConstruct } from '../annotations';
import { DjangoVpcEndpoints } from '../endpoints';
import { Problem, throwIfProblems } from '../errors';
import { claimImageWarning } from '../image-tags';
import { compositionProblems, DjangoAppCompositionProps, websocketRuleOnListener } from './composition';
import { appWorkersProblems, createAppWorkers, DjangoAppWorkerOptions, workersUseCelery } from './app-workers';
import { DjangoRequirements, DjangoServerChoice, selectionProblems, selectServer, ServerDecision } from './selection';
import { cacheOptionsProblems, DjangoCache, DjangoCacheOptions, IDjangoCache } from '../data/cache';
import { databaseOptionsProblems, DjangoDatabase, DjangoDatabaseOptions, IDjangoDatabase } from '../data/database';
import { DjangoStaticFiles, DjangoStaticFilesProps, staticFilesProblems } from '../data/static-site';
import { DjangoMigrations, migrationsCommandProblems } from '../migrations/migrations';
import { alarmsOptionsProblems, DjangoAlarms, DjangoAlarmsOptions } from '../observability/alarms';
import { ChannelLayerOptions } from '../services/channel-layer';
import { DjangoDaphneService } from '../services/daphne-service';
import { createCluster } from '../services/execute-command';
import { DjangoGunicornService } from '../services/gunicorn-service';
import { createVpc } from '../services/network';
import { placementProblems, serviceSubnetsOf } from '../services/placement';
import { DjangoOneOffTask } from '../services/one-off-task';
import { DjangoServiceBase } from '../services/service-base';
import { DjangoServiceBaseProps, DjangoSiteProps } from '../services/service-props';
import { defaultUwsgiProcesses, DjangoUwsgiService } from '../services/uwsgi-service';
import { fargateSizeProblems } from '../services/validation';
import { csrfTrustedOrigins, SettingsEnv } from '../settings';
import { StaticFiles } from '../static-files';
import { DjangoTaskQueue, DjangoTaskQueueProps } from '../workers/task-queue';
import { DjangoWorkerService } from '../workers/worker-service';

/** Props of DjangoApp: the site (image, host names, settings, service size) and what the project needs. */
export interface DjangoAppProps extends DjangoSiteProps, DjangoAppCompositionProps {
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
   * The WSGI application, `module:callable`, for Gunicorn or uWSGI (`'mysite.wsgi:application'` for a
   * `django-admin startproject mysite` layout). Checked against the project when the image is built from it.
   * @default - the project's `<package>/wsgi.py` when the image is `ContainerImage.fromAsset(dir)`, else 'config.wsgi:application'
   */
  readonly wsgiModule?: string;
  /**
   * The ASGI application, `module:callable`, for Daphne or Gunicorn's uvicorn worker (`'mysite.asgi:application'`
   * for a `startproject mysite` layout). Checked against the project when the image is built from it.
   * @default - the project's `<package>/asgi.py` when the image is `ContainerImage.fromAsset(dir)`, else 'config.asgi:application'
   */
  readonly asgiModule?: string;
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
   * A new PostgreSQL database (DjangoDatabase: Aurora Serverless v2 by default): `DATABASE_*` settings
   * and credentials in every app container, the services admitted on its port, migrations on; AWS
   * Backup copies daily, kept 35 days, unless `backupPlan` names another plan.
   * @default - no database
   */
  readonly database?: DjangoDatabaseOptions;
  /**
   * An existing database instead (`DjangoDatabase.fromExisting`, or a DjangoDatabase of another stack).
   * @default - see `database`
   */
  readonly existingDatabase?: IDjangoDatabase;
  /**
   * A Redis-compatible ElastiCache (DjangoCache) for the Django cache and the Channels layer:
   * `REDIS_URL` and `REDIS_PASSWORD` in every app container, the services admitted on its port.
   * @default - created when Daphne serves WebSockets (a shared Channels layer lets it run more than one task), else none
   */
  readonly cache?: DjangoAppCacheOptions;
  /**
   * An existing cache instead of a new one (`DjangoCache.fromExisting`, or a DjangoCache of another stack).
   * @default - see `cache`
   */
  readonly existingCache?: IDjangoCache;
  /**
   * Static files (and optionally media uploads) on S3 behind CloudFront (DjangoStaticFiles):
   * `DJANGO_STATIC_URL` points at the distribution, and `collectstatic` runs with the migrations.
   * @default - off: static files as `staticFiles` says
   */
  readonly staticSite?: DjangoAppStaticSiteOptions;
  /**
   * Migrations as a deploy step: the services roll out only after `manage.py migrate` exits 0.
   * @default - on when there is a database
   */
  readonly migrations?: DjangoAppMigrationsOptions;
  /**
   * Alarms and a dashboard.
   * @default - on, with the DjangoAlarms defaults and a new encrypted topic (`alarms.topic`) to subscribe to
   */
  readonly alarms?: DjangoAppAlarmsOptions;
  /**
   * Long-running commands beside the web service (Celery worker and beat, or any command), each an ECS
   * service with no load balancer that shares the app's image, settings, secrets, database and cache, and
   * starts only after the migrations. Celery's broker is the cache (created for it) unless `taskQueue` is given.
   * @default - no workers
   */
  readonly workers?: DjangoAppWorkerOptions[];
  /**
   * SQS queues as the Celery broker instead of the cache (DjangoTaskQueue): `CELERY_SQS_*` settings in every
   * app container, the web containers may enqueue, the workers consume and scale on queue depth.
   * @default - the cache is the broker of Celery workers
   */
  readonly taskQueue?: DjangoTaskQueueProps;
}

/** Migrations as a deploy step (DjangoMigrations). */
export interface DjangoAppMigrationsOptions {
  /**
   * Run the command once per new task definition revision, after the database is ready and before the services roll out; a non-zero exit fails the deployment.
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

/** A new cache of a DjangoApp (DjangoCache). */
export interface DjangoAppCacheOptions extends DjangoCacheOptions {
  /**
   * Create the cache.
   * @default - true when Daphne serves WebSockets, else false
   */
  readonly enabled?: boolean;
}

/** Static files on S3 and CloudFront for a DjangoApp (DjangoStaticFiles). */
export interface DjangoAppStaticSiteOptions extends DjangoStaticFilesProps {
  /**
   * Create the bucket(s) and distribution.
   * @default true
   */
  readonly enabled?: boolean;
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
 * The servers import `wsgiModule` (and `asgiModule` for Daphne or Gunicorn's uvicorn worker). When the
 * image is built from a local directory (`ContainerImage.fromAsset(dir)`), both default to the
 * project's own `wsgi.py`/`asgi.py`, and a module that is not there fails synth naming the one that is.
 *
 * @example
 * const site = new DjangoApp(stack, 'Site', {
 *   image: ecs.ContainerImage.fromAsset(path.join(__dirname, 'mysite')),
 *   wsgiModule: 'mysite.wsgi:application', // found in the project when left out
 * });
 * site.decision.server; // 'gunicorn'
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
  /** The VPC endpoints of the VPC created here (with `vpcOptions` that ask for them). @default - none */
  public readonly vpcEndpoints?: DjangoVpcEndpoints;
  /** The database (new or existing). @default - no database */
  public readonly database?: IDjangoDatabase;
  /** The cache (new or existing). @default - no cache */
  public readonly cache?: IDjangoCache;
  /** The S3 + CloudFront static site. @default - no static site */
  public readonly staticSite?: DjangoStaticFiles;
  /** The task definition for one-off commands (the HTTP service's `oneOffTask`); the migrations run it. */
  public readonly oneOffTask: DjangoOneOffTask;
  /** The migrations run. @default - migrations off */
  public readonly migrations?: DjangoMigrations;
  /** The alarms and dashboard. @default - alarms off */
  public readonly alarms?: DjangoAlarms;
  /** The worker services, in the order of `workers`. */
  public readonly workers: DjangoWorkerService[];
  /** The SQS broker. @default - no taskQueue */
  public readonly taskQueue?: DjangoTaskQueue;

  constructor(scope: Construct, id: string, props: DjangoAppProps) {
    super(scope, id);
    // A moving image tag is warned about here, once, not at each service inside.
    claimImageWarning(this);
    markLibraryConstruct(this);
    const requirements = props.requirements ?? {};
    throwIfProblems(this, [...selectionProblems(requirements, props.server), ...appProblems(props), ...placementProblems(props)]);
    this.decision = selectServer(requirements, props.server);
    throwIfProblems(this, compositionProblems(props, this.decision.websocketServer !== undefined));

    this.vpc = props.vpc ?? props.cluster?.vpc ?? props.loadBalancer?.vpc ?? createVpc(this, props.vpcOptions);
    this.vpcEndpoints = DjangoVpcEndpoints.of(this.vpc);
    const cluster = props.cluster ?? createCluster(this, this.vpc, props.enableExecuteCommand ?? false, props.logRetention, props.spot);
    this.cluster = cluster;
    // ---- data tier: created before the services, whose settings come from it ----
    const d = this.decision;
    const daphneServes = d.websocketServer !== undefined || d.httpServer === 'daphne';
    if (props.existingDatabase) {
      this.database = props.existingDatabase;
    } else if (props.database) {
      this.database = new DjangoDatabase(this, 'Database', { ...props.database, vpc: this.vpc });
    }
    if (props.existingCache) {
      this.cache = props.existingCache;
    } else if (props.cache?.enabled ?? (daphneServes || (workersUseCelery(props.workers) && !props.taskQueue))) {
      const { enabled: _e, ...cacheOptions } = props.cache ?? {};
      this.cache = new DjangoCache(this, 'Cache', { ...cacheOptions, vpc: this.vpc });
    }
    if (props.staticSite && (props.staticSite.enabled ?? true)) {
      const { enabled: _e, ...siteOptions } = props.staticSite;
      this.staticSite = new DjangoStaticFiles(this, 'StaticSite', siteOptions);
    }
    const settings = this.dataSettings(props);
    const channelLayer = props.channelLayer ?? this.cache?.channelLayer();

    const common: DjangoServiceBaseProps = {
      image: props.image,
      vpc: this.vpc,
      cluster,
      domainNames: props.domainNames,
      certificate: props.certificate,
      proxy: props.proxy,
      staticFiles: this.staticSite ? StaticFiles.fromUrl(this.staticSite.staticUrl) : props.staticFiles,
      settingsModule: props.settingsModule,
      secretKey: props.secretKey,
      environment: { ...settings.environment, ...props.environment },
      secrets: { ...settings.secrets, ...props.secrets },
      cpu: props.cpu,
      memoryLimitMiB: props.memoryLimitMiB,
      minCapacity: props.minCapacity,
      maxCapacity: props.maxCapacity,
      healthCheckPath: props.healthCheckPath,
      logRetention: props.logRetention,
      loadBalancerDeletionProtection: props.loadBalancerDeletionProtection,
      waf: props.waf,
      webAclArn: props.webAclArn,
      loadBalancer: props.loadBalancer,
      listener: props.listener,
      listenerRulePriority: props.listenerRulePriority,
      cpuArchitecture: props.cpuArchitecture,
      spot: props.spot,
      vpcSubnets: props.vpcSubnets,
      enableExecuteCommand: props.enableExecuteCommand,
      deployment: props.deployment,
    };

    const mixed = d.websocketServer !== undefined;
    this.httpService = this.createHttpService(common, props, channelLayer);

    if (mixed) {
      const http = this.httpService;
      const ws = new DjangoDaphneService(this, 'WebSockets', {
        ...common,
        // The same load balancer (with its web ACL) and host names; only the WebSocket paths come here.
        certificate: undefined,
        waf: undefined,
        webAclArn: undefined,
        loadBalancer: undefined,
        listener: http.listener,
        listenerRulePriority: props.listener && props.listenerRulePriority !== undefined
          ? websocketRuleOnListener(props.listenerRulePriority, props.websocketRulePriority)
          : props.websocketRulePriority ?? DEFAULT_WEBSOCKET_RULE_PRIORITY,
        listenerPathPatterns: d.websocketPaths.map((p) => `${p.replace(/\/$/, '')}/*`),
        // A rule on the HTTP service's listener shifts no traffic of its own: rolling, with the same alarm rollback.
        deployment: { rollbackOnAlarm: props.deployment?.rollbackOnAlarm, alarms: props.deployment?.alarms },
        domainNames: http.allowedHosts,
        secretKey: http.secretKey,
        asgiModule: props.asgiModule,
        websocketPaths: d.websocketPaths,
        channelLayer,
        // The proxy's static location is the HTTP service's business (WebSocket paths never ask for
        // files), but a CDN's STATIC_URL is a setting every container shares.
        staticFiles: this.staticSite ? common.staticFiles : StaticFiles.appServed(),
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

    // ---- access: each service reaches the data tier ----
    for (const svc of this.services) {
      this.database?.allowFrom(svc.service);
      this.cache?.allowFrom(svc.service);
      this.staticSite?.mediaBucket && this.staticSite.grantReadWriteMedia(svc.taskDefinition.taskRole);
    }
    // collectstatic runs with the migrations, in the one-off task, which has the HTTP service's task role.
    this.staticSite?.grantWrite(this.httpService.taskDefinition.taskRole);

    // One-off commands (and the migrations) run the HTTP service's app container alone, with its settings and roles.
    this.oneOffTask = this.httpService.addOneOffTask();
    const database = this.database;
    const runMigrations: boolean = props.migrations?.enabled ?? (database !== undefined || this.staticSite !== undefined);
    if (runMigrations) {
      const http = this.httpService;
      this.migrations = new DjangoMigrations(this, 'Migrations', {
        cluster,
        taskDefinition: this.oneOffTask.taskDefinition,
        containerName: this.oneOffTask.container.containerName,
        command: props.migrations?.command ?? defaultDeployCommand(this.staticSite !== undefined),
        timeout: props.migrations?.timeout,
        // The HTTP service's security groups: whatever the app may reach (the database), the run may.
        securityGroups: http.service.connections.securityGroups,
        vpcSubnets: serviceSubnetsOf(this.vpc, props.vpcSubnets),
        logRetention: props.logRetention,
        // Not before the writer (and every instance, and the proxy's target group) is up: migrate must connect.
        database,
      });
      // No task of the new image serves traffic before its migrations ran.
      // Only the ECS::Service resource waits: its security group is an input of the run.
      for (const s of this.services) s.service.node.defaultChild!.node.addDependency(this.migrations.customResource);
    } else if (database) {
      // Migrations off: the services still start only once the database accepts connections.
      for (const s of this.services) s.service.node.defaultChild!.node.addDependency(database.ready);
    }
    if (this.database instanceof DjangoDatabase) {
      // Nothing connects as the app before its user exists; every task holding its credentials is
      // replaced after each rotation (while the previous user still works).
      const appUser = this.database.appUser;
      this.migrations?.customResource.node.addDependency(appUser);
      for (const s of this.services) s.service.node.defaultChild!.node.addDependency(appUser);
      this.database.redeployOnRotation(...this.services.map((s) => s.service));
    }
    if (this.cache instanceof DjangoCache) {
      // A new token generation: ROTATE (by CloudFormation), the tasks roll, then SET retires the previous token.
      this.cache.retirePreviousTokenAfter(...this.services.map((s) => s.service));
    }

    const alarms = props.alarms ?? {};
    if (alarms.enabled ?? true) {
      const { enabled: _enabled, ...options } = alarms;
      this.alarms = new DjangoAlarms(this, 'Alarms', {
        // Alarms that tell nobody are easy to miss: a topic to subscribe on-call to, unless one is given.
        createTopic: options.topic === undefined,
        ...options,
        services: this.services,
        migrationsFunction: this.migrations?.isCompleteFunction,
      });
      // A deploy that raises a service's 5xx rate over the threshold rolls back (unless deployment.rollbackOnAlarm is false).
      this.alarms.serviceAlarms.forEach((a) => a.service.rollBackOnAlarms(a.http5xxRate));
    }

    // ---- workers: after the alarms (their topic), waiting for what the web services wait for ----
    if (props.taskQueue) {
      this.taskQueue = new DjangoTaskQueue(this, 'TaskQueue', { ...props.taskQueue, alarms: this.alarms !== undefined, alarmTopic: this.alarms?.topic });
      // The web code enqueues (and the migrations run shares its task definition).
      for (const svc of this.services) {
        for (const [k, v] of Object.entries(this.taskQueue.environment)) svc.appContainer.addEnvironment(k, v);
        this.taskQueue.grantSend(svc.taskDefinition.taskRole);
      }
    }
    this.workers = createAppWorkers(this, props.workers ?? [], {
      image: props.image,
      cluster,
      httpService: this.httpService,
      settingsModule: props.settingsModule,
      environment: { ...this.staticSiteEnvironment(), ...props.environment },
      secrets: props.secrets,
      database,
      cache: this.cache,
      taskQueue: this.taskQueue,
      staticSite: this.staticSite,
      staticFiles: common.staticFiles,
      logRetention: props.logRetention,
      alarms: this.alarms !== undefined,
      alarmTopic: this.alarms?.topic,
    });
    const workerServices = this.workers.map((w) => w.service);
    for (const s of workerServices) {
      const cfn = s.node.defaultChild!;
      if (this.migrations) cfn.node.addDependency(this.migrations.customResource);
      if (this.database instanceof DjangoDatabase) cfn.node.addDependency(this.database.appUser);
    }
    if (workerServices.length > 0) {
      if (this.database instanceof DjangoDatabase) this.database.redeployOnRotation(...workerServices);
      if (this.cache instanceof DjangoCache) this.cache.retirePreviousTokenAfter(...workerServices);
    }

    this.node.addMetadata('cdk-django:decision', { server: d.server, reason: d.reason });
    informUser(this, `cdk-django: ${d.server} — ${d.reason}`);
  }

  /** The static site's settings but DJANGO_STATIC_URL, which comes through staticFiles (StaticFiles.fromUrl), like every other mode. */
  private staticSiteEnvironment(): { [k: string]: string } {
    return Object.fromEntries(Object.entries(this.staticSite?.environment ?? {}).filter(([k]) => k !== SettingsEnv.STATIC_URL));
  }

  /** Settings every app container gets from the data tier; a user `environment`/`secrets` entry may not shadow one. */
  private dataSettings(props: DjangoAppProps): { environment: { [k: string]: string }; secrets: { [k: string]: ecs.Secret } } {
    const environment: { [k: string]: string } = {
      ...this.database?.environment, ...this.cache?.environment, ...this.staticSiteEnvironment(),
    };
    const secrets: { [k: string]: ecs.Secret } = { ...this.database?.secrets, ...this.cache?.secrets };
    const problems: Problem[] = [];
    for (const k of Object.keys(props.environment ?? {})) {
      if (k in environment || k in secrets) problems.push({ prop: 'environment', message: `${k} is set from the data tier (database, cache, staticSite); remove it from environment` });
    }
    for (const k of Object.keys(props.secrets ?? {})) {
      if (k in environment || k in secrets) problems.push({ prop: 'secrets', message: `${k} is set from the data tier (database, cache, staticSite); remove it from secrets` });
    }
    throwIfProblems(this, problems);
    return { environment, secrets };
  }

  private createHttpService(common: DjangoServiceBaseProps, props: DjangoAppProps, channelLayer?: ChannelLayerOptions): DjangoServiceBase {
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
          channelLayer,
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

/** The deploy-time command: migrate, and collectstatic when static files go to S3. */
function defaultDeployCommand(collectStatic: boolean): string[] | undefined {
  return collectStatic
    ? ['sh', '-c', 'python manage.py migrate --noinput && python manage.py collectstatic --noinput']
    : undefined;
}

function appProblems(props: DjangoAppProps): Problem[] {
  const problems: Problem[] = [];
  if (props.existingDatabase && props.database) {
    problems.push({ prop: 'database', message: 'give either database options (a new database) or existingDatabase, not both' });
  }
  if (props.existingCache && props.cache) {
    problems.push({ prop: 'cache', message: 'give either cache options (a new cache) or existingCache, not both' });
  }
  if (props.existingCache && props.channelLayer) {
    problems.push({ prop: 'channelLayer', message: 'the existing cache already is the Channels layer; remove channelLayer' });
  }
  if (props.staticSite && (props.staticSite.enabled ?? true) && props.staticFiles) {
    problems.push({ prop: 'staticFiles', message: 'staticSite serves the static files from CloudFront; remove staticFiles, or staticSite' });
  }
  const p = props.websocketRulePriority;
  if (p !== undefined && (!Number.isInteger(p) || p < 1 || p > 50000)) {
    problems.push({ prop: 'websocketRulePriority', message: `must be a whole number from 1 to 50000, got ${p}` });
  }
  // The task size first: the services derive their worker counts from cpu, and would report a bad cpu
  // as a problem of those (workers, processes), which are no props of DjangoApp.
  const cpu = props.cpu ?? 512;
  const memory = props.memoryLimitMiB ?? 1024;
  if ((props.cpu !== undefined || props.memoryLimitMiB !== undefined) && !Token.isUnresolved(cpu) && !Token.isUnresolved(memory)) {
    problems.push(...fargateSizeProblems(cpu, memory));
  }
  // The options of the nested constructs, checked here so their problems name DjangoApp's props
  // (database.minCapacity, not the app's own minCapacity) and come before anything is built.
  if (props.database) problems.push(...nested('database', databaseOptionsProblems(props.database)));
  if (props.cache && (props.cache.enabled ?? true)) problems.push(...nested('cache', cacheOptionsProblems(props.cache)));
  if (props.staticSite && (props.staticSite.enabled ?? true)) problems.push(...nested('staticSite', staticFilesProblems(props.staticSite)));
  if (props.migrations && (props.migrations.enabled ?? true)) {
    problems.push(...nested('migrations', migrationsCommandProblems(props.migrations.command, props.migrations.timeout)));
  }
  if (props.alarms && (props.alarms.enabled ?? true)) problems.push(...nested('alarms', alarmsOptionsProblems(props.alarms)));
  problems.push(...appWorkersProblems(props.workers, props.taskQueue, props.cache?.enabled === false && !props.existingCache, props.environment));
  return problems;
}

/** Problems of a nested construct's options, named by the DjangoApp prop that holds them. */
function nested(prop: string, problems: Problem[]): Problem[] {
  return problems.map((p) => ({ prop: `${prop}.${p.prop}`, message: p.message }));
}
