import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { markLibraryConstruct, warnUser } from '../annotations';
import { acknowledgeInPacks, stackKey } from '../compliance';
import { throwIfProblems } from '../errors';
import { acknowledgeFinding } from '../nag';
import { appSettings } from '../services/app-settings';
import { StaticFilesMode } from '../static-files';
import { WorkerCommandKind } from './worker-command';
import { DjangoWorkerServiceProps } from './worker-props';
import { resolveWorker, ResolvedWorker, workerProblems } from './worker-resolve';
import { addAlarmActions, notifyTopic } from '../observability/alarm-actions';

/**
 * A long-running Django command (a Celery worker, Celery beat, or any command) as an ECS Fargate service
 * with no load balancer, sharing the web service's image, settings, secrets, database and cache.
 *
 * Celery is the container's process 1, so ECS's SIGTERM starts its warm shutdown (no new tasks, running
 * ones finish) and `stopTimeout` gives them their soft time limit. Beat and other singletons run exactly
 * one task: desired count 1, and deploys stop the old task before they start the new one.
 */
export class DjangoWorkerService extends Construct {
  /** The task definition. */
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The worker container. */
  public readonly container: ecs.ContainerDefinition;
  /** The Fargate service. */
  public readonly service: ecs.FargateService;
  /** Task count autoscaling. @default - none for a singleton (beat) */
  public readonly scaling?: ecs.ScalableTaskCount;
  /** The container log group. */
  public readonly logGroup: logs.LogGroup;
  /** The command line, as rendered for the container. */
  public readonly command: string[];
  /** Whether the service runs exactly one task. */
  public readonly singleton: boolean;
  /** The alarms of this service. */
  public readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: DjangoWorkerServiceProps) {
    super(scope, id);
    markLibraryConstruct(this);
    const r = resolveWorker(props);
    throwIfProblems(this, workerProblems(props, r));
    this.command = r.rendered.command;
    this.singleton = props.command.singleton;
    if (r.stopTimeoutSeconds <= (r.rendered.hardLimitSeconds ?? 0)) {
      warnUser(this, 'worker-stop-before-time-limit',
        `stopTimeout (${r.stopTimeoutSeconds} s) is not above timeLimit (${r.rendered.hardLimitSeconds} s): a task still cleaning up after its soft time limit at SIGTERM is killed.`);
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey: stackKey(this),
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: r.cpu,
      memoryLimitMiB: r.memoryLimitMiB,
      runtimePlatform: {
        cpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    acknowledgeFinding(this.taskDefinition, 'AwsSolutions-ECS2',
      'Environment holds only non-secret settings (host names, queue URLs); SECRET_KEY and the data tier credentials come from Secrets Manager through the secrets field.');
    acknowledgeInPacks(this.taskDefinition, 'IAMNoInlinePolicy',
      'The task and execution role policies are the ones CDK generates from grants to these roles (least privilege, one role each); a managed policy could be attached to other principals.');

    const settings = appSettings({
      allowedHosts: props.allowedHosts,
      settingsModule: props.settingsModule,
      staticUrl: props.staticFiles && props.staticFiles.mode !== StaticFilesMode.APP_SERVED ? props.staticFiles.urlPath : undefined,
      environment: r.environment,
      secretKey: props.secretKey,
      secrets: r.secrets,
    });
    this.container = this.taskDefinition.addContainer('worker', {
      image: props.image,
      command: this.command,
      essential: true,
      environment: settings.environment,
      secrets: settings.secrets,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'worker' }),
      stopTimeout: Duration.seconds(r.stopTimeoutSeconds),
    });
    acknowledgeImagePull(this.taskDefinition);

    if (props.spot && props.cluster instanceof ecs.Cluster) props.cluster.enableFargateCapacityProviders();
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      // A singleton is stopped before its replacement starts: never two schedulers, not even for a minute.
      minHealthyPercent: this.singleton ? 0 : 100,
      maxHealthyPercent: this.singleton ? 100 : 200,
      desiredCount: this.singleton ? 1 : undefined,
      circuitBreaker: { enable: true, rollback: true },
      assignPublicIp: false,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      enableExecuteCommand: false,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
      capacityProviderStrategies: props.spot ? [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] : undefined,
    });

    props.database?.allowFrom(this.service);
    props.cache?.allowFrom(this.service);
    if (props.database) this.service.node.defaultChild!.node.addDependency(props.database.ready);
    if (props.taskQueue) {
      if (props.command.kind === WorkerCommandKind.CELERY_BEAT) props.taskQueue.grantSend(this.taskDefinition.taskRole);
      else props.taskQueue.grantConsume(this.taskDefinition.taskRole);
    }

    if (!this.singleton) this.scaling = this.addScaling(props, r);
    this.alarms = props.alarms ?? true ? this.createAlarms(props, r) : [];
    notifyTopic(this, this.alarms, props.alarmTopic);
  }

  /** Adds an action to every alarm of this service, run both when it goes into ALARM and when it returns to OK. */
  public addAlarmAction(...actions: cloudwatch.IAlarmAction[]): void {
    addAlarmActions(this.alarms, actions);
  }

  private addScaling(props: DjangoWorkerServiceProps, r: ResolvedWorker): ecs.ScalableTaskCount {
    // Autoscaling owns the task count: a DesiredCount in the template would reset a scaled-out service on every deploy.
    (this.service.node.defaultChild as ecs.CfnService).addPropertyDeletionOverride('DesiredCount');
    const scaling = this.service.autoScaleTaskCount({ minCapacity: r.minTasks, maxCapacity: r.maxTasks });
    if (props.taskQueue && r.rendered.queues.length > 0) {
      // The deepest of the queues this worker consumes: SQS publishes each queue's depth every minute.
      const metrics = r.rendered.queues.map((q) => props.taskQueue!.queues[q].metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM,
      }));
      const metric = metrics.length === 1 ? metrics[0] : new cloudwatch.MathExpression({
        expression: `MAX([${metrics.map((_, i) => `q${i}`).join(', ')}])`,
        usingMetrics: Object.fromEntries(metrics.map((m, i) => [`q${i}`, m])),
        period: Duration.minutes(1),
        label: 'deepest queue',
      });
      scaling.scaleOnMetric('QueueDepth', {
        metric,
        adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
        scalingSteps: [
          { upper: 0, change: -1 },
          { lower: r.scaleOutQueueDepth, change: +1 },
          { lower: 5 * r.scaleOutQueueDepth, change: +3 },
        ],
        cooldown: Duration.minutes(2),
      });
    } else {
      scaling.scaleOnCpuUtilization('Cpu', {
        targetUtilizationPercent: r.targetCpuUtilization,
        scaleOutCooldown: Duration.seconds(60),
        scaleInCooldown: Duration.seconds(300),
      });
    }
    return scaling;
  }

  private createAlarms(props: DjangoWorkerServiceProps, r: ResolvedWorker): cloudwatch.Alarm[] {
    const name = this.node.path;
    const minimum = this.singleton ? 1 : r.minTasks;
    // Container Insights (on in the clusters this library creates) publishes the running task count each minute.
    const running = new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights',
      metricName: 'RunningTaskCount',
      dimensionsMap: { ClusterName: props.cluster.clusterName, ServiceName: this.service.serviceName },
      statistic: cloudwatch.Stats.MINIMUM,
      period: Duration.minutes(1),
    });
    const alarms = [running.createAlarm(this, 'RunningTasks', {
      threshold: minimum,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      // 5 minutes: a singleton's deploy stops the old task before the new one runs.
      evaluationPeriods: 5,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
      alarmDescription: `${name} has run fewer than ${minimum} task(s) for 5 minutes: no one is ${this.singleton ? 'scheduling' : 'running'} tasks. `
        + `Check the stopped tasks in ECS and the log group ${this.logGroup.logGroupName} (import errors, broker unreachable).`,
    })];
    if (!props.taskQueue && props.command.kind === WorkerCommandKind.CELERY_WORKER) {
      alarms.push(this.service.metricCpuUtilization({ period: Duration.minutes(5) }).createAlarm(this, 'Cpu', {
        threshold: 85,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `${name} has averaged over 85% CPU for 15 minutes: the workers cannot keep up with the queue (the Redis broker's queue length is not a CloudWatch metric). Raise maxTasks or cpu.`,
      }));
    }
    return alarms;
  }
}

/**
 * An image from ECR makes the execution role call ecr:GetAuthorizationToken, which has no resource-level
 * permissions: acknowledge exactly that.
 */
function acknowledgeImagePull(taskDefinition: ecs.TaskDefinition): void {
  const policy = taskDefinition.executionRole?.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  const statements: any[] = policy ? (policy.document.toJSON()?.Statement ?? []) : [];
  if (statements.some((s) => s.Resource === '*' && [s.Action].flat().includes('ecr:GetAuthorizationToken'))) {
    acknowledgeFinding(policy!, 'AwsSolutions-IAM5[Resource::*]',
      'ecr:GetAuthorizationToken (pulling the app image from ECR) supports no resource-level permissions; the image pull itself is scoped to its repository.');
  }
}
