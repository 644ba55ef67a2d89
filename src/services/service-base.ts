import { Annotations, Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { Defaults } from '../defaults';
import { Problem, throwIfProblems } from '../errors';
import { Proxy, ProxyKind } from '../proxy/proxy';
import { addNginxSidecar, nginxSidecarProblems } from '../proxy/sidecar';
import { csrfTrustedOrigins, MANAGED_ENV_NAMES, renderHealthProbe, SettingsEnv } from '../settings';
import { StaticFiles, StaticFilesMode } from '../static-files';
import { enableAccessLogs } from './access-logs';
import { fargateSizeProblems, secondsOf } from './validation';

/** Props every Django service shares. */
export interface DjangoServiceBaseProps {
  /** The Django app image (your Dockerfile, e.g. `ContainerImage.fromAsset('./mysite')`). */
  readonly image: ecs.ContainerImage;

  /**
   * The VPC to run in.
   * @default - a new VPC over 2 AZs with one NAT gateway per AZ and flow logs
   */
  readonly vpc?: ec2.IVpc;
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
   * An existing listener to add this service to, with a host-header rule for `domainNames` at
   * `listenerRulePriority`. Mutually exclusive with `loadBalancer` and `certificate`.
   * @default - listeners are created on the load balancer
   */
  readonly listener?: elbv2.IApplicationListener;
  /**
   * Priority of the host-header rule on an existing `listener` (1-50000, unique on that listener).
   * @default - required when `listener` is given
   */
  readonly listenerRulePriority?: number;
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
  readonly domainNames?: string[];
  /**
   * Load balancer idle timeout. Timeouts inside nest below it, keep-alives above it.
   * @default Duration.seconds(60)
   */
  readonly idleTimeout?: Duration;

  /**
   * The reverse proxy in front of the app server.
   * @default Proxy.nginx()
   */
  readonly proxy?: Proxy;
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
   * @default 2 - one per AZ, so one task can be replaced while the other serves
   */
  readonly minCapacity?: number;
  /**
   * Maximum number of tasks CPU autoscaling may run.
   * @default - 4 x minCapacity
   */
  readonly maxCapacity?: number;
  /**
   * Average CPU utilization that autoscaling keeps tasks at.
   * @default 60
   */
  readonly targetCpuUtilization?: number;

  /**
   * Path of a view that answers 200 when Django is up (no database round trip needed).
   * @default '/healthz'
   */
  readonly healthCheckPath?: string;
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
   * Retention of the container log group.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The app worker timeout (Gunicorn `--timeout`, uWSGI `harakiri`): a request running longer is killed.
   * @default Duration.seconds(30)
   */
  readonly workerTimeout?: Duration;
}

/** What a server leaf renders for the base. @internal */
export interface AppServerSpec {
  readonly command: string[];
  readonly problems: Problem[];
  /** Seconds the server needs after SIGTERM to finish in-flight requests. */
  readonly gracefulStopSeconds: number;
  /** Seconds the server keeps idle connections open (matters when it faces the ALB). */
  readonly keepAliveSeconds?: number;
  /** Name of the prop that sets keepAliveSeconds, for error messages. */
  readonly keepAliveProp?: string;
  /** Advice shown at synth (acknowledgeable by id). */
  readonly warnings?: Array<{ id: string; message: string }>;
}

/** What the base tells a server leaf about where it runs. @internal */
export interface ServerContext {
  readonly vcpu: number;
  /** true when the load balancer targets the app server (Proxy.none()). */
  readonly facingLoadBalancer: boolean;
  readonly bindHost: string;
  readonly port: number;
  readonly idleTimeoutSeconds: number;
  readonly workerTimeoutSeconds: number;
}

const VALID_ALLOWED_HOST = /^(\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|\d{1,3}(\.\d{1,3}){3})$/;

/**
 * Everything a Django service on ECS Fargate shares, whatever the app server: network, cluster,
 * load balancer, task with app container and proxy sidecar, settings, health checks, deploy
 * safety, logs and scaling. Leaves add only the server's command line.
 */
export abstract class DjangoServiceBase extends Construct {
  /** The VPC the service runs in. */
  public readonly vpc: ec2.IVpc;
  /** The ECS cluster. */
  public readonly cluster: ecs.ICluster;
  /** The load balancer (undefined when an existing `listener` was given). */
  public readonly loadBalancer?: elbv2.IApplicationLoadBalancer;
  /** The listener the service's traffic arrives on (HTTPS when a certificate was given). */
  public readonly listener: elbv2.IApplicationListener;
  /** The target group; it targets the proxy container when there is one, else the app. */
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The task definition. */
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The Django app container. */
  public readonly appContainer: ecs.ContainerDefinition;
  /** The proxy sidecar (undefined with `Proxy.none()`). */
  public readonly proxyContainer?: ecs.ContainerDefinition;
  /** The container the load balancer sends traffic to. */
  public readonly targetContainer: ecs.ContainerDefinition;
  /** The Fargate service. */
  public readonly service: ecs.FargateService;
  /** Task count autoscaling. */
  public readonly scaling: ecs.ScalableTaskCount;
  /** The container log group. */
  public readonly logGroup: logs.LogGroup;
  /** The secret holding Django's SECRET_KEY. */
  public readonly secretKey: secretsmanager.ISecret;
  /** The bucket receiving load balancer access logs (when the load balancer was created here). */
  public readonly accessLogsBucket?: s3.IBucket;
  /** The app server command line, as rendered for the container. */
  public readonly command: string[];
  /** Host names Django accepts (`DJANGO_ALLOWED_HOSTS`). */
  public readonly allowedHosts: string[];
  /** @internal */
  protected readonly _serverContext: ServerContext;

  protected constructor(scope: Construct, id: string, props: DjangoServiceBaseProps) {
    super(scope, id);

    const proxy = props.proxy ?? Proxy.nginx();
    const staticFiles = props.staticFiles ?? StaticFiles.appServed();
    const hasProxy = proxy.kind !== ProxyKind.NONE;
    const cpu = props.cpu ?? 512;
    const memoryLimitMiB = props.memoryLimitMiB ?? 1024;
    const idleTimeoutSeconds = secondsOf(props.idleTimeout, Defaults.loadBalancerIdleTimeout);
    const workerTimeoutSeconds = secondsOf(props.workerTimeout, Defaults.workerTimeout);
    const healthCheckPath = props.healthCheckPath ?? Defaults.healthCheckPath;
    const healthInterval = secondsOf(props.healthCheckInterval, 15);
    const healthTimeout = secondsOf(props.healthCheckTimeout, 5);
    const minCapacity = props.minCapacity ?? 2;
    const maxCapacity = props.maxCapacity ?? 4 * minCapacity;
    const appPort = Defaults.appPort;

    const ctx: ServerContext = {
      vcpu: cpu / 1024,
      facingLoadBalancer: !hasProxy,
      bindHost: hasProxy ? '127.0.0.1' : '0.0.0.0',
      port: appPort,
      idleTimeoutSeconds,
      workerTimeoutSeconds,
    };
    this._serverContext = ctx;
    const server = this._renderServer(props, ctx);

    // ---- validation: every problem at once, each naming its prop ----
    const problems: Problem[] = [...server.problems, ...fargateSizeProblems(cpu, memoryLimitMiB)];
    if (props.listener && props.loadBalancer) {
      problems.push({ prop: 'listener', message: 'give either an existing listener or an existing loadBalancer, not both' });
    }
    if (props.listener && props.certificate) {
      problems.push({ prop: 'certificate', message: 'an existing listener already has its certificates; remove certificate or give loadBalancer instead of listener' });
    }
    if (props.listener && (props.domainNames ?? []).length === 0) {
      problems.push({ prop: 'domainNames', message: 'an existing listener is shared, so the service needs host names for its host-header rule' });
    }
    if (props.listener && props.listenerRulePriority === undefined) {
      problems.push({ prop: 'listenerRulePriority', message: 'required with an existing listener: pick a priority (1-50000) no other rule on it uses' });
    }
    if (props.listenerRulePriority !== undefined && !props.listener) {
      problems.push({ prop: 'listenerRulePriority', message: 'only applies to an existing listener; remove it or give listener' });
    }
    if (props.listenerRulePriority !== undefined && (!Number.isInteger(props.listenerRulePriority) || props.listenerRulePriority < 1 || props.listenerRulePriority > 50000)) {
      problems.push({ prop: 'listenerRulePriority', message: `must be a whole number from 1 to 50000, got ${props.listenerRulePriority}` });
    }
    for (const d of props.domainNames ?? []) {
      if (!Token.isUnresolved(d) && !VALID_ALLOWED_HOST.test(d)) {
        problems.push({ prop: 'domainNames', message: `'${d}' is not a host name Django's ALLOWED_HOSTS and the proxy can both match (use 'example.com' or '.example.com'; '*' would disable Host validation)` });
      }
    }
    if (idleTimeoutSeconds < 1 || idleTimeoutSeconds > 4000) {
      problems.push({ prop: 'idleTimeout', message: `must be 1-4000 seconds (the ALB's range), got ${idleTimeoutSeconds}` });
    }
    if (workerTimeoutSeconds >= idleTimeoutSeconds) {
      problems.push({ prop: 'workerTimeout', message: `(${workerTimeoutSeconds} s) must be shorter than the load balancer idle timeout (${idleTimeoutSeconds} s), or the ALB gives up first and answers 504` });
    }
    if (!/^\/[^\s;{}?#]*$/.test(healthCheckPath)) {
      problems.push({ prop: 'healthCheckPath', message: `must be a URL path starting with '/', got '${healthCheckPath}'` });
    }
    if (healthInterval < 5 || healthInterval > 300) {
      problems.push({ prop: 'healthCheckInterval', message: `must be 5-300 seconds, got ${healthInterval}` });
    }
    if (healthTimeout < 2 || healthTimeout > 120) {
      problems.push({ prop: 'healthCheckTimeout', message: `must be 2-120 seconds, got ${healthTimeout}` });
    }
    if (healthTimeout >= healthInterval) {
      problems.push({ prop: 'healthCheckTimeout', message: `(${healthTimeout} s) must be shorter than healthCheckInterval (${healthInterval} s)` });
    }
    const gracePeriod = secondsOf(props.healthCheckGracePeriod, 60);
    if (gracePeriod < 0 || gracePeriod > 2147483647) {
      problems.push({ prop: 'healthCheckGracePeriod', message: `must be >= 0 seconds, got ${gracePeriod}` });
    }
    const deregistrationDelay = secondsOf(props.deregistrationDelay, Defaults.deregistrationDelay);
    if (deregistrationDelay < 0 || deregistrationDelay > 3600) {
      problems.push({ prop: 'deregistrationDelay', message: `must be 0-3600 seconds, got ${deregistrationDelay}` });
    }
    const stopTimeout = secondsOf(props.stopTimeout, server.gracefulStopSeconds + 10);
    if (stopTimeout > Defaults.maxStopTimeout) {
      problems.push({ prop: 'stopTimeout', message: `ECS allows at most ${Defaults.maxStopTimeout} seconds, got ${stopTimeout}` });
    }
    if (stopTimeout <= server.gracefulStopSeconds) {
      problems.push({ prop: 'stopTimeout', message: `(${stopTimeout} s) must be longer than the server's graceful timeout (${server.gracefulStopSeconds} s), or ECS kills requests still being served` });
    }
    if (!Number.isInteger(minCapacity) || minCapacity < 1) {
      problems.push({ prop: 'minCapacity', message: `must be a whole number >= 1, got ${minCapacity}` });
    }
    if (!Number.isInteger(maxCapacity) || maxCapacity < minCapacity) {
      problems.push({ prop: 'maxCapacity', message: `must be a whole number >= minCapacity (${minCapacity}), got ${maxCapacity}` });
    }
    const targetCpu = props.targetCpuUtilization ?? 60;
    if (!(targetCpu >= 10 && targetCpu <= 90)) {
      problems.push({ prop: 'targetCpuUtilization', message: `must be 10-90 percent, got ${targetCpu}` });
    }
    for (const name of [...Object.keys(props.environment ?? {}), ...Object.keys(props.secrets ?? {})]) {
      if (MANAGED_ENV_NAMES.includes(name)) {
        problems.push({ prop: props.secrets?.[name] ? 'secrets' : 'environment', message: `${name} is set by the construct; use the matching prop (settingsModule, domainNames, secretKey, staticFiles) instead` });
      }
    }
    for (const name of Object.keys(props.environment ?? {})) {
      if (props.secrets?.[name]) {
        problems.push({ prop: 'environment', message: `${name} is in both environment and secrets; keep it in one` });
      }
    }
    if (server.keepAliveSeconds !== undefined && !hasProxy && server.keepAliveSeconds <= idleTimeoutSeconds) {
      problems.push({ prop: server.keepAliveProp ?? 'keepAlive', message: `(${server.keepAliveSeconds} s) must be longer than the load balancer idle timeout (${idleTimeoutSeconds} s) when the server faces the ALB, or the ALB reuses connections the server has closed (random 502s)` });
    }
    if (!hasProxy && staticFiles.mode === StaticFilesMode.FROM_IMAGE) {
      problems.push({ prop: 'staticFiles', message: 'StaticFiles.fromImage() needs a proxy to serve the files; use Proxy.nginx() or StaticFiles.appServed() (WhiteNoise)' });
    }
    if (staticFiles.directory !== undefined && !staticFiles.directory.startsWith('/')) {
      problems.push({ prop: 'staticFiles', message: `the directory must be an absolute path in the image (STATIC_ROOT), got '${staticFiles.directory}'` });
    }
    if (hasProxy) {
      problems.push(...nginxSidecarProblems(proxy.nginxOptions, { workerTimeoutSeconds, idleTimeoutSeconds, taskCpu: cpu, taskMemoryMiB: memoryLimitMiB }));
    }
    throwIfProblems(this, problems);

    this.command = server.command;

    // ---- network, cluster, load balancer ----
    this.vpc = props.vpc ?? props.cluster?.vpc ?? props.loadBalancer?.vpc ?? this.createVpc();
    this.cluster = props.cluster ?? new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    if (!props.listener) {
      if (props.loadBalancer) {
        this.loadBalancer = props.loadBalancer;
      } else {
        const alb = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
          vpc: this.vpc,
          internetFacing: true,
          dropInvalidHeaderFields: true,
          idleTimeout: Duration.seconds(idleTimeoutSeconds),
          http2Enabled: true,
        });
        this.accessLogsBucket = this.createAccessLogs(alb);
        Validations.of(alb.connections.securityGroups[0]).acknowledge({
          id: 'AwsSolutions-EC23',
          reason: 'The internet-facing load balancer accepts HTTP/HTTPS from anywhere by design; the tasks admit only this load balancer.',
        });
        this.loadBalancer = alb;
      }
    }

    this.allowedHosts = props.domainNames ?? [this.loadBalancer!.loadBalancerDnsName];
    const https = props.certificate !== undefined;
    if (!https && !props.listener) {
      Annotations.of(this).addWarningV2('cdk-django:http-only',
        'No certificate: the site is served over plain HTTP. Give `certificate` (and `domainNames`) for HTTPS before real users arrive.');
    }

    if (!hasProxy) {
      Annotations.of(this).addWarningV2('cdk-django:task-ip-allowed-host',
        'Proxy.none(): ALB health checks send the task IP as Host, which Django rejects (400) unless settings.py adds the task IP from the ECS metadata endpoint to ALLOWED_HOSTS (README: "Health checks without a proxy").');
    }
    for (const warning of server.warnings ?? []) {
      Annotations.of(this).addWarningV2(`cdk-django:${warning.id}`, warning.message);
    }

    // ---- task: app container, optional proxy sidecar ----
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', { cpu, memoryLimitMiB });
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'Environment holds only non-secret settings (host names, rendered proxy config); SECRET_KEY and user secrets come from Secrets Manager through the secrets field.',
    });

    this.secretKey = props.secretKey ?? this.createSecretKey();

    const environment: { [k: string]: string } = {
      [SettingsEnv.ALLOWED_HOSTS]: this.allowedHosts.join(','),
      [SettingsEnv.CSRF_TRUSTED_ORIGINS]: csrfTrustedOrigins(this.allowedHosts, https).join(','),
    };
    if (props.settingsModule) environment[SettingsEnv.SETTINGS_MODULE] = props.settingsModule;
    if (staticFiles.mode === StaticFilesMode.FROM_IMAGE) environment[SettingsEnv.STATIC_URL] = staticFiles.urlPath!;
    Object.assign(environment, props.environment ?? {});

    this.appContainer = this.taskDefinition.addContainer('app', {
      image: props.image,
      command: server.command,
      essential: true,
      environment,
      secrets: { [SettingsEnv.SECRET_KEY]: ecs.Secret.fromSecretsManager(this.secretKey), ...props.secrets },
      portMappings: [{ containerPort: appPort, name: 'app' }],
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'app' }),
      healthCheck: {
        command: renderHealthProbe(appPort, healthCheckPath, healthTimeout - 1),
        interval: Duration.seconds(healthInterval),
        timeout: Duration.seconds(healthTimeout),
        retries: 3,
        startPeriod: Duration.seconds(Math.min(300, Math.max(gracePeriod, 10))),
      },
      stopTimeout: Duration.seconds(stopTimeout),
    });

    let targetPort: number = appPort;
    if (hasProxy) {
      const sidecar = addNginxSidecar({
        taskDefinition: this.taskDefinition,
        appContainer: this.appContainer,
        appImage: props.image,
        options: proxy.nginxOptions,
        logGroup: this.logGroup,
        appAddress: `127.0.0.1:${appPort}`,
        serverNames: this.allowedHosts,
        healthCheckPath,
        idleTimeoutSeconds,
        workerTimeoutSeconds,
        staticFiles,
      });
      this.proxyContainer = sidecar.container;
      targetPort = sidecar.port;
    }
    this.targetContainer = this.proxyContainer ?? this.appContainer;

    // ---- service with deploy safety ----
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriod: Duration.seconds(gracePeriod),
      assignPublicIp: false,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      enableExecuteCommand: false,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
    });
    // Autoscaling owns the task count: a DesiredCount in the template would reset a scaled-out
    // service on every deploy. The scalable target's minimum applies from the first deploy.
    (this.service.node.defaultChild as ecs.CfnService).addPropertyDeletionOverride('DesiredCount');

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc: this.vpc,
      port: targetPort,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: Duration.seconds(deregistrationDelay),
      healthCheck: {
        path: healthCheckPath,
        interval: Duration.seconds(healthInterval),
        timeout: Duration.seconds(healthTimeout),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
        healthyHttpCodes: '200',
      },
    });
    // Target the proxy container explicitly: targeting the default (first) container would skip the sidecar.
    this.targetGroup.addTarget(this.service.loadBalancerTarget({
      containerName: this.targetContainer.containerName,
      containerPort: targetPort,
    }));

    this.listener = this.attachToListener(props, this.targetGroup);

    this.scaling = this.service.autoScaleTaskCount({ minCapacity, maxCapacity });
    this.scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: targetCpu,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(180),
    });
  }

  /**
   * Renders the app server's command line for the task. Called once from the base constructor,
   * before the leaf's own fields are set: use only the context and the props the leaf captured.
   * @internal
   */
  protected abstract _renderServer(props: DjangoServiceBaseProps, ctx: ServerContext): AppServerSpec;

  private createVpc(): ec2.IVpc {
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 2,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: false },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      ],
    });
    vpc.addFlowLog('FlowLogs', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(this, 'FlowLogsGroup', {
        retention: logs.RetentionDays.ONE_YEAR,
        removalPolicy: RemovalPolicy.RETAIN,
      })),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    return vpc;
  }

  private createAccessLogs(alb: elbv2.ApplicationLoadBalancer): s3.IBucket {
    const bucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED, // the only encryption ALB log delivery supports
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
    });
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket is itself the access-log destination of the load balancer; logging it to another bucket would only move the question.',
    });
    enableAccessLogs(alb, bucket, 'alb');
    return bucket;
  }

  private createSecretKey(): secretsmanager.ISecret {
    const secret = new secretsmanager.Secret(this, 'SecretKey', {
      description: 'Django SECRET_KEY',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'Rotating Django\'s SECRET_KEY invalidates sessions and signed tokens; it is rotated deliberately (SECRET_KEY_FALLBACKS), not on a schedule.',
    });
    return secret;
  }

  private attachToListener(props: DjangoServiceBaseProps, targetGroup: elbv2.ApplicationTargetGroup): elbv2.IApplicationListener {
    if (props.listener) {
      props.listener.addTargetGroups('Django', {
        targetGroups: [targetGroup],
        priority: props.listenerRulePriority,
        conditions: [elbv2.ListenerCondition.hostHeaders(props.domainNames!.map((d) => (d.startsWith('.') ? `*${d}` : d)))],
      });
      return props.listener;
    }
    const lb = this.loadBalancer!;
    if (props.certificate) {
      const https = lb.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [props.certificate],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultTargetGroups: [targetGroup],
        open: true,
      });
      lb.addListener('HttpRedirect', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
        open: true,
      });
      return https;
    }
    return lb.addListener('Http', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      defaultTargetGroups: [targetGroup],
      open: true,
    });
  }
}
