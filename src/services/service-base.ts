import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
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
import { addRollbackAlarms } from '../deploy/alarm-rollback';
import { deploymentProblems, resolveDeployment, ResolvedDeployment } from '../deploy/strategy';
import { DjangoTrafficShift, serviceDeploymentProps } from '../deploy/traffic-shift';
import { IDjangoService } from '../django-service';
import { DjangoVpcEndpoints, vpcEndpointsOf } from '../endpoints';
import { throwIfProblems } from '../errors';
import { acknowledgeFinding } from '../nag';
import { appSettings } from './app-settings';
import { acknowledgeExecuteCommand, addShellOutput, createCluster, executeCommandProblems } from './execute-command';
import { acknowledgeImagePull, warnOnMovingImage } from './image-pull';
import { attachToListener, servesHttps } from './listener';
import { createLoadBalancer, createVpc } from './network';
import { DjangoOneOffTask, DjangoOneOffTaskOptions } from './one-off-task';
import {
  architectureProblems, capacityProviderStrategiesOf, isolatedImageProblems, placementProblems, runtimePlatformOf,
  serviceSubnetsOf, warnAboutArchitecture, warnAboutSpotCluster,
} from './placement';
import { addProxySidecar, bodyLimitKiB } from './proxy-sidecar';
import { appStopTimeoutSeconds, ResolvedService, resolveService, serverContextOf, serviceProblems } from './resolve';
import { addAutoscaling } from './scaling';
import { AppServerSpec, DjangoServiceBaseProps, LeafDefaults, ServerContext } from './service-props';
import { appModuleProblems, settingsModuleOf, settingsWarnings } from '../project/checks';
import { ProjectLayout } from '../project/layout';
import { projectLayoutOf } from '../project/project';
import { renderHealthProbe } from '../settings';
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
  /** The VPC endpoints of the VPC created here (with `vpcOptions` that ask for them). @default - none */
  public readonly vpcEndpoints?: DjangoVpcEndpoints;
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
  /** The native traffic shift (two target groups, rules, test listener) of BLUE_GREEN, LINEAR and CANARY. @default - ROLLING: none */
  public readonly trafficShift?: DjangoTrafficShift;
  /** The second target group of a traffic-shifting deployment. @default - ROLLING: none */
  public readonly alternateTargetGroup?: elbv2.ApplicationTargetGroup;
  /** The app server command line, as rendered for the container. */
  public readonly command: string[];
  /** Host names Django accepts (`DJANGO_ALLOWED_HOSTS`). */
  public readonly allowedHosts: string[];
  /** Output: the `aws ecs execute-command` line that opens `manage.py shell` in a running task. @default - only with `enableExecuteCommand` */
  public readonly shellOutput?: CfnOutput;
  /** @internal */
  protected readonly _serverContext: ServerContext;
  /** The app container's image, environment and secrets, as the one-off task gets them. */
  private appSettings!: { image: ecs.ContainerImage; environment: { [k: string]: string }; secrets: { [k: string]: ecs.Secret } };
  private readonly executeCommand: boolean;
  /** Where the service's tasks run, and its one-off tasks with them. */
  private readonly serviceSubnets: ec2.SubnetSelection;
  private _oneOffTask?: DjangoOneOffTask;
  private readonly deploymentPlan: ResolvedDeployment;

  protected constructor(scope: Construct, id: string, props: DjangoServiceBaseProps) {
    super(scope, id);
    markLibraryConstruct(this);

    const r = resolveService(props, this._leafDefaults(props));
    // The project the image is built from (fromAsset): its app module is the default, and is checked.
    const project = projectLayoutOf(props.image);
    this._serverContext = serverContextOf(r, project);
    const server = this._renderServer(props, this._serverContext);
    const deployContext = {
      existingListener: props.listener !== undefined,
      hasCertificate: props.certificate !== undefined,
      allowedHosts: props.allowedHosts,
      healthCheckPath: r.healthCheckPath,
    };
    throwIfProblems(this, [
      ...serviceProblems(props, r, server), ...appModuleProblems(server.appModule, project),
      ...placementProblems(props), ...architectureProblems(props.image, props.cpuArchitecture),
      ...executeCommandProblems(props.cluster, props.enableExecuteCommand),
      ...deploymentProblems(props.deployment, deployContext),
    ]);
    this.executeCommand = props.enableExecuteCommand ?? false;
    this.deploymentPlan = resolveDeployment(props.deployment, deployContext);
    this.command = server.command;
    this.warnAboutSettings(props, server, project);

    // ---- network, cluster, load balancer ----
    this.vpc = props.vpc ?? props.cluster?.vpc ?? props.loadBalancer?.vpc ?? createVpc(this, props.vpcOptions);
    this.vpcEndpoints = DjangoVpcEndpoints.of(this.vpc);
    this.serviceSubnets = serviceSubnetsOf(this.vpc, props.vpcSubnets);
    this.cluster = props.cluster ?? createCluster(this, this.vpc, this.executeCommand, props.logRetention, props.spot);
    warnAboutArchitecture(this, props.image, props.cpuArchitecture);
    warnAboutSpotCluster(this, props.spot, props.cluster);
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
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: r.cpu, memoryLimitMiB: r.memoryLimitMiB, runtimePlatform: runtimePlatformOf(props.cpuArchitecture),
    });
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
        upstreamKeepAliveSeconds: server.proxyKeepAliveSeconds,
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
    if (vpcEndpointsOf(this.vpc) && this.vpc.privateSubnets.length === 0) {
      throwIfProblems(this, isolatedImageProblems([this.appContainer, this.proxyContainer]
        .filter((c): c is ecs.ContainerDefinition => c !== undefined).map((c) => [c.containerName, c.imageName])));
    }
    acknowledgeImagePull(this.taskDefinition);

    // ---- service with deploy safety ----
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      ...serviceDeploymentProps(this.deploymentPlan),
      healthCheckGracePeriod: Duration.seconds(r.gracePeriodSeconds),
      assignPublicIp: false,
      vpcSubnets: this.serviceSubnets,
      capacityProviderStrategies: capacityProviderStrategiesOf(props.spot),
      enableExecuteCommand: this.executeCommand,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
    });
    // Autoscaling owns the task count: a DesiredCount in the template would reset a scaled-out
    // service on every deploy. The scalable target's minimum applies from the first deploy.
    (this.service.node.defaultChild as ecs.CfnService).addPropertyDeletionOverride('DesiredCount');
    // FARGATE_SPOT must be associated with the cluster before the service names it.
    if (props.spot && this.cluster instanceof ecs.Cluster) this.service.node.defaultChild!.node.addDependency(this.cluster);

    const targetGroupProps: elbv2.ApplicationTargetGroupProps = {
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
    };
    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', targetGroupProps);
    this.listener = attachToListener(this, props, this.targetGroup, this.loadBalancer);
    if (this.deploymentPlan.shiftsTraffic) {
      this.trafficShift = new DjangoTrafficShift(this, 'Deployment', {
        deployment: props.deployment!,
        vpc: this.vpc,
        loadBalancer: this.loadBalancer!,
        listener: this.listener,
        targetGroup: this.targetGroup,
        targetGroupProps,
        certificate: props.certificate,
        allowedHosts: props.allowedHosts,
        healthCheckPath: r.healthCheckPath,
        defaultHost: this.allowedHosts[0],
        logRetention: props.logRetention,
      });
      this.alternateTargetGroup = this.trafficShift.alternateTargetGroup;
    }
    // Target the proxy container explicitly: targeting the default (first) container would skip the sidecar.
    this.targetGroup.addTarget(this.service.loadBalancerTarget({
      containerName: this.targetContainer.containerName,
      containerPort: targetPort,
      alternateTarget: this.trafficShift?.alternateTarget,
    }));
    this.trafficShift?.bindTo(this.service);
    this.rollBackOnAlarms(...props.deployment?.alarms ?? []);

    acknowledgeInPacks(this.taskDefinition, 'IAMNoInlinePolicy',
      'The task and execution role policies are the ones CDK generates from grants to these roles (least privilege, one role each); a managed policy could be attached to other principals.');

    if (this.executeCommand) {
      acknowledgeExecuteCommand(this.taskDefinition.taskRole, this.cluster);
      this.shellOutput = addShellOutput(this, this.cluster, this.service, this.appContainer.containerName);
    }

    this.scaling = addAutoscaling(this.service, r);
  }

  /**
   * Adds the task definition for one-off commands (`createsuperuser`, a data fix, the migrations): the app
   * container alone, with this service's image, settings, secrets, task and execution roles, size and CPU
   * architecture, logging to this service's log group under its own stream prefix; and CfnOutputs with the
   * `aws ecs run-task` command (this service's cluster, subnets and security groups) and the logs command.
   * Environment and secrets are those the service was created with: a variable added later with
   * `appContainer.addEnvironment` must be added to `oneOffTask.container` too. Once per service.
   */
  public addOneOffTask(options: DjangoOneOffTaskOptions = {}): DjangoOneOffTask {
    throwIfProblems(this, this._oneOffTask ? [{ prop: 'addOneOffTask', message: 'was called before on this service; use its oneOffTask' }] : []);
    const task = new DjangoOneOffTask(this, 'OneOff', {
      ...options,
      cluster: this.cluster,
      image: this.appSettings.image,
      environment: this.appSettings.environment,
      secrets: this.appSettings.secrets,
      logGroup: this.logGroup,
      securityGroups: this.service.connections.securityGroups,
      vpcSubnets: this.serviceSubnets,
      taskRole: this.taskDefinition.taskRole,
      executionRole: this.taskDefinition.obtainExecutionRole(),
      enableExecuteCommand: this.executeCommand,
    });
    task._followSizeOf(this.taskDefinition);
    this._oneOffTask = task;
    return task;
  }

  /** The one-off task definition, once `addOneOffTask` made it (DjangoApp does for its HTTP service). */
  public get oneOffTask(): DjangoOneOffTask | undefined {
    return this._oneOffTask;
  }

  /**
   * Rolls a deployment back when one of these alarms fires during it (or its bake time), unless
   * `deployment.rollbackOnAlarm` is false. DjangoApp adds each service's 5xx-rate alarm.
   */
  public rollBackOnAlarms(...alarms: cloudwatch.IAlarm[]): void {
    if (this.deploymentPlan.rollbackOnAlarm) addRollbackAlarms(this.service, alarms);
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
    const settings = appSettings({
      allowedHosts: this.allowedHosts,
      https: servesHttps(props),
      settingsModule: props.settingsModule,
      staticUrl: r.staticFiles.mode !== StaticFilesMode.APP_SERVED ? r.staticFiles.urlPath! : undefined,
      serverEnvironment: server.environment,
      environment: props.environment,
      secretKey: this.secretKey,
      secrets: props.secrets,
    });
    this.appSettings = { image: props.image, environment: { ...settings.environment }, secrets: settings.secrets };

    return this.taskDefinition.addContainer('app', {
      image: props.image,
      command: server.command,
      essential: true,
      environment: settings.environment,
      secrets: settings.secrets,
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
