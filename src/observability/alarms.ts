import { Aws, Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledgeInPacks } from '../compliance';
import { IDjangoService } from '../django-service';
import { throwIfProblems } from '../errors';
import { Problem } from '../problems';
import { addAlarmActions } from './alarm-actions';
import { addServiceWidgets } from './dashboard';
import { createServiceAlarms, DjangoServiceAlarms, FIVE_MINUTES, Thresholds } from './service-alarms';

export { DjangoServiceAlarms } from './service-alarms';

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
  readonly services: IDjangoService[];
  /**
   * A function that runs `manage.py migrate` (or any deploy-time job): alarm when it reports an
   * error (DjangoMigrations' `isCompleteFunction` fails when the task exits non-zero).
   * @default - no migrations alarm
   */
  readonly migrationsFunction?: lambda.IFunction;
}

/** Defaults of DjangoAlarmsProps. */
const DEFAULT_5XX_RATE_PERCENT = 5;
const DEFAULT_P99_LATENCY = Duration.seconds(2);
const DEFAULT_CPU_PERCENT = 85;
const DEFAULT_MEMORY_PERCENT = 85;

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
    addAlarmActions(this.alarms, actions);
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
function constructIds(services: IDjangoService[]): string[] {
  const count = new Map<string, number>();
  for (const s of services) count.set(s.node.id, (count.get(s.node.id) ?? 0) + 1);
  return services.map((s) => (count.get(s.node.id) === 1 ? s.node.id : s.node.path.replace(/\//g, '-')));
}
