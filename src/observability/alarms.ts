import { Aws, Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledgeInPacks } from '../compliance';
import { Problem, throwIfProblems } from '../errors';
import { DjangoServiceBase } from '../services/service-base';

/** Thresholds, notifications and the dashboard of DjangoAlarms (also DjangoApp's `alarms` prop). */
export interface DjangoAlarmsOptions {
  /**
   * An existing topic that gets every alarm's ALARM and OK notifications. A topic of this app that already
   * has a topic policy (e.g. `enforceSSL`) gets a statement admitting CloudWatch to publish, since such a
   * policy replaces the default one; an imported topic's policy and key policy are its owner's to set.
   * @default - no topic (unless `createTopic`): the alarms only change state; add actions with `addAlarmAction`
   */
  readonly topic?: sns.ITopic;
  /**
   * Create a topic for the notifications: KMS-encrypted with a new rotating key that CloudWatch
   * may use, and publishing only over TLS. Subscribe to it (`alarms.topic`) after deploying.
   * Mutually exclusive with `topic`.
   * @default false
   */
  readonly createTopic?: boolean;

  /**
   * Alarm when more than this percentage of a service's requests get a 5xx over 5 minutes.
   * Counts the app's 5xx (`HTTPCode_Target_5XX_Count`) and, when the service knows its load
   * balancer, the load balancer's own 502/503/504 (`HTTPCode_ELB_5XX_Count`). The load balancer
   * reports those without a target group, so services sharing a load balancer each count all of them;
   * a service on an existing `listener` counts only its own 5xx. In (0, 100].
   * @default 5
   */
  readonly http5xxRatePercent?: number;
  /**
   * Alarm when the 99th percentile of the target response time is above this in 2 of 3
   * five-minute periods.
   * @default Duration.seconds(2)
   */
  readonly p99Latency?: Duration;
  /**
   * Alarm when the service's average CPU utilization is above this percentage for 15 minutes
   * (3 five-minute periods): autoscaling is at its maximum or cannot keep up. In (0, 100].
   * @default 85
   */
  readonly cpuPercent?: number;
  /**
   * Alarm when the service's average memory utilization is above this percentage for 15 minutes
   * (3 five-minute periods): tasks are close to being OOM-killed. In (0, 100].
   * @default 85
   */
  readonly memoryPercent?: number;

  /**
   * Create a CloudWatch dashboard with traffic, errors, latency, hosts, CPU, memory, task count and
   * recent errors from the logs of every service.
   * @default true
   */
  readonly dashboard?: boolean;
  /**
   * The dashboard's name (letters, digits, `-` and `_`; at most 255). Only with `dashboard`.
   * @default - a name CloudFormation generates
   */
  readonly dashboardName?: string;
}

/** Props of DjangoAlarms. */
export interface DjangoAlarmsProps extends DjangoAlarmsOptions {
  /**
   * The services to watch, one or more (a mixed app has a WSGI and a Daphne service behind one
   * load balancer). Every service gets its own alarms and its own dashboard rows.
   */
  readonly services: DjangoServiceBase[];
  /**
   * A function that runs `manage.py migrate` (or any deploy-time job): alarm when it reports an
   * error (DjangoMigrations' `isCompleteFunction` fails when the task exits non-zero).
   * @default - no migrations alarm
   */
  readonly migrationsFunction?: lambda.IFunction;
}

/** The alarms of one service. */
export interface DjangoServiceAlarms {
  /** The service watched. */
  readonly service: DjangoServiceBase;
  /** 5xx responses as a percentage of requests. */
  readonly http5xxRate: cloudwatch.Alarm;
  /** 99th percentile of the target response time. */
  readonly p99Latency: cloudwatch.Alarm;
  /** At least one target failing the load balancer's health check for 3 minutes. */
  readonly unhealthyHosts: cloudwatch.Alarm;
  /** Service CPU utilization. */
  readonly cpu: cloudwatch.Alarm;
  /** Service memory utilization. */
  readonly memory: cloudwatch.Alarm;
}

/** Defaults of DjangoAlarmsProps. */
const DEFAULT_5XX_RATE_PERCENT = 5;
const DEFAULT_P99_LATENCY = Duration.seconds(2);
const DEFAULT_CPU_PERCENT = 85;
const DEFAULT_MEMORY_PERCENT = 85;

const FIVE_MINUTES = Duration.minutes(5);
const ONE_MINUTE = Duration.minutes(1);

/**
 * CloudWatch alarms and a dashboard for Django services: 5xx rate, p99 latency, unhealthy hosts,
 * CPU and memory per service, optionally a failed-migrations alarm, with ALARM and OK
 * notifications to an SNS topic.
 *
 * Alarms treat missing data as not breaching: the load balancer publishes no request or error
 * counts while nobody visits, and that is not an outage.
 */
export class DjangoAlarms extends Construct {
  /** The topic notified on ALARM and OK (undefined when neither `topic` nor `createTopic` was given). */
  public readonly topic?: sns.ITopic;
  /** Every alarm, of every service, plus the migrations alarm. */
  public readonly alarms: cloudwatch.Alarm[];
  /** The alarms of each service, in the order of `services`. */
  public readonly serviceAlarms: DjangoServiceAlarms[];
  /** The failed-migrations alarm (when `migrationsFunction` was given). */
  public readonly migrationsAlarm?: cloudwatch.Alarm;
  /** The dashboard (unless `dashboard: false`). */
  public readonly dashboard?: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: DjangoAlarmsProps) {
    super(scope, id);
    throwIfProblems(this, alarmsProblems(props));

    const thresholds: Thresholds = {
      http5xxRatePercent: props.http5xxRatePercent ?? DEFAULT_5XX_RATE_PERCENT,
      p99LatencySeconds: (props.p99Latency ?? DEFAULT_P99_LATENCY).toMilliseconds() / 1000,
      cpuPercent: props.cpuPercent ?? DEFAULT_CPU_PERCENT,
      memoryPercent: props.memoryPercent ?? DEFAULT_MEMORY_PERCENT,
    };

    this.topic = props.topic ?? (props.createTopic ? this.createTopic() : undefined);
    if (props.topic instanceof sns.Topic && props.topic.node.tryFindChild('Policy')) {
      // A topic of this app with a policy of its own (enforceSSL makes one) lost the default policy: admit
      // CloudWatch there too. A topic without one keeps the default policy, which admits the account's alarms.
      admitCloudWatch(props.topic);
    }

    const ids = constructIds(props.services);
    this.serviceAlarms = props.services.map((service, i) =>
      createServiceAlarms(new Construct(this, ids[i]), service, thresholds));
    this.alarms = this.serviceAlarms.flatMap((a) => [a.http5xxRate, a.p99Latency, a.unhealthyHosts, a.cpu, a.memory]);

    if (props.migrationsFunction) {
      this.migrationsAlarm = props.migrationsFunction.metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM })
        .createAlarm(this, 'MigrationsFailed', {
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          alarmDescription: `The migrations function ${props.migrationsFunction.functionName} failed: the schema may be behind the code that is now serving. `
            + 'Check the function\'s logs for the failing migration, fix it and run it again.',
        });
      this.alarms.push(this.migrationsAlarm);
    }

    if (this.topic) {
      this.addAlarmAction(new cwActions.SnsAction(this.topic));
    } else {
      acknowledgeInPacks(this, 'CloudWatchAlarmAction',
        'No topic or createTopic was given: the alarms change state for dashboards and for actions the caller adds with addAlarmAction (DjangoApp creates a topic by default).');
    }

    if (props.dashboard ?? true) {
      this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName });
      for (const a of this.serviceAlarms) addServiceWidgets(this.dashboard, a, thresholds);
      if (this.migrationsAlarm) {
        this.dashboard.addWidgets(new cloudwatch.AlarmWidget({ title: 'Migrations errors', alarm: this.migrationsAlarm, width: 24, height: 4 }));
      }
    }
  }

  /**
   * Adds an action to every alarm, run both when it goes into ALARM and when it returns to OK.
   */
  public addAlarmAction(...actions: cloudwatch.IAlarmAction[]): void {
    for (const alarm of this.alarms) {
      alarm.addAlarmAction(...actions);
      alarm.addOkAction(...actions);
    }
  }

  private createTopic(): sns.ITopic {
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the Django alarms topic',
      enableKeyRotation: true,
    });
    const cloudwatchPrincipal = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    // CloudWatch publishes to an encrypted topic only when the key lets it: the AWS-managed
    // alias/aws/sns key does not, so alarms on a topic under it are silently never delivered.
    // Unconditioned, as SNS documents it for AWS service sources: a condition key the KMS request does
    // not carry would drop every notification silently. The key encrypts only this topic, and the
    // topic policy below (which a publish passes before KMS is asked) holds the confused-deputy guard.
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsEncrypt',
      principals: [cloudwatchPrincipal],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'], // in a key policy, '*' is this key
    }));
    const topic = new sns.Topic(this, 'Topic', {
      displayName: 'Django alarms',
      masterKey: key,
      enforceSSL: true,
    });
    admitCloudWatch(topic);
    return topic;
  }
}

/**
 * A topic policy replaces the topic's default policy (which let the account's principals publish): beside
 * the TLS-only deny, it must admit CloudWatch, or every notification fails without a trace.
 */
function admitCloudWatch(topic: sns.Topic): void {
  topic.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'CloudWatchAlarmsPublish',
    principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
    actions: ['sns:Publish'],
    resources: [topic.topicArn],
    // Alarms of this account only (the confused-deputy guard CloudWatch documents for topic policies).
    conditions: {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
    },
  }));
}

interface Thresholds {
  readonly http5xxRatePercent: number;
  readonly p99LatencySeconds: number;
  readonly cpuPercent: number;
  readonly memoryPercent: number;
}

function alarmsProblems(props: DjangoAlarmsProps): Problem[] {
  const problems: Problem[] = [];
  const services = props.services ?? [];
  if (services.length === 0) {
    problems.push({ prop: 'services', message: 'give at least one service to watch' });
  }
  if (new Set(services).size !== services.length) {
    problems.push({ prop: 'services', message: 'a service is listed more than once; list each service once' });
  }
  return [...problems, ...alarmsOptionsProblems(props)];
}

/**
 * Everything wrong with the thresholds, topic and dashboard options: DjangoApp reports these under
 * `alarms.` before it builds anything.
 * @jsii ignore
 */
export function alarmsOptionsProblems(props: DjangoAlarmsOptions): Problem[] {
  const problems: Problem[] = [];
  for (const prop of ['http5xxRatePercent', 'cpuPercent', 'memoryPercent'] as const) {
    const value = props[prop];
    if (value !== undefined && !Token.isUnresolved(value) && !(value > 0 && value <= 100)) {
      problems.push({ prop, message: `must be a percentage above 0 and at most 100, got ${value}` });
    }
  }
  // toMilliseconds({ integral: false }): the plain call throws a message without the prop on NaN or a fraction of a millisecond.
  const latencyMs = props.p99Latency && !props.p99Latency.isUnresolved() ? props.p99Latency.toMilliseconds({ integral: false }) : undefined;
  if (latencyMs !== undefined && !(Number.isInteger(latencyMs) && latencyMs > 0)) {
    problems.push({ prop: 'p99Latency', message: `must be longer than zero, in whole milliseconds (e.g. Duration.seconds(2)), got ${latencyMs} ms` });
  }
  if (props.topic && props.createTopic) {
    problems.push({ prop: 'createTopic', message: 'give either an existing topic or createTopic, not both' });
  }
  if (props.dashboardName !== undefined && props.dashboard === false) {
    problems.push({ prop: 'dashboardName', message: 'names a dashboard that dashboard: false turns off; remove one of them' });
  }
  const name = props.dashboardName;
  if (name !== undefined && !Token.isUnresolved(name) && !/^[A-Za-z0-9_-]{1,255}$/.test(name)) {
    problems.push({ prop: 'dashboardName', message: `may hold only letters, digits, - and _ (1-255 characters), got '${name}'` });
  }
  return problems;
}

/**
 * A construct id per service: its own id, or its path when two services share an id (same id in
 * different scopes). Ids do not depend on the order of `services`, so reordering replaces nothing.
 */
function constructIds(services: DjangoServiceBase[]): string[] {
  const count = new Map<string, number>();
  for (const s of services) count.set(s.node.id, (count.get(s.node.id) ?? 0) + 1);
  return services.map((s) => (count.get(s.node.id) === 1 ? s.node.id : s.node.path.replace(/\//g, '-')));
}

function createServiceAlarms(scope: Construct, service: DjangoServiceBase, t: Thresholds): DjangoServiceAlarms {
  const name = service.node.path;
  const logGroup = service.logGroup.logGroupName;
  // Target group metrics carry the TargetGroup and LoadBalancer dimensions. The target group is
  // always attached to a listener by the service, so the load balancer is known from the
  // listener's ARN even when an existing listener was given (`service.loadBalancer` undefined).
  const tg = service.targetGroup.metrics;

  const http5xxRate = http5xxRateMetric(service).createAlarm(scope, 'Http5xxRate', {
    threshold: t.http5xxRatePercent,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: `More than ${t.http5xxRatePercent}% of requests to ${name} got a 5xx over 5 minutes. `
      + `5xx from the app: check the app log group ${logGroup} for tracebacks. `
      + '502/504 from the load balancer: workers crashed, were OOM-killed or timed out (check stopped tasks in ECS); 503: no healthy targets.',
  });

  const alternate = service.alternateTargetGroup?.metrics;
  const p99Latency = ofBothGroups(alternate, (g) => g.targetResponseTime({ statistic: cloudwatch.Stats.p(99), period: FIVE_MINUTES }),
    tg, 'p99').createAlarm(scope, 'P99Latency', {
    threshold: t.p99LatencySeconds,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: `The slowest 1% of requests to ${name} take over ${t.p99LatencySeconds} s. `
      + `Check the app log group ${logGroup} for slow views, the database, and CPU: workers may all be busy.`,
  });

  // Maximum, not the default Average: one target unhealthy for 3 minutes in a row is the signal,
  // however many healthy ones there are. A target in its first health checks is not counted.
  const unhealthyHosts = ofBothGroups(alternate, (g) => g.unhealthyHostCount({ statistic: cloudwatch.Stats.MAXIMUM, period: ONE_MINUTE }),
    tg, 'unhealthy hosts').createAlarm(scope, 'UnhealthyHosts', {
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: `A task of ${name} has failed the load balancer health check for 3 minutes. `
      + `Check the app log group ${logGroup}: the health check gets 400 (ALLOWED_HOSTS), 500, or times out.`,
  });

  const cpu = service.service.metricCpuUtilization({ period: FIVE_MINUTES }).createAlarm(scope, 'Cpu', {
    threshold: t.cpuPercent,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: `${name} has averaged over ${t.cpuPercent}% CPU for 15 minutes: autoscaling is at its maximum or too slow. `
      + 'Raise maxCapacity or cpu, or find the expensive views.',
  });

  const memory = service.service.metricMemoryUtilization({ period: FIVE_MINUTES }).createAlarm(scope, 'Memory', {
    threshold: t.memoryPercent,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: `${name} has averaged over ${t.memoryPercent}% memory for 15 minutes: tasks are near being OOM-killed. `
      + 'Raise memoryLimitMiB, lower the worker count, or recycle workers (max requests).',
  });

  return { service, http5xxRate, p99Latency, unhealthyHosts, cpu, memory };
}

/**
 * A target group metric, or for a traffic-shifting service the larger of its two groups' (the one not
 * serving has no data, read as 0): production moves from one group to the other with each deploy.
 */
function ofBothGroups(
  alternate: elbv2.IApplicationTargetGroupMetrics | undefined,
  metric: (g: elbv2.IApplicationTargetGroupMetrics) => cloudwatch.Metric,
  primary: elbv2.IApplicationTargetGroupMetrics,
  label: string,
): cloudwatch.Metric | cloudwatch.MathExpression {
  const first = metric(primary);
  if (!alternate) return first;
  return new cloudwatch.MathExpression({
    expression: 'MAX([FILL(primary, 0), FILL(alternate, 0)])',
    usingMetrics: { primary: first, alternate: metric(alternate) },
    period: first.period,
    label,
  });
}

/**
 * 100 x 5xx / requests over 5 minutes. Count metrics have no data points at all while nothing
 * happens, so each is FILLed with 0, and the IF keeps a window without errors at 0 instead of
 * dividing by zero. The denominator is at least the error count: the load balancer's 503s (no
 * healthy target) are not in RequestCount, and a total outage must read 100%, not 0 or more.
 */
function http5xxRateMetric(service: DjangoServiceBase): cloudwatch.MathExpression {
  const tg = service.targetGroup.metrics;
  const usingMetrics: Record<string, cloudwatch.IMetric> = {
    targetErrors: tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: FIVE_MINUTES }),
  };
  let errorsExpression = 'FILL(targetErrors, 0)';
  // A traffic-shifting service serves from either target group (and from both during a deploy): count both.
  const alternate = service.alternateTargetGroup?.metrics;
  if (alternate) {
    usingMetrics.alternateErrors = alternate.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: FIVE_MINUTES });
    errorsExpression += ' + FILL(alternateErrors, 0)';
  }
  // Without a known load balancer (existing listener) it is probably shared with other apps,
  // whose load-balancer 5xx would be counted against this one; count the app's own 5xx only.
  if (service.loadBalancer) {
    usingMetrics.elbErrors = service.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: FIVE_MINUTES });
    errorsExpression += ' + FILL(elbErrors, 0)';
  }
  const errors = new cloudwatch.MathExpression({ expression: errorsExpression, usingMetrics, period: FIVE_MINUTES, label: '5xx' });
  const requests = new cloudwatch.MathExpression({
    expression: alternate ? 'FILL(requestCount, 0) + FILL(alternateRequestCount, 0)' : 'FILL(requestCount, 0)',
    usingMetrics: {
      requestCount: tg.requestCount({ period: FIVE_MINUTES }),
      ...(alternate ? { alternateRequestCount: alternate.requestCount({ period: FIVE_MINUTES }) } : {}),
    },
    period: FIVE_MINUTES,
    label: 'requests',
  });
  return new cloudwatch.MathExpression({
    expression: 'IF(errors > 0, 100 * errors / MAX([requests, errors]), 0)',
    usingMetrics: { errors, requests },
    period: FIVE_MINUTES,
    label: '5xx % of requests',
  });
}

function addServiceWidgets(dashboard: cloudwatch.Dashboard, a: DjangoServiceAlarms, t: Thresholds): void {
  const service = a.service;
  const tg = service.targetGroup.metrics;
  const perMinute = { period: ONE_MINUTE };
  const ecsDimensions = { ClusterName: service.cluster.clusterName, ServiceName: service.service.serviceName };
  const threshold = (value: number, label: string): cloudwatch.HorizontalAnnotation => ({ value, label, color: cloudwatch.Color.RED });

  const trafficLeft: cloudwatch.IMetric[] = [
    tg.requestCount({ ...perMinute, label: 'requests' }),
    tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { ...perMinute, label: 'app 5xx' }),
    tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_4XX_COUNT, { ...perMinute, label: 'app 4xx' }),
  ];
  if (service.loadBalancer) {
    trafficLeft.push(service.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { ...perMinute, label: 'load balancer 5xx' }));
  }

  dashboard.addWidgets(new cloudwatch.TextWidget({
    markdown: `### ${service.node.path}\nAlarms: 5xx > ${t.http5xxRatePercent}%, p99 > ${t.p99LatencySeconds} s, unhealthy hosts, CPU > ${t.cpuPercent}%, memory > ${t.memoryPercent}%`,
    width: 24,
    height: 2,
  }));
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({ title: 'Requests and errors (per minute)', left: trafficLeft, width: 8 }),
    // Graph the alarm's own expression with its threshold: the same numbers the alarm evaluates.
    new cloudwatch.GraphWidget({
      title: '5xx % of requests (5 min)',
      left: [a.http5xxRate.metric],
      leftAnnotations: [threshold(t.http5xxRatePercent, '5xx alarm')],
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Target response time (s)',
      left: ['p50', 'p90', 'p99'].map((p) => tg.targetResponseTime({ ...perMinute, statistic: p, label: p })),
      leftAnnotations: [threshold(t.p99LatencySeconds, 'p99 alarm')],
      width: 8,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Targets',
      left: [
        tg.healthyHostCount({ ...perMinute, statistic: cloudwatch.Stats.MINIMUM, label: 'healthy' }),
        tg.unhealthyHostCount({ ...perMinute, statistic: cloudwatch.Stats.MAXIMUM, label: 'unhealthy' }),
      ],
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'CPU and memory (%)',
      left: [
        service.service.metricCpuUtilization({ ...perMinute, label: 'CPU' }),
        service.service.metricMemoryUtilization({ ...perMinute, label: 'memory' }),
      ],
      leftYAxis: { min: 0, max: 100 },
      leftAnnotations: [threshold(t.cpuPercent, 'CPU alarm'), threshold(t.memoryPercent, 'memory alarm')],
      width: 8,
    }),
    // Task counts exist only as Container Insights metrics (on by default for clusters the
    // service creates); with insights off on a given cluster this graph stays empty.
    new cloudwatch.GraphWidget({
      title: 'Tasks (Container Insights)',
      left: ['RunningTaskCount', 'DesiredTaskCount', 'PendingTaskCount'].map((metricName) => new cloudwatch.Metric({
        namespace: 'ECS/ContainerInsights',
        metricName,
        dimensionsMap: ecsDimensions,
        statistic: cloudwatch.Stats.AVERAGE,
        label: metricName.replace('TaskCount', '').toLowerCase(),
        ...perMinute,
      })),
      width: 8,
    }),
  );
  dashboard.addWidgets(new cloudwatch.LogQueryWidget({
    title: 'Recent errors and 5xx responses (app and proxy logs)',
    logGroupNames: [service.logGroup.logGroupName],
    queryLines: [
      'fields @timestamp, @logStream, @message',
      // Tracebacks and error levels from Django/the server; `" 5xx ` is the status after the request line in access logs.
      'filter @message like /(?i)(traceback|exception|error|critical)/ or @message like /" 5\\d\\d /',
      'sort @timestamp desc',
      'limit 100',
    ],
    width: 24,
    height: 6,
  }));
}
