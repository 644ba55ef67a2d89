import * as crypto from 'crypto';
import { Aws, CfnElement, CustomResource, Duration, Lazy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeInPacks, stackKey } from '../compliance';
import { IDjangoDatabase } from '../data/database';
import { secondsOf } from '../durations';
import { throwIfProblems } from '../errors';
import { inlineFunction, InlineFunction } from '../inline-function';
import { acknowledgeFinding } from '../nag';
import { perCreateName } from '../names';
import { Problem } from '../problems';
import { MIGRATIONS_HANDLER_SOURCE } from './handler-source';
import { selectedSubnetIds } from '../subnets';

/** How often the provider asks whether the task has stopped. */
const QUERY_INTERVAL_SECONDS = 15;
/** The provider framework's limit (and CloudFormation's for a custom resource): one hour. */
const MAX_TIMEOUT_SECONDS = 3600;
const MIN_TIMEOUT_SECONDS = 60;
/** The isComplete handler stops the task this long before the provider gives up, to report it. */
const STOP_MARGIN_SECONDS = 2 * QUERY_INTERVAL_SECONDS;

const PROVIDER_CONCURRENCY = 'CloudFormation invokes these handlers once per deployment of this resource; reserving concurrency would only take it from the account pool.';
const PROVIDER_DEAD_LETTER = 'The handlers are invoked synchronously by the provider framework, which reports every failure to CloudFormation (the deployment fails); there is no asynchronous event to dead-letter.';
const PROVIDER_OUTSIDE_VPC = 'The handlers call only the ECS API (RunTask, DescribeTasks, StopTask) and reach no resource in the VPC; the migrations task itself runs in the private subnets.';

/** How long a migrations run may take by default: 30 minutes. */
const DEFAULT_TIMEOUT_SECONDS = 1800;

/**
 * Props for `DjangoMigrations`.
 */
export interface DjangoMigrationsProps {
  /** The cluster to run the migrations task in. */
  readonly cluster: ecs.ICluster;

  /**
   * The app's task definition (a service's `oneOffTask.taskDefinition`, or the service's own). It must be Fargate-compatible and already
   * hold the container named `containerName`: create `DjangoMigrations` after adding containers.
   */
  readonly taskDefinition: ecs.TaskDefinition;

  /**
   * The container whose command is overridden; its exit code decides success.
   * @default 'app'
   */
  readonly containerName?: string;

  /**
   * The command to run instead of the container's, e.g.
   * `['sh', '-c', 'python manage.py migrate --noinput && python manage.py createcachetable']`.
   * It replaces the image's CMD only: an ENTRYPOINT still runs in front of it.
   * @default ['python', 'manage.py', 'migrate', '--noinput']
   */
  readonly command?: string[];

  /**
   * The database the command migrates: the run starts only once it is `ready` (every instance, and the
   * RDS Proxy's target group), not merely created, so that `migrate` can connect on a first deploy.
   * @default - waits for nothing but the task definition: add `migrations.node.addDependency(...)` for a database of your own
   */
  readonly database?: IDjangoDatabase;

  /** Security groups of the migrations task; they must let it reach the database. */
  readonly securityGroups: ec2.ISecurityGroup[];

  /**
   * Subnets of the migrations task (no public IP is assigned).
   * @default - private subnets with egress of the cluster's VPC
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * How long the task may run before the deployment fails (and the task is stopped).
   * From 1 minute to 1 hour, in steps of 15 seconds.
   * @default Duration.minutes(30)
   */
  readonly timeout?: Duration;

  /**
   * The awslogs stream prefix of the container, used to name the log stream in failure messages.
   * @default - the container's awslogs `streamPrefix`, or 'app' when it logs elsewhere
   */
  readonly logStreamPrefix?: string;

  /**
   * Retention of the logs of the functions that start and watch the task.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Runs Django migrations as a deployment step: a custom resource runs the app's task definition
 * once with `python manage.py migrate --noinput` (or `command`), waits for it to stop, and fails
 * the deployment with the exit code and log stream when it does not exit 0.
 *
 * Make services wait for it with `service.node.addDependency(migrations)`.
 *
 * Each run is pinned to the exact task definition revision it belongs to, through the custom
 * resource's properties: it runs on create and whenever the revision (any change of the task
 * definition: the image, a setting, CPU), the container or the command changes; an unchanged
 * redeploy runs nothing. `migrate` is idempotent, so a run for a settings-only change applies
 * nothing and costs one short task. When a later resource fails and the stack rolls back,
 * CloudFormation updates the resource back to the previous properties, so the previous revision
 * runs its command (it does not unapply the new migrations). A moving image tag (`latest`) defeats
 * this: a new push changes no revision, so nothing runs (the services warn about such tags at synth).
 * Deleting the resource never touches the database.
 */
export class DjangoMigrations extends Construct {
  /** The custom resource; its deployment is the migrations run. */
  public readonly customResource: CustomResource;
  /** The command the task runs. */
  public readonly command: string[];
  /** The container whose command is overridden. */
  public readonly containerName: string;
  /** What decides a re-run: the task definition revision (its ARN), the container and the command. */
  public readonly fingerprint: string;
  /** The function that starts the task. */
  public readonly onEventFunction: lambda.IFunction;
  /** The function that polls the task and fails the deployment on a non-zero exit (alarm on its Errors). */
  public readonly isCompleteFunction: lambda.IFunction;

  constructor(scope: Construct, id: string, props: DjangoMigrationsProps) {
    super(scope, id);
    this.containerName = props.containerName ?? 'app';
    this.command = props.command ?? ['python', 'manage.py', 'migrate', '--noinput'];
    // Not integral: a fraction of a millisecond or NaN is reported as a timeout problem, not thrown by Duration.
    const timeoutSeconds = secondsOf(props.timeout, DEFAULT_TIMEOUT_SECONDS);

    const container = props.taskDefinition.findContainer(this.containerName);
    const problems = migrationsProblems(props, this.containerName, this.command, timeoutSeconds, container);
    const subnetIds = selectedSubnetIds(props.cluster.vpc, props.vpcSubnets, problems);
    throwIfProblems(this, problems);

    const taskDefinition = props.taskDefinition;
    const logOptions = container!.logDriverConfig?.options ?? {};

    // The exact revision runs, named by the resource's own properties: an update runs the new one and a
    // rollback (an update back to the old properties) the old one, whatever order CloudFormation updates
    // other resources in. The ARN is a token, resolved by CloudFormation; the literal parts are hashed.
    const literalHash = crypto.createHash('sha256')
      .update(JSON.stringify({ command: this.command, container: this.containerName }))
      .digest('hex')
      .slice(0, 16);
    this.fingerprint = `${taskDefinition.taskDefinitionArn}#${literalHash}`;

    // RunTask: this task definition family only (any revision, so the policy does not change,
    // and need not propagate, with each new revision), in this cluster only.
    const familyArn = `arn:${Aws.PARTITION}:ecs:${Aws.REGION}:${Aws.ACCOUNT_ID}:task-definition/${taskDefinition.family}:*`;
    const onEventHandler = this.handler('OnEvent', 'onEvent', props, {}, [
      new iam.PolicyStatement({
        actions: ['ecs:RunTask'],
        resources: [familyArn],
        conditions: { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } },
      }),
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        // The execution role may be created after this construct (by a later container): resolve late.
        resources: [
          taskDefinition.taskRole.roleArn,
          Lazy.string({ produce: () => (taskDefinition.executionRole ?? taskDefinition.taskRole).roleArn }),
        ],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    ]);
    // Task ARNs embed the cluster name, which is a token here; the ecs:cluster condition scopes
    // the same thing (tasks of this cluster) without a wildcard ARN built from tokens.
    const isCompleteHandler = this.handler('IsComplete', 'isComplete', props, {
      STOP_AFTER_SECONDS: String(timeoutSeconds - STOP_MARGIN_SECONDS),
    }, [
      new iam.PolicyStatement({
        actions: ['ecs:DescribeTasks', 'ecs:StopTask'],
        resources: ['*'],
        conditions: { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } },
      }),
    ]);
    const onEvent = onEventHandler.function;
    const isComplete = isCompleteHandler.function;

    this.onEventFunction = onEvent;
    this.isCompleteFunction = isComplete;
    const provider = this.provider(onEvent, isComplete, timeoutSeconds, props);
    this.acknowledgeProviderFindings(provider, onEvent, isComplete);
    // The provider framework's functions and its waiter: their roles and the framework are CDK's.
    acknowledgeInPacks(provider, 'IAMNoInlinePolicy',
      'The provider framework and waiter roles have only the policy CDK generates for them (invoke the two handlers, log to their own groups); a managed policy could be attached to other principals.');
    acknowledgeInPacks(provider, 'LambdaConcurrency', PROVIDER_CONCURRENCY);
    acknowledgeInPacks(provider, 'LambdaDLQ', PROVIDER_DEAD_LETTER);
    acknowledgeInPacks(provider, 'LambdaInsideVPC', PROVIDER_OUTSIDE_VPC);
    for (const role of [this.node.findChild('ProviderOnEventRole'), this.node.findChild('ProviderCompleteRole')]) {
      acknowledgeInPacks(role, 'IAMNoInlinePolicy',
        'The provider framework roles have only the policy CDK generates for them (invoke the two handlers, write their log group); a managed policy could be attached to other principals.');
    }

    this.customResource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::DjangoMigrations',
      properties: {
        Cluster: props.cluster.clusterArn,
        TaskDefinitionFamily: taskDefinition.family,
        TaskDefinitionArn: taskDefinition.taskDefinitionArn,
        ContainerName: this.containerName,
        Command: this.command,
        Subnets: subnetIds,
        SecurityGroups: props.securityGroups.map((sg) => sg.securityGroupId),
        LogGroupName: logOptions['awslogs-group'] ?? '',
        LogStreamPrefix: props.logStreamPrefix ?? logOptions['awslogs-stream-prefix'] ?? 'app',
        Fingerprint: this.fingerprint,
      },
    });
    // Run only once the task definition, its roles and their policies (secrets access) exist, and the
    // database accepts connections (its instances, not just the cluster the task's secret names).
    this.customResource.node.addDependency(taskDefinition);
    // A task definition may run with roles made elsewhere (a one-off task with the service's): their policies too.
    for (const role of [taskDefinition.taskRole, taskDefinition.executionRole]) {
      if (role instanceof iam.Role) this.customResource.node.addDependency(role);
    }
    if (props.database) this.customResource.node.addDependency(props.database.ready);

    acknowledgeFinding(onEventHandler.policy, 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task-definition/'
      + `${taskDefinition.family}:*]`,
    'RunTask is allowed on every revision of the app task definition family, only in this cluster (ecs:cluster condition): each deploy registers a new revision.');
    acknowledgeFinding(isCompleteHandler.policy, 'AwsSolutions-IAM5[Resource::*]',
      'DescribeTasks and StopTask on the migrations task: task ARNs are not known before RunTask, and the ecs:cluster condition limits both to tasks of this cluster.');
  }

  /** One handler function, its rights `statements`. */
  private handler(id: string, entry: string, props: DjangoMigrationsProps, environment: { [k: string]: string },
    statements: iam.PolicyStatement[]): InlineFunction {
    return inlineFunction(this, id, {
      source: MIGRATIONS_HANDLER_SOURCE,
      language: 'node',
      handler: entry,
      description: `cdk-django: ${entry === 'onEvent' ? 'starts' : 'watches'} the Django migrations task (${this.node.path})`,
      roleDescription: `cdk-django migrations ${entry} handler`,
      timeout: Duration.minutes(1),
      statements,
      environment,
      logRetention: props.logRetention,
      concurrency: PROVIDER_CONCURRENCY,
      deadLetter: PROVIDER_DEAD_LETTER,
      outsideVpc: PROVIDER_OUTSIDE_VPC,
    });
  }

  /**
   * The provider framework's wildcards, one finding at a time (cdk-nag names each by the logical
   * ID of the function it grants on, so these follow the functions, not fixed strings).
   */
  private acknowledgeProviderFindings(provider: cr.Provider, onEvent: lambda.Function, isComplete: lambda.Function): void {
    const stack = Stack.of(this);
    const versionsOf = (fn: IConstruct) => `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`;
    const invokeReason = 'grantInvoke also covers versions and aliases (ARN:*) of this one function; the provider framework invokes only the unqualified function.';
    for (const role of [this.node.findChild('ProviderOnEventRole'), this.node.findChild('ProviderCompleteRole')]) {
      acknowledgeFinding(role, versionsOf(onEvent), invokeReason);
      acknowledgeFinding(role, versionsOf(isComplete), invokeReason);
    }
    const waiter = provider.node.findChild('waiter-state-machine');
    const waiterRole = waiter.node.findChild('Role');
    acknowledgeFinding(waiterRole, versionsOf(provider.node.findChild('framework-isComplete')), invokeReason);
    acknowledgeFinding(waiterRole, versionsOf(provider.node.findChild('framework-onTimeout')), invokeReason);
    acknowledgeFinding(waiterRole, 'AwsSolutions-IAM5[Resource::*]',
      'Step Functions log delivery (logs:CreateLogDelivery, PutResourcePolicy, DescribeLogGroups, ...) supports no resource-level permissions; the waiter logs to its own log group.');
    acknowledgeFinding(waiter, 'AwsSolutions-SF2',
      'The provider framework does not expose X-Ray tracing for its waiter; each step is one Lambda call, logged (level ALL) to the waiter log group.');
  }

  /** The provider framework, with its own roles and log groups so nothing uses a managed policy. */
  private provider(onEvent: lambda.IFunction, isComplete: lambda.IFunction, timeoutSeconds: number, props: DjangoMigrationsProps): cr.Provider {
    const retention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const logGroup = new logs.LogGroup(this, 'ProviderLogs', { retention, encryptionKey: stackKey(this) });
    // Step Functions delivers through CloudWatch Logs vended logs: under /aws/vendedlogs/ that takes no entry of
    // its own in the account's 5,120-character logs resource policy. Retained, so named per create.
    const waiterLogGroup = new logs.LogGroup(this, 'WaiterLogs', {
      logGroupName: `/aws/vendedlogs/states/${perCreateName(this, { maxLength: 200, allowed: '-_' })}-waiter`,
      retention,
      encryptionKey: stackKey(this),
    });
    const lambdaRole = (id: string) => {
      const role = new iam.Role(this, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      logGroup.grantWrite(role);
      return role;
    };
    const onEventRole = lambdaRole('ProviderOnEventRole');
    const completeRole = lambdaRole('ProviderCompleteRole');
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: Duration.seconds(QUERY_INTERVAL_SECONDS),
      totalTimeout: Duration.seconds(timeoutSeconds),
      logGroup,
      frameworkOnEventRole: onEventRole,
      frameworkCompleteAndTimeoutRole: completeRole,
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: { destination: waiterLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    return provider;
  }
}

/** Everything wrong with the props, each naming the prop and the fix. */
function migrationsProblems(
  props: DjangoMigrationsProps, containerName: string, command: string[], timeoutSeconds: number,
  container: ecs.ContainerDefinition | undefined,
): Problem[] {
  const problems = commandAndTimeoutProblems(command, timeoutSeconds);
  if (!props.taskDefinition.isFargateCompatible) {
    problems.push({ prop: 'taskDefinition', message: 'is not Fargate-compatible; migrations run on Fargate, give a FargateTaskDefinition (or compatibility FARGATE)' });
  }
  if (!container) {
    const names = props.taskDefinition.node.children
      .filter((c): c is ecs.ContainerDefinition => c instanceof ecs.ContainerDefinition)
      .map((c) => c.containerName);
    problems.push({
      prop: 'containerName',
      message: `no container '${containerName}' in the task definition (it has ${names.length ? names.map((n) => `'${n}'`).join(', ') : 'none yet'}); `
        + 'name the Django app container, and create DjangoMigrations after adding it',
    });
  }
  if (props.securityGroups.length === 0 || props.securityGroups.length > 5) {
    problems.push({ prop: 'securityGroups', message: `give 1 to 5 security groups that may reach the database, got ${props.securityGroups.length}` });
  }
  return problems;
}

/**
 * What is wrong with the command and the timeout (`timeout` undefined: the default). DjangoApp reports
 * these under `migrations.` before it builds anything.
 * @jsii ignore
 */
export function migrationsCommandProblems(command: string[] | undefined, timeout: Duration | undefined): Problem[] {
  return commandAndTimeoutProblems(command ?? ['python'], secondsOf(timeout, DEFAULT_TIMEOUT_SECONDS));
}

function commandAndTimeoutProblems(command: string[], timeoutSeconds: number): Problem[] {
  const problems: Problem[] = [];
  if (command.length === 0 || (!Token.isUnresolved(command[0]) && command[0].trim() === '')) {
    problems.push({ prop: 'command', message: 'is empty; give the program and its arguments, e.g. [\'python\', \'manage.py\', \'migrate\', \'--noinput\']' });
  }
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < MIN_TIMEOUT_SECONDS || timeoutSeconds > MAX_TIMEOUT_SECONDS
    || timeoutSeconds % QUERY_INTERVAL_SECONDS !== 0) {
    problems.push({
      prop: 'timeout',
      message: `must be from 1 minute to 1 hour (the provider framework's and CloudFormation's limit) in steps of ${QUERY_INTERVAL_SECONDS} seconds, got ${timeoutSeconds} seconds`,
    });
  }
  return problems;
}
