import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { informUser, markLibraryConstruct } from '../annotations';
import { ChannelLayerOptions } from '../channel-layer';
import { DjangoVpcEndpoints } from '../endpoints';
import { appProblems } from './app-problems';
import { createAppWorkers, workersUseCelery } from './app-workers';
import { compositionProblems, websocketRuleOnListener } from './composition';
import { DjangoServerChoice, selectionProblems, selectServer, ServerDecision } from './selection';
import { DjangoCache, IDjangoCache } from '../data/cache';
import { DjangoDatabase, IDjangoDatabase } from '../data/database';
import { DjangoStaticFiles } from '../data/static-site';
import { throwIfProblems } from '../errors';
import { claimImageWarning } from '../image-tags';
import { DjangoMigrations } from '../migrations/migrations';
import { DjangoAlarms } from '../observability/alarms';
import { Problem } from '../problems';
import { DjangoAppProps } from './django-app-props';
import { GunicornWorkerClass } from '../servers/gunicorn';
import { DjangoDaphneService } from '../services/daphne-service';
import { createCluster, executeCommandProblems } from '../services/execute-command';
import { DjangoGunicornService } from '../services/gunicorn-service';
import { createVpc } from '../services/network';
import { DjangoOneOffTask } from '../services/one-off-task';
import { placementProblems, serviceSubnetsOf } from '../services/placement';
import { DjangoServiceBase } from '../services/service-base';
import { DjangoServiceBaseProps } from '../services/service-props';
import { defaultUwsgiProcesses, DjangoUwsgiService } from '../services/uwsgi-service';
import { SettingsEnv } from '../settings';
import { StaticFiles } from '../static-files';
import { DjangoTaskQueue } from '../workers/task-queue';
import { DjangoWorkerService } from '../workers/worker-service';


const DEFAULT_WEBSOCKET_RULE_PRIORITY = 40000;

/**
 * A Django project in production: picks Gunicorn, uWSGI, Daphne, or a WSGI server beside a WebSocket
 * server, from the project's requirements, and builds the service(s) behind one load balancer.
 *
 * The servers import `wsgiModule` (and `asgiModule` for Gunicorn's uvicorn worker or Daphne). When the
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
  /** The WebSocket service of a mixed app (Gunicorn's uvicorn worker, or Daphne), serving the WebSocket paths. @default - not mixed */
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
    throwIfProblems(this, [
      ...selectionProblems(requirements, props.server), ...appProblems(props), ...placementProblems(props),
      ...executeCommandProblems(props.cluster, props.enableExecuteCommand),
    ]);
    this.decision = selectServer(requirements, props.server);
    throwIfProblems(this, compositionProblems(props, this.decision.websocketServer !== undefined));

    this.vpc = props.vpc ?? props.cluster?.vpc ?? props.loadBalancer?.vpc ?? createVpc(this, props.vpcOptions);
    this.vpcEndpoints = DjangoVpcEndpoints.of(this.vpc);
    const cluster = props.cluster ?? createCluster(this, this.vpc, props.enableExecuteCommand ?? false, props.logRetention, props.spot);
    this.cluster = cluster;
    // ---- data tier: created before the services, whose settings come from it ----
    const d = this.decision;
    // Channels consumers want a shared layer: Redis, so that more than one task can serve them.
    const channelsServe = d.websocketPaths.length > 0 || d.httpServer === DjangoServerChoice.DAPHNE;
    if (props.database) {
      this.database = props.database;
    } else if (props.databaseOptions) {
      this.database = new DjangoDatabase(this, 'Database', { ...props.databaseOptions, vpc: this.vpc });
    }
    if (props.cache) {
      this.cache = props.cache;
    } else if (props.cacheOptions?.enabled ?? ((channelsServe && !props.channelLayer) || (workersUseCelery(props.workers) && !props.taskQueue))) {
      const { enabled: _e, ...cacheOptions } = props.cacheOptions ?? {};
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
      allowedHosts: props.allowedHosts,
      certificate: props.certificate,
      reverseProxy: props.reverseProxy,
      staticFiles: this.staticSite ? StaticFiles.fromUrl(this.staticSite.staticUrl) : props.staticFiles,
      settingsModule: props.settingsModule,
      secretKey: props.secretKey,
      environment: { ...settings.environment, ...props.environment },
      secrets: { ...settings.secrets, ...props.secrets },
      cpu: props.cpu,
      memoryLimitMiB: props.memoryLimitMiB,
      minTasks: props.minTasks,
      maxTasks: props.maxTasks,
      targetCpuUtilization: props.targetCpuUtilization,
      targetMemoryUtilization: props.targetMemoryUtilization,
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
      const wsProps: DjangoServiceBaseProps = {
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
        allowedHosts: http.allowedHosts,
        secretKey: http.secretKey,
        // The proxy's static location is the HTTP service's business (WebSocket paths never ask for
        // files), but a CDN's STATIC_URL is a setting every container shares.
        staticFiles: this.staticSite ? common.staticFiles : StaticFiles.appServed(),
      };
      const channels = { asgiModule: props.asgiModule, websocketPaths: d.websocketPaths, channelLayer };
      this.websocketService = d.websocketServer === DjangoServerChoice.DAPHNE
        ? new DjangoDaphneService(this, 'WebSockets', { ...wsProps, ...channels })
        : new DjangoGunicornService(this, 'WebSockets', { ...wsProps, ...channels, workerClass: d.websocketWorkerClass });
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
      this.alarms.serviceAlarms.forEach((a) => (a.service as DjangoServiceBase).rollBackOnAlarms(a.http5xxRate));
    }
    this.workers = this.createWorkers(props, cluster, common);

    this.node.addMetadata('cdk-django:decision', { server: d.server, reason: d.reason });
    informUser(this, `cdk-django: ${d.server} — ${d.reason}`);
  }

  /** Workers and the SQS broker: after the alarms (their topic), waiting for what the web services wait for. */
  private createWorkers(props: DjangoAppProps, cluster: ecs.ICluster, common: DjangoServiceBaseProps): DjangoWorkerService[] {
    if (props.taskQueue) {
      const queue = new DjangoTaskQueue(this, 'TaskQueue', { ...props.taskQueue, alarms: this.alarms !== undefined, alarmTopic: this.alarms?.topic });
      (this as { taskQueue?: DjangoTaskQueue }).taskQueue = queue;
      // The web code enqueues (and the migrations run shares its task role).
      for (const svc of this.services) {
        for (const [k, v] of Object.entries(queue.environment)) svc.appContainer.addEnvironment(k, v);
        queue.grantSend(svc.taskDefinition.taskRole);
      }
      // The one-off task (and the migrations) copied the app container's settings when it was made.
      for (const [k, v] of Object.entries(queue.environment)) this.oneOffTask.container.addEnvironment(k, v);
    }
    const workers = createAppWorkers(this, props.workers ?? [], {
      image: props.image,
      cluster,
      httpService: this.httpService,
      settingsModule: props.settingsModule,
      environment: { ...this.staticSiteEnvironment(), ...props.environment },
      secrets: props.secrets,
      database: this.database,
      cache: this.cache,
      taskQueue: this.taskQueue,
      staticSite: this.staticSite,
      staticFiles: common.staticFiles,
      logRetention: props.logRetention,
      alarms: this.alarms !== undefined,
      alarmTopic: this.alarms?.topic,
    });
    const workerServices = workers.map((w) => w.service);
    for (const s of workerServices) {
      const cfn = s.node.defaultChild!;
      if (this.migrations) cfn.node.addDependency(this.migrations.customResource);
      if (this.database instanceof DjangoDatabase) cfn.node.addDependency(this.database.appUser);
    }
    if (workerServices.length > 0) {
      if (this.database instanceof DjangoDatabase) this.database.redeployOnRotation(...workerServices);
      if (this.cache instanceof DjangoCache) this.cache.retirePreviousTokenAfter(...workerServices);
    }
    return workers;
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
      case DjangoServerChoice.UWSGI:
        return new DjangoUwsgiService(this, 'Web', {
          ...common,
          wsgiModule: props.wsgiModule,
          // Adaptive spawning: idle workers are stopped down to half, and respawned as load grows.
          cheaper: props.requirements?.advancedProcessManagement || (props.requirements?.expectedConcurrency ?? 0) > 0
            ? { min: Math.max(1, Math.floor(defaultUwsgiProcesses((props.cpu ?? 512) / 1024) / 2)) } : undefined,
          // requirements.uwsgiCache: a shared cache named 'default' (CACHES uses django-uwsgi-cache's backend).
          cache: props.requirements?.uwsgiCache ? { name: 'default', items: 1000 } : undefined,
        });
      case DjangoServerChoice.DAPHNE:
        return new DjangoDaphneService(this, 'Web', {
          ...common,
          asgiModule: props.asgiModule,
          websocketPaths: d.websocketPaths.length > 0 ? d.websocketPaths : undefined,
          channelLayer,
        });
      default: {
        const asgi = d.gunicornWorkerClass === GunicornWorkerClass.UVICORN;
        // Not mixed, with WebSockets: this one service serves their paths too.
        const ws = asgi && d.websocketServer === undefined && d.websocketPaths.length > 0;
        return new DjangoGunicornService(this, 'Web', {
          ...common,
          workerClass: d.gunicornWorkerClass,
          wsgiModule: props.wsgiModule,
          asgiModule: asgi ? props.asgiModule : undefined,
          websocketPaths: ws ? d.websocketPaths : undefined,
          channelLayer: ws ? channelLayer : undefined,
        });
      }
    }
  }
}

/** The deploy-time command: migrate, and collectstatic when static files go to S3. */
function defaultDeployCommand(collectStatic: boolean): string[] | undefined {
  return collectStatic
    ? ['sh', '-c', 'python manage.py migrate --noinput && python manage.py collectstatic --noinput']
    : undefined;
}
