import { Duration, Errors, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IConstruct } from 'constructs';
import { DjangoMigrations, DjangoMigrationsProps } from '../../src/migrations/migrations';
import { createVpc } from '../../src/services/network';
import { formatFindings, nagFindings } from '../helpers/compliance';
import { IMAGE, newStack, only } from '../helpers/template';

interface Fixture {
  readonly stack: Stack;
  readonly cluster: ecs.Cluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly securityGroup: ec2.SecurityGroup;
  readonly migrations: DjangoMigrations;
}

interface AppOptions {
  readonly image?: ecs.ContainerImage;
  readonly environment?: { [k: string]: string };
  readonly migrations?: Partial<DjangoMigrationsProps>;
}

/** A stack as a user of this library has it: VPC, cluster, the app's Fargate task, migrations. */
function app(options: AppOptions = {}): Fixture {
  const stack = newStack();
  const vpc = createVpc(stack);
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
  const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task');
  const logGroup = new logs.LogGroup(stack, 'AppLogs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
  taskDefinition.addContainer('app', {
    image: options.image ?? IMAGE,
    environment: options.environment ?? { DJANGO_SETTINGS_MODULE: 'mysite.settings' },
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'app', logGroup }),
  });
  const securityGroup = new ec2.SecurityGroup(stack, 'MigrationsSg', { vpc });
  const migrations = new DjangoMigrations(stack, 'Migrations', {
    cluster, taskDefinition, securityGroups: [securityGroup], ...options.migrations,
  });
  return { stack, cluster, taskDefinition, securityGroup, migrations };
}

function resourceProps(stack: Stack): any {
  return only(Template.fromStack(stack), 'Custom::DjangoMigrations');
}

function logicalId(scope: IConstruct): string {
  return Stack.of(scope).getLogicalId(scope.node.defaultChild as any);
}

/** Properties of the Lambda function at `Migrations/<id>`. */
function fn(f: Fixture, id: string): any {
  return Template.fromStack(f.stack).toJSON().Resources[logicalId(f.migrations.node.findChild(id))].Properties;
}

describe('the custom resource', () => {
  const f = app();
  const props = resourceProps(f.stack);

  test('names the cluster, the task definition family, the container, the command and the fingerprint', () => {
    expect(props.Cluster).toEqual({ 'Fn::GetAtt': [logicalId(f.cluster), 'Arn'] });
    expect(props.TaskDefinitionFamily).toBe(f.taskDefinition.family);
    expect(props.ContainerName).toBe('app');
    expect(props.Command).toEqual(['python', 'manage.py', 'migrate', '--noinput']);
    expect(props.TaskDefinitionArn).toEqual({ Ref: logicalId(f.taskDefinition) });
    expect(props.Fingerprint).toEqual({ 'Fn::Join': ['', [{ Ref: logicalId(f.taskDefinition) }, expect.stringMatching(/^#[0-9a-f]{16}$/)]] });
    expect(props.LogStreamPrefix).toBe('app');
    expect(props.SecurityGroups).toEqual([{ 'Fn::GetAtt': [logicalId(f.securityGroup), 'GroupId'] }]);
  });

  test('runs in the private subnets', () => {
    const privateIds = f.cluster.vpc.privateSubnets.map((s) => ({ Ref: logicalId(s) }));
    expect(props.Subnets).toEqual(privateIds);
  });

  test('names the exact task definition revision in its own properties, not in the function\'s environment', () => {
    expect(props.TaskDefinitionArn).toEqual({ Ref: logicalId(f.taskDefinition) });
    expect(JSON.stringify(fn(f, 'OnEvent').Environment ?? {})).not.toContain(logicalId(f.taskDefinition));
  });

  test('waits for the task definition and its roles', () => {
    const resource = Object.values(Template.fromStack(f.stack).findResources('Custom::DjangoMigrations'))[0] as any;
    expect(resource.DependsOn).toEqual(expect.arrayContaining([
      logicalId(f.taskDefinition), logicalId(f.taskDefinition.taskRole), logicalId(f.taskDefinition.executionRole!),
    ]));
  });

  test('a service can depend on it', () => {
    const g = app();
    const service = new ecs.FargateService(g.stack, 'Service', { cluster: g.cluster, taskDefinition: g.taskDefinition });
    service.node.addDependency(g.migrations);
    const svc = Object.values(Template.fromStack(g.stack).findResources('AWS::ECS::Service'))[0] as any;
    expect(svc.DependsOn).toContain(logicalId(g.migrations.customResource));
  });

  test('takes another command and container and log stream prefix', () => {
    const other = app({
      migrations: {
        command: ['sh', '-c', 'python manage.py migrate --noinput && python manage.py createcachetable'],
        logStreamPrefix: 'django',
      },
    });
    const p = resourceProps(other.stack);
    expect(p.Command).toEqual(['sh', '-c', 'python manage.py migrate --noinput && python manage.py createcachetable']);
    expect(p.LogStreamPrefix).toBe('django');
  });
});

describe('re-running: the fingerprint', () => {
  const base = resourceProps(app().stack);
  /** The fingerprint with the task definition reference resolved to the revision's content (what CloudFormation would see). */
  const revisionOf = (f: Fixture) => Template.fromStack(f.stack).toJSON().Resources[logicalId(f.taskDefinition)].Properties;

  test('follows the task definition revision: a new image is a new revision', () => {
    const a = app();
    const b = app({ image: ecs.ContainerImage.fromRegistry('example/mysite:2') });
    expect(resourceProps(b.stack).Fingerprint).toEqual(resourceProps(a.stack).Fingerprint); // the same Ref ...
    expect(revisionOf(b)).not.toEqual(revisionOf(a)); // ... to a changed task definition: CloudFormation registers a new revision
  });

  test('changes with the command', () => {
    const other = resourceProps(app({ migrations: { command: ['python', 'manage.py', 'migrate', '--noinput', '--verbosity', '2'] } }).stack);
    expect(other.Fingerprint).not.toEqual(base.Fingerprint);
  });

  test('a settings-only change is a new revision too, so migrate runs again (idempotent: it applies nothing)', () => {
    const a = app();
    const b = app({ environment: { DJANGO_SETTINGS_MODULE: 'mysite.settings', FEATURE_X: 'on' } });
    expect(resourceProps(b.stack)).toEqual(resourceProps(a.stack));
    expect(revisionOf(b)).not.toEqual(revisionOf(a));
  });
});

describe('permissions', () => {
  const f = app();
  const template = Template.fromStack(f.stack);
  const policies = [...Object.entries(template.findResources('AWS::IAM::Policy')), ...Object.entries(template.findResources('AWS::IAM::ManagedPolicy'))]
    .filter(([id]) => id.startsWith('Migrations'))
    .map(([id, r]: [string, any]) => ({ id, statements: r.Properties.PolicyDocument.Statement as any[] }));
  /** A statement of a handler's own customer-managed policy (`OnEventPolicy`, `IsCompletePolicy`). */
  const statementOf = (policyId: string, action: string) => {
    const policy = policies.find((p) => p.id === logicalId(f.migrations.node.findChild(policyId)));
    return policy!.statements.find((s) => [s.Action].flat().includes(action));
  };
  const clusterCondition = { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [logicalId(f.cluster), 'Arn'] } } };

  test('no statement allows a wildcard action', () => {
    expect(policies.length).toBeGreaterThan(0);
    for (const p of policies) {
      for (const s of p.statements) {
        for (const a of [s.Action].flat()) expect(a).not.toContain('*');
      }
    }
  });

  test('RunTask only on the app task definition family, only in the cluster', () => {
    const s = statementOf('OnEventPolicy', 'ecs:RunTask');
    expect(s.Action).toBe('ecs:RunTask');
    expect(JSON.stringify(s.Resource)).toContain(`:task-definition/${f.taskDefinition.family}:*`);
    expect(s.Condition).toEqual(clusterCondition);
  });

  test('PassRole only for the task and execution roles, only to ECS tasks', () => {
    const s = statementOf('OnEventPolicy', 'iam:PassRole');
    expect(s.Resource).toEqual([
      { 'Fn::GetAtt': [logicalId(f.taskDefinition.taskRole), 'Arn'] },
      { 'Fn::GetAtt': [logicalId(f.taskDefinition.executionRole!), 'Arn'] },
    ]);
    expect(s.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
  });

  test('DescribeTasks and StopTask only for tasks of the cluster, and only for the isComplete handler', () => {
    const s = statementOf('IsCompletePolicy', 'ecs:DescribeTasks');
    expect(s.Action).toEqual(['ecs:DescribeTasks', 'ecs:StopTask']);
    expect(s.Condition).toEqual(clusterCondition);
    expect(statementOf('OnEventPolicy', 'ecs:StopTask')).toBeUndefined();
    expect(statementOf('IsCompletePolicy', 'ecs:RunTask')).toBeUndefined();
  });

  test('each handler role holds exactly its own customer-managed policy; no role uses an AWS-managed one', () => {
    const roles = Object.entries(template.findResources('AWS::IAM::Role')).filter(([id]) => id.startsWith('Migrations'));
    expect(roles.length).toBe(5); // two handlers, two framework roles, the waiter state machine
    const own = (role: string, policy: string) => [roles.find(([id]) => id === logicalId(f.migrations.node.findChild(role)))![0],
      [{ Ref: logicalId(f.migrations.node.findChild(policy)) }]];
    const attached = Object.fromEntries(roles.map(([id, r]: [string, any]) => [id, r.Properties.ManagedPolicyArns]));
    for (const [role, arns] of [own('OnEventRole', 'OnEventPolicy'), own('IsCompleteRole', 'IsCompletePolicy')]) expect(attached[role as string]).toEqual(arns);
    expect(Object.values(attached).filter((a) => a === undefined)).toHaveLength(3);
  });
});

describe('functions, provider and logs', () => {
  const f = app({ migrations: { timeout: Duration.minutes(10) } });
  const template = Template.fromStack(f.stack);

  test('the handlers are inline Node.js on the latest runtime aws-cdk-lib knows', () => {
    for (const [id, handler] of [['OnEvent', 'index.onEvent'], ['IsComplete', 'index.isComplete']]) {
      const p = fn(f, id);
      expect(p.Handler).toBe(handler);
      expect(p.Runtime).toBe('nodejs24.x');
      expect(p.Code.ZipFile).toContain('@aws-sdk/client-ecs');
    }
  });

  test('the waiter asks every 15 seconds for the whole timeout, and the handler stops the task just before', () => {
    const sm = only(template, 'AWS::StepFunctions::StateMachine');
    const definition = JSON.stringify(sm.DefinitionString);
    expect(definition).toContain('\\"IntervalSeconds\\":15');
    expect(definition).toContain('\\"MaxAttempts\\":40'); // 10 minutes / 15 s
    expect(sm.LoggingConfiguration.Level).toBe('ALL');
    expect(fn(f, 'IsComplete').Environment.Variables.STOP_AFTER_SECONDS).toBe('570');
  });

  test('the default timeout is 30 minutes', () => {
    const sm = only(Template.fromStack(app().stack), 'AWS::StepFunctions::StateMachine');
    expect(JSON.stringify(sm.DefinitionString)).toContain('\\"MaxAttempts\\":120');
  });

  test('every function of the construct logs to a log group kept for a year, and every log group of it is encrypted with the stack key', () => {
    const fns = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => id.startsWith('Migrations'));
    expect(fns.length).toBe(5);
    const groups = template.findResources('AWS::Logs::LogGroup');
    for (const [, r] of fns) {
      const ref = (r as any).Properties.LoggingConfig.LogGroup.Ref;
      expect(groups[ref].Properties.RetentionInDays).toBe(365);
    }
    // handlers, provider and waiter: one per-stack customer-managed key (CdkDjangoKey), not one per construct
    const [stackKeyId, ...others] = Object.keys(template.findResources('AWS::KMS::Key')).filter((id) => id.startsWith('CdkDjangoKey'));
    expect(others).toEqual([]);
    const mine = Object.entries(groups).filter(([id]) => id.startsWith('Migrations'));
    // the provider framework's functions share one log group; the waiter state machine logs too
    expect(mine.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort())
      .toEqual(['MigrationsIsCompleteLogs', 'MigrationsOnEventLogs', 'MigrationsProviderLogs', 'MigrationsWaiterLogs']);
    for (const [, g] of mine) expect((g as any).Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [stackKeyId, 'Arn'] });
  });
});

describe('validation', () => {
  /** Builds with broken props and returns the ValidationError's message. */
  function problem(options: AppOptions = {}, build?: (stack: Stack) => Partial<DjangoMigrationsProps>): string {
    try {
      if (build) {
        const stack = newStack();
        const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
        const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
        new DjangoMigrations(stack, 'Migrations', {
          cluster,
          taskDefinition: new ecs.FargateTaskDefinition(stack, 'Task'),
          securityGroups: [new ec2.SecurityGroup(stack, 'Sg', { vpc })],
          ...build(stack),
        } as DjangoMigrationsProps);
      } else {
        app(options);
      }
    } catch (e: any) {
      expect(Errors.isValidationError(e)).toBe(true);
      return e.message;
    }
    throw new Error('expected a ValidationError');
  }

  test('an empty command', () => {
    expect(problem({ migrations: { command: [] } })).toMatch(/^command: is empty/);
  });

  test('a container name that is not in the task definition, listing the ones that are', () => {
    expect(problem({ migrations: { containerName: 'web' } })).toMatch(/^containerName: no container 'web' in the task definition \(it has 'app'\)/);
  });

  test('a task definition without containers yet', () => {
    expect(problem({}, () => ({}))).toContain("containerName: no container 'app' in the task definition (it has none yet)");
  });

  test.each([
    ['over an hour', Duration.hours(2)],
    ['under a minute', Duration.seconds(30)],
    ['not in 15 second steps', Duration.seconds(100)],
  ])('a timeout %s', (_name, timeout) => {
    expect(problem({ migrations: { timeout } })).toMatch(/^timeout: must be from 1 minute to 1 hour/);
  });

  test('a task definition that cannot run on Fargate', () => {
    const message = problem({}, (stack) => {
      const taskDefinition = new ecs.Ec2TaskDefinition(stack, 'Ec2Task', { networkMode: ecs.NetworkMode.AWS_VPC });
      taskDefinition.addContainer('app', { image: IMAGE, memoryLimitMiB: 512 });
      return { taskDefinition };
    });
    expect(message).toMatch(/^taskDefinition: is not Fargate-compatible/);
  });

  test('no security groups', () => {
    expect(problem({ migrations: { securityGroups: [] } })).toMatch(/^securityGroups: give 1 to 5/);
  });

  test('subnets the VPC does not have', () => {
    expect(problem({ migrations: { vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } } })).toMatch(/^vpcSubnets: selects no usable subnets/);
  });

  test('every problem at once', () => {
    const message = problem({ migrations: { command: [], containerName: 'web', timeout: Duration.hours(2) } });
    expect(message).toMatch(/^invalid props:/);
    for (const prop of ['command', 'containerName', 'timeout']) expect(message).toContain(`- ${prop}: `);
  });
});

describe('cdk-nag', () => {
  // No environment variables: AwsSolutions-ECS2 would be about the test's task, not this construct.
  const f = app({ environment: {} });

  test('AwsSolutions: no unacknowledged findings', () => {
    expect(formatFindings(nagFindings(f.stack, ['AwsSolutions']))).toBe('');
  });

  test('NIST 800-53 r5 and HIPAA: no unacknowledged findings on the construct', () => {
    const open = nagFindings(f.migrations, ['NIST.800.53.R5', 'HIPAA.Security']);
    expect(formatFindings(open)).toBe('');
  });

  test('each AwsSolutions acknowledgement names one rule (one finding for IAM5) on a resource of the construct; '
    + 'the NIST and HIPAA ones sit on each handler and on the provider framework, whose roles keep CDK\'s inline policies', () => {
    const acks: Array<{ path: string; id: string; reason: string }> = [];
    const walk = (c: IConstruct) => {
      for (const m of c.node.metadata) {
        if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries<string>(m.data)) {
          if (!id.startsWith('CloudFormation-Validate::')) acks.push({ path: c.node.path, id: id.replace(/^Annotation::/, ''), reason });
        }
      }
      c.node.children.forEach(walk);
    };
    walk(f.migrations);
    const awsSolutions = acks.filter((a) => a.id.startsWith('AwsSolutions-'));
    expect(awsSolutions.map((a) => a.id.replace(/\[.*\]$/, '[...]')).sort()).toEqual([
      ...Array(9).fill('AwsSolutions-IAM5[...]'),
      'AwsSolutions-SF2',
    ]);
    for (const a of awsSolutions) {
      expect(a.id).toMatch(/^AwsSolutions-(SF2|IAM5\[Resource::.+\])$/);
      expect(a.path).not.toBe('Test/Migrations'); // on the resource, never the whole construct
    }
    // the handlers (inlineFunction) and the provider framework (its functions, the waiter and their roles)
    const packs = ['HIPAA.Security', 'NIST.800.53.R5'];
    const at = (path: string, rules: string[]) => packs.flatMap((p) => rules.map((r) => `Test/Migrations/${path} ${p}-${r}`));
    const lambdaRules = ['LambdaConcurrency', 'LambdaDLQ', 'LambdaInsideVPC'];
    expect(acks.filter((a) => !a.id.startsWith('AwsSolutions-')).map((a) => `${a.path} ${a.id}`).sort()).toEqual([
      ...at('IsComplete', lambdaRules),
      ...at('OnEvent', lambdaRules),
      ...at('Provider', ['IAMNoInlinePolicy', ...lambdaRules]),
      ...at('ProviderCompleteRole', ['IAMNoInlinePolicy']),
      ...at('ProviderOnEventRole', ['IAMNoInlinePolicy']),
    ].sort());
    for (const a of acks) expect(a.reason.length).toBeGreaterThan(40);
  });
});
