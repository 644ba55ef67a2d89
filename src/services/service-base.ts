import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { markLibraryConstruct, warnUser } from '../annotations';
import { acknowledgeInPacks, stackKey } from '../compliance';
import { Defaults } from '../defaults';
import { IDjangoService } from '../django-service';
import { throwIfProblems } from '../errors';
import { acknowledgeFinding } from '../nag';
import { acknowledgeImagePull, warnOnMovingImage } from './image-pull';
import { attachToListener, servesHttps } from './listener';
import { createLoadBalancer, createVpc } from './network';
import { addProxySidecar, bodyLimitKiB } from './proxy-sidecar';
import { appStopTimeoutSeconds, ResolvedService, resolveService, serverContextOf, serviceProblems } from './resolve';
import { addAutoscaling } from './scaling';
import { AppServerSpec, DjangoServiceBaseProps, LeafDefaults, ServerContext } from './service-props';
import { appModuleProblems, settingsModuleOf, settingsWarnings } from '../project/checks';
import { ProjectLayout } from '../project/layout';
import { projectLayoutOf } from '../project/project';
import { csrfTrustedOrigins, renderHealthProbe, SettingsEnv } from '../settings';
import { StaticFilesMode } from '../static-files';

/**
 * Everything a Django service on ECS Fargate shares, whatever the app server: network, cluster,
 * load balancer, task with app container and proxy sidecar, settings, health checks, deploy
 * safety, logs and scaling. Leaves add only the server's command line.
 */
export abstract class DjangoServiceBase extends Construct implements IDjangoService {
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
  /** The proxy sidecar (undefined with `ReverseProxy.none()`). */
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
  /** The web ACL created with `waf: true`. @default - none */
  public readonly webAcl?: wafv2.CfnWebACL;
  /** The log group of the web ACL created with `waf: true`. @default - none */
  public readonly webAclLogGroup?: logs.ILogGroup;
  /** The app server command line, as rendered for the container. */
  public readonly command: string[];
  /** Host names Django accepts (`DJANGO_ALLOWED_HOSTS`). */
  public readonly allowedHosts: string[];
  /** @internal */
  protected readonly _serverContext: ServerContext;

  protected constructor(scope: Construct, id: string, props: DjangoServiceBaseProps) {
    super(scope, id);
    markLibraryConstruct(this);

    const r = resolveService(props, this._leafDefaults(props));
    // The project the image is built from (fromAsset): its app module is the default, and is checked.
    const project = projectLayoutOf(props.image);
    this._serverContext = serverContextOf(r, project);
    const server = this._renderServer(props, this._serverContext);
    throwIfProblems(this, [...serviceProblems(props, r, server), ...appModuleProblems(server.appModule, project)]);
    this.command = server.command;
    this.warnAboutSettings(props, server, project);

    // ---- network, cluster, load balancer ----
    this.vpc = props.vpc ?? props.cluster?.vpc ?? props.loadBalancer?.vpc ?? createVpc(this);
    this.cluster = props.cluster ?? new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    if (props.loadBalancer) {
      this.loadBalancer = props.loadBalancer;
    } else if (!props.listener) {
      const { alb, bucket, waf } = createLoadBalancer(this, this.vpc, {
        idleTimeoutSeconds: r.idleTimeoutSeconds,
        deletionProtection: props.loadBalancerDeletionProtection ?? true,
        waf: props.waf ?? false,
        webAclArn: props.webAclArn,
        // The web ACL refuses what the proxy would refuse; without a proxy, nothing else limits a body: the default.
        maxBodyBytes: bodyLimitKiB(r.hasProxy ? r.reverseProxy.options.clientMaxBodySize : undefined) * 1024,
        logRetention: props.logRetention,
      });
      this.loadBalancer = alb;
      this.accessLogsBucket = bucket;
      this.webAcl = waf.webAcl;
      this.webAclLogGroup = waf.logGroup;
    }
    this.allowedHosts = props.allowedHosts ?? [this.loadBalancer!.loadBalancerDnsName];
    this.addWarnings(props, r, server);

    // ---- task: app container, optional proxy sidecar ----
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey: stackKey(this),
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', { cpu: r.cpu, memoryLimitMiB: r.memoryLimitMiB });
    acknowledgeFinding(this.taskDefinition, 'AwsSolutions-ECS2',
      'Environment holds only non-secret settings (host names, rendered proxy config); SECRET_KEY and user secrets come from Secrets Manager through the secrets field.');
    this.secretKey = props.secretKey ?? this.createSecretKey();
    this.appContainer = this.addAppContainer(props, r, server);
    warnOnMovingImage(this, props.image, this.appContainer);

    let targetPort: number = r.appPort;
    if (r.hasProxy) {
      const sidecar = addProxySidecar({
        kind: r.reverseProxy.kind,
        taskDefinition: this.taskDefinition,
        appContainer: this.appContainer,
        appImage: props.image,
        options: r.reverseProxy.options,
        logGroup: this.logGroup,
        appAddress: `127.0.0.1:${r.appPort}`,
        upstreamProtocol: server.upstreamProtocol,
        websocketPaths: server.websocketPaths ?? [],
        websocketReadTimeoutSeconds: server.websocketReadTimeoutSeconds ?? 60,
        serverNames: this.allowedHosts,
        healthCheckPath: r.healthCheckPath,
        idleTimeoutSeconds: r.idleTimeoutSeconds,
        workerTimeoutSeconds: r.workerTimeoutSeconds,
        staticFiles: r.staticFiles,
      });
      this.proxyContainer = sidecar.container;
      targetPort = sidecar.port;
    }
    this.targetContainer = this.proxyContainer ?? this.appContainer;
    acknowledgeImagePull(this.taskDefinition);

    // ---- service with deploy safety ----
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriod: Duration.seconds(r.gracePeriodSeconds),
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
      deregistrationDelay: Duration.seconds(r.deregistrationDelaySeconds),
      healthCheck: {
        path: r.healthCheckPath,
        interval: Duration.seconds(r.healthIntervalSeconds),
        timeout: Duration.seconds(r.healthTimeoutSeconds),
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
    this.listener = attachToListener(props, this.targetGroup, this.loadBalancer);

    acknowledgeInPacks(this.taskDefinition, 'IAMNoInlinePolicy',
      'The task and execution role policies are the ones CDK generates from grants to these roles (least privilege, one role each); a managed policy could be attached to other principals.');

    this.scaling = addAutoscaling(this.service, r);
  }

  /**
   * Renders the app server's command line for the task. Called once from the base constructor,
   * before the leaf's own fields are set: use only the arguments.
   * @internal
   */
  protected abstract _renderServer(props: DjangoServiceBaseProps, ctx: ServerContext): AppServerSpec;

  /**
   * Defaults a leaf may change (e.g. Daphne facing the ALB needs an idle timeout under 60 s).
   * Called from the base constructor: use only the argument.
   * @internal
   */
  protected _leafDefaults(_props: DjangoServiceBaseProps): LeafDefaults {
    return { idleTimeoutSeconds: Defaults.loadBalancerIdleTimeout, minTasks: 2 };
  }

  private addWarnings(props: DjangoServiceBaseProps, r: ResolvedService, server: AppServerSpec): void {
    if (!props.certificate && !props.listener) {
      warnUser(this, 'http-only',
        'No certificate: the site is served over plain HTTP. Give `certificate` (and `allowedHosts`) for HTTPS before real users arrive.');
    }
    if (!r.hasProxy) {
      warnUser(this, 'task-ip-allowed-host',
        'ReverseProxy.none(): ALB health checks send the task IP as Host, which Django rejects (400) unless settings.py adds the task IP from the ECS metadata endpoint to ALLOWED_HOSTS (README: "Health checks without a proxy").');
    }
    for (const warning of server.warnings ?? []) {
      warnUser(this, warning.id, warning.message);
    }
  }

  /** Warns about settings that must not reach production, in the settings module the app would load. */
  private warnAboutSettings(props: DjangoServiceBaseProps, server: AppServerSpec, project?: ProjectLayout): void {
    if (!project) return;
    const appSource = project.source(server.appModule.module.split(':')[0]);
    const settingsModule = props.settingsModule ?? (appSource && settingsModuleOf(appSource.text));
    const settings = settingsModule ? project.source(settingsModule) : undefined;
    for (const warning of settings ? settingsWarnings(settings.path, settings.text) : []) {
      warnUser(this, warning.id, warning.message);
    }
  }

  private addAppContainer(props: DjangoServiceBaseProps, r: ResolvedService, server: AppServerSpec): ecs.ContainerDefinition {
    const environment: { [k: string]: string } = {
      // Production, always: the settings block reads it (its local fallback is DEBUG on).
      [SettingsEnv.DEBUG]: 'false',
      [SettingsEnv.ALLOWED_HOSTS]: this.allowedHosts.join(','),
      [SettingsEnv.CSRF_TRUSTED_ORIGINS]: csrfTrustedOrigins(this.allowedHosts, servesHttps(props)).join(','),
    };
    if (props.settingsModule) environment[SettingsEnv.SETTINGS_MODULE] = props.settingsModule;
    if (r.staticFiles.mode !== StaticFilesMode.APP_SERVED) environment[SettingsEnv.STATIC_URL] = r.staticFiles.urlPath!;
    Object.assign(environment, server.environment ?? {}, props.environment ?? {});

    return this.taskDefinition.addContainer('app', {
      image: props.image,
      command: server.command,
      essential: true,
      environment,
      secrets: { [SettingsEnv.SECRET_KEY]: ecs.Secret.fromSecretsManager(this.secretKey), ...props.secrets },
      portMappings: [{ containerPort: r.appPort, name: 'app' }],
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'app' }),
      healthCheck: {
        command: renderHealthProbe(server.healthCheckPort ?? r.appPort, r.healthCheckPath, r.healthTimeoutSeconds - 1),
        interval: Duration.seconds(r.healthIntervalSeconds),
        timeout: Duration.seconds(r.healthTimeoutSeconds),
        retries: 3,
        startPeriod: Duration.seconds(Math.min(300, Math.max(r.gracePeriodSeconds, 10))),
      },
      stopTimeout: Duration.seconds(appStopTimeoutSeconds(props, server)),
    });
  }

  private createSecretKey(): secretsmanager.ISecret {
    const secret = new secretsmanager.Secret(this, 'SecretKey', {
      description: 'Django SECRET_KEY',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      encryptionKey: stackKey(this),
      // A replaced or deleted key logs every user out and voids signed links: keep it.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const noRotation = 'Rotating Django\'s SECRET_KEY invalidates sessions and signed tokens; it is rotated deliberately (SECRET_KEY_FALLBACKS), not on a schedule.';
    acknowledgeFinding(secret, 'AwsSolutions-SMG4', noRotation);
    acknowledgeInPacks(secret, 'SecretsManagerRotationEnabled', noRotation);
    return secret;
  }


}
