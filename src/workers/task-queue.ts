import { Aws, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { stackKey } from '../compliance';
import { throwIfProblems } from '../errors';
import { Problem } from '../problems';
import { CELERY_DEFAULT_QUEUE } from './celery';
import { secondsOf } from '../durations';
import { addAlarmActions, notifyTopic } from '../observability/alarm-actions';

/** The settings the Celery SQS transport reads (the README's data-tier block turns them into Celery settings). */
export const TaskQueueEnv = {
  /** JSON object: Celery queue name -> SQS queue URL (Celery's `predefined_queues`). */
  QUEUES: 'CELERY_SQS_QUEUES',
  /** The region of the queues. */
  REGION: 'CELERY_SQS_REGION',
  /** Seconds a received message stays invisible to other workers (the queues' own visibility timeout). */
  VISIBILITY_TIMEOUT: 'CELERY_VISIBILITY_TIMEOUT',
} as const;

/** Props of DjangoTaskQueue. */
export interface DjangoTaskQueueProps {
  /**
   * The Celery queue names, one SQS queue each.
   * @default ['celery'] - Celery's default queue
   */
  readonly queueNames?: string[];
  /**
   * How long a message a worker received stays hidden from the others. Longer than any task's hard time
   * limit, or a task still running is handed to a second worker.
   * @default Duration.minutes(30)
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Receives after which a message that never completes moves to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Alarm when the oldest message of a queue has waited longer than this (3 minutes in a row): the workers
   * are down or cannot keep up. A dead-letter queue that holds any message alarms too.
   * @default Duration.minutes(10)
   */
  readonly maxMessageAge?: Duration;
  /**
   * Create the alarms (message age per queue, dead letters).
   * @default true
   */
  readonly alarms?: boolean;
  /**
   * A topic for the alarms' ALARM and OK notifications.
   * @default - none: add actions with `addAlarmAction`
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The key encrypting the queues.
   * @default - the stack's cdk-django key
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * SQS queues as the Celery broker: one queue per Celery queue name, KMS-encrypted, TLS only, with a
 * shared dead-letter queue kept 14 days. Give `environment` to every container that enqueues or
 * consumes, `grantSend` to the ones that enqueue and `grantConsume` to the workers.
 */
export class DjangoTaskQueue extends Construct {
  /** The queue of each Celery queue name. */
  public readonly queues: { [name: string]: sqs.Queue };
  /** Where messages go after `maxReceiveCount` receives. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The key encrypting the queues. */
  public readonly encryptionKey: kms.IKey;
  /** The visibility timeout of the queues, in seconds. */
  public readonly visibilityTimeoutSeconds: number;
  /** `CELERY_SQS_QUEUES`, `CELERY_SQS_REGION`, `CELERY_VISIBILITY_TIMEOUT` for the containers. */
  public readonly environment: { [name: string]: string };
  /** The alarms: the oldest message's age of each queue, and dead letters. */
  public readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: DjangoTaskQueueProps = {}) {
    super(scope, id);
    throwIfProblems(this, taskQueueProblems(props));
    const names = props.queueNames ?? [CELERY_DEFAULT_QUEUE];
    this.visibilityTimeoutSeconds = secondsOf(props.visibilityTimeout, 1800);
    const key = props.encryptionKey ?? stackKey(this);
    this.encryptionKey = key;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queues = {};
    for (const name of names) {
      this.queues[name] = new sqs.Queue(this, `Queue-${name}`, {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: key,
        // Reused data keys: a KMS call per 5 minutes per worker instead of one per message.
        dataKeyReuse: Duration.minutes(5),
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(this.visibilityTimeoutSeconds),
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
      });
    }
    this.environment = {
      [TaskQueueEnv.QUEUES]: Stack.of(this).toJsonString(Object.fromEntries(names.map((n) => [n, this.queues[n].queueUrl]))),
      [TaskQueueEnv.REGION]: Aws.REGION,
      [TaskQueueEnv.VISIBILITY_TIMEOUT]: String(this.visibilityTimeoutSeconds),
    };
    this.alarms = props.alarms ?? true ? this.createAlarms(names, secondsOf(props.maxMessageAge, 600)) : [];
    notifyTopic(this, this.alarms, props.alarmTopic);
  }

  /** Adds an action to every alarm, run both when it goes into ALARM and when it returns to OK. */
  public addAlarmAction(...actions: cloudwatch.IAlarmAction[]): void {
    addAlarmActions(this.alarms, actions);
  }

  private createAlarms(names: string[], maxAgeSeconds: number): cloudwatch.Alarm[] {
    const perMinute = { period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM };
    const alarms = names.map((name) => this.queues[name].metricApproximateAgeOfOldestMessage(perMinute)
      .createAlarm(this, `Age-${name}`, {
        threshold: maxAgeSeconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `A task in the Celery queue '${name}' has waited over ${maxAgeSeconds} s: its workers are down, stuck or too few. `
          + 'Check the worker service\'s running tasks and logs, and its maxTasks.',
      }));
    alarms.push(this.deadLetterQueue.metricApproximateNumberOfMessagesVisible(perMinute)
      .createAlarm(this, 'DeadLettersAlarm', {
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: 'A Celery task message was received too often without completing (its worker died or it exceeded the visibility timeout) '
          + 'and is in the dead-letter queue. Read it in the SQS console, fix the cause, and redrive it.',
      }));
    return alarms;
  }

  /** Lets `grantee` enqueue tasks (the web containers, beat). */
  public grantSend(grantee: iam.IGrantable): void {
    this.grantQueues(grantee, ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']);
  }

  /** Lets `grantee` run tasks: receive, delete, change visibility, and send (retries, chords). */
  public grantConsume(grantee: iam.IGrantable): void {
    this.grantQueues(grantee, [
      'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl',
    ]);
  }

  /**
   * The actions on the queues, and the two KMS actions SQS documents for producers and consumers of an
   * encrypted queue (GenerateDataKey, Decrypt): named, not the wildcards the L2's grants add.
   */
  private grantQueues(grantee: iam.IGrantable, actions: string[]): void {
    const queues = Object.values(this.queues).map((q) => q.queueArn);
    iam.Grant.addToPrincipal({ grantee, actions, resourceArns: queues });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resourceArns: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `sqs.${Aws.REGION}.amazonaws.com` } },
    });
  }
}

/**
 * Everything wrong with DjangoTaskQueue props.
 * @jsii ignore
 */
export function taskQueueProblems(props: DjangoTaskQueueProps): Problem[] {
  const problems: Problem[] = [];
  const names = props.queueNames ?? [CELERY_DEFAULT_QUEUE];
  if (names.length === 0) problems.push({ prop: 'queueNames', message: `give at least one queue name (Celery's default is '${CELERY_DEFAULT_QUEUE}')` });
  for (const n of names) {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(n)) problems.push({ prop: 'queueNames', message: `'${n}' is not an SQS queue name (letters, digits, - and _, up to 80)` });
  }
  if (new Set(names).size !== names.length) problems.push({ prop: 'queueNames', message: 'a name is listed more than once; list each queue once' });
  const v = secondsOf(props.visibilityTimeout, 1800);
  if (!(Number.isInteger(v) && v >= 0 && v <= 43200)) {
    problems.push({ prop: 'visibilityTimeout', message: `must be a whole number of seconds from 0 to 43200 (12 hours, the SQS maximum), got ${v}` });
  }
  const age = secondsOf(props.maxMessageAge, 600);
  if (!(Number.isInteger(age) && age >= 60)) {
    problems.push({ prop: 'maxMessageAge', message: `must be a whole number of seconds >= 60 (SQS publishes the age each minute), got ${age}` });
  }
  const m = props.maxReceiveCount;
  if (m !== undefined && !Token.isUnresolved(m) && !(Number.isInteger(m) && m >= 1 && m <= 1000)) {
    problems.push({ prop: 'maxReceiveCount', message: `must be a whole number from 1 to 1000, got ${m}` });
  }
  return problems;
}
