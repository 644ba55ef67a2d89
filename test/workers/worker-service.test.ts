import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DjangoApp, DjangoCache, DjangoTaskQueue, DjangoWorkerService, WorkerCommand } from '../../src';
import { formatFindings, nagFindings } from '../helpers/compliance';
import { IMAGE, newStack, validationMessage } from '../helpers/template';

const celery = () => WorkerCommand.celeryWorker();
const beat = () => WorkerCommand.celeryBeat();

/** The ECS services of a template by the construct id of their worker (or 'Web'), e.g. 'Celery', 'Beat'. */
function services(t: Template): Record<string, any> {
  return Object.fromEntries(Object.entries(t.findResources('AWS::ECS::Service'))
    .map(([id, r]) => [/Workers(\w+?)Service/.exec(id)?.[1] ?? 'Web', { id, ...(r as any).Properties }]));
}

function workerContainer(t: Template, command: string): any {
  return Object.values(t.findResources('AWS::ECS::TaskDefinition')).map((r: any) => r.Properties.ContainerDefinitions[0])
    .find((c: any) => c.Name === 'worker' && c.Command[2] === command);
}

/** The policy statements attached to a task role whose logical id matches. */
function roleStatements(t: Template, role: RegExp): any[] {
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p: any) => p.Properties.Roles.some((r: any) => role.test(r.Ref)))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

const actionsOf = (statements: any[]) => statements.flatMap((s) => [s.Action].flat());

describe('DjangoApp with a Celery worker and beat on the cache (Redis)', () => {
  let stack: Stack;
  let t: Template;
  let app: DjangoApp;
  beforeAll(() => {
    stack = newStack('RedisWorkers');
    app = new DjangoApp(stack, 'Site', {
      image: IMAGE,
      settingsModule: 'config.settings',
      database: {},
      workers: [{ id: 'Celery', command: celery(), spot: true, cpuArchitecture: ecs.CpuArchitecture.ARM64 }, { id: 'Beat', command: beat() }],
    });
    t = Template.fromStack(stack);
  });

  test('a cache is created as the broker, and the workers get its settings and token', () => {
    t.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 1);
    const c = workerContainer(t, 'worker');
    expect(c.Environment).toContainEqual(expect.objectContaining({ Name: 'REDIS_URL' }));
    expect(c.Secrets.map((s: any) => s.Name).sort()).toEqual(['DATABASE_PASSWORD', 'DATABASE_USER', 'DJANGO_SECRET_KEY', 'REDIS_PASSWORD']);
    // the same SECRET_KEY secret as the web service, so signed values agree
    const web = Object.values(t.findResources('AWS::ECS::TaskDefinition')).map((r: any) => r.Properties.ContainerDefinitions[0]).find((x: any) => x.Name === 'app');
    const key = (x: any) => x.Secrets.find((s: any) => s.Name === 'DJANGO_SECRET_KEY').ValueFrom;
    expect(key(c)).toEqual(key(web));
  });

  test('no load balancer: the worker services register with no target group', () => {
    const s = services(t);
    expect(s.Celery.LoadBalancers).toBeUndefined();
    expect(s.Beat.LoadBalancers).toBeUndefined();
    expect(s.Web.LoadBalancers).toHaveLength(1);
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 1);
    expect(workerContainer(t, 'worker').PortMappings).toBeUndefined();
  });

  test('beat runs exactly once: desired count 1, the old task stopped before the new one starts, no autoscaling', () => {
    const b = services(t).Beat;
    expect(b.DesiredCount).toBe(1);
    expect(b.DeploymentConfiguration).toMatchObject({ MinimumHealthyPercent: 0, MaximumPercent: 100 });
    const targets = Object.values(t.findResources('AWS::ApplicationAutoScaling::ScalableTarget')).map((r: any) => JSON.stringify(r.Properties.ResourceId));
    expect(targets.some((id) => id.includes(b.id))).toBe(false);
    expect(targets.some((id) => id.includes(services(t).Celery.id))).toBe(true);
  });

  test('the worker scales on CPU between minTasks and maxTasks (the Redis queue length is no CloudWatch metric)', () => {
    const celeryId = services(t).Celery.id;
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 1, MaxCapacity: 4, ResourceId: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([{ 'Fn::GetAtt': [celeryId, 'Name'] }])]) }),
    });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyName: Match.stringLikeRegexp('WorkersCelery'),
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, TargetValue: 60,
      }),
    });
    expect(services(t).Celery.DesiredCount).toBeUndefined();
  });

  test('warm shutdown: the worker\'s stop timeout is its hard time limit + 10 s (soft 60, hard 90), beat\'s 30 s', () => {
    expect(workerContainer(t, 'worker').StopTimeout).toBe(100);
    expect(workerContainer(t, 'beat').StopTimeout).toBe(30);
  });

  test('Spot and Graviton: the worker runs on FARGATE_SPOT in a cluster with the Fargate capacity providers, on ARM64', () => {
    expect(services(t).Celery.CapacityProviderStrategy).toEqual([{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }]);
    expect(services(t).Celery.LaunchType).toBeUndefined();
    t.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', { CapacityProviders: Match.arrayWith(['FARGATE', 'FARGATE_SPOT']) });
    t.hasResourceProperties('AWS::ECS::TaskDefinition', { RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' } });
    expect(services(t).Beat.LaunchType).toBe('FARGATE');
  });

  test('the workers reach the database and the cache, and wait for the migrations', () => {
    const s = services(t);
    for (const w of [s.Celery, s.Beat]) {
      const sg = w.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups[0]['Fn::GetAtt'][0];
      const ingress = Object.values(t.findResources('AWS::EC2::SecurityGroupIngress')).map((r: any) => r.Properties)
        .filter((p: any) => p.SourceSecurityGroupId?.['Fn::GetAtt']?.[0] === sg);
      expect(ingress.map((p: any) => p.FromPort).sort()).toEqual([5433, 6380]);
      const deps = (t.toJSON().Resources[w.id].DependsOn ?? []) as string[];
      expect(deps.some((d) => /SiteMigrations/.test(d))).toBe(true);
    }
  });

  test('alarms: fewer running tasks than the minimum, and worker CPU, on the app\'s alarm topic', () => {
    const topic = app.alarms!.topic!;
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((r: any) => r.Properties)
      .filter((a: any) => a.MetricName === 'RunningTaskCount' || (a.MetricName === 'CPUUtilization' && JSON.stringify(a.Dimensions).includes('WorkersCelery')));
    expect(alarms.map((a: any) => `${a.MetricName} ${a.ComparisonOperator} ${a.Threshold}`).sort()).toEqual([
      'CPUUtilization GreaterThanThreshold 85', 'RunningTaskCount LessThanThreshold 1', 'RunningTaskCount LessThanThreshold 1',
    ]);
    for (const a of alarms) expect(a.AlarmActions).toEqual([stack.resolve(topic.topicArn)]);
  });

  test('cdk-nag AwsSolutions, NIST 800-53 r5 and HIPAA are clean', () => {
    const findings = nagFindings(stack);
    expect(formatFindings(findings)).toBe('');
  });
});

describe('DjangoApp with Celery on SQS (taskQueue)', () => {
  let stack: Stack;
  let t: Template;
  beforeAll(() => {
    stack = newStack('SqsWorkers');
    new DjangoApp(stack, 'Site', {
      image: IMAGE,
      database: {},
      taskQueue: {},
      workers: [{ id: 'Celery', command: celery(), minTasks: 2, maxTasks: 10 }, { id: 'Beat', command: beat() }],
    });
    t = Template.fromStack(stack);
  });

  test('no cache is created for it; the queue and its dead-letter queue are KMS-encrypted, TLS only, with a redrive policy', () => {
    t.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
    t.resourceCountIs('AWS::SQS::Queue', 2);
    t.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: Match.anyValue(), VisibilityTimeout: 1800, RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
    });
    t.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue(), MessageRetentionPeriod: 1209600 });
    const policies = Object.values(t.findResources('AWS::SQS::QueuePolicy')).map((r: any) => JSON.stringify(r.Properties.PolicyDocument));
    expect(policies).toHaveLength(2);
    for (const p of policies) expect(p).toContain('"aws:SecureTransport":"false"');
  });

  test('every app container, web and workers, gets the settings of the Celery SQS transport', () => {
    const tds = Object.values(t.findResources('AWS::ECS::TaskDefinition')).map((r: any) => r.Properties.ContainerDefinitions[0]);
    for (const c of tds.filter((x: any) => x.Name === 'app' || x.Name === 'worker')) {
      const names = c.Environment.map((e: any) => e.Name);
      expect(names).toEqual(expect.arrayContaining(['CELERY_SQS_QUEUES', 'CELERY_SQS_REGION', 'CELERY_VISIBILITY_TIMEOUT']));
    }
    const queues = workerContainer(t, 'worker').Environment.find((e: any) => e.Name === 'CELERY_SQS_QUEUES').Value;
    expect(JSON.stringify(queues)).toMatch(/\{\\"celery\\":\\"/);
  });

  test('grants: the worker receives and deletes, the web service and beat only send', () => {
    const worker = actionsOf(roleStatements(t, /WorkersCeleryTaskTaskRole/));
    expect(worker).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:SendMessage', 'kms:Decrypt']));
    for (const role of [/WebTaskTaskRole/, /WorkersBeatTaskTaskRole/]) {
      const actions = actionsOf(roleStatements(t, role));
      expect(actions).toContain('sqs:SendMessage');
      expect(actions).not.toContain('sqs:ReceiveMessage');
      expect(actions).not.toContain('sqs:DeleteMessage');
    }
  });

  test('the worker scales in steps on the queue\'s visible messages: one more at 10, three more at 50, one fewer when empty', () => {
    const policy = Object.values(t.findResources('AWS::ApplicationAutoScaling::ScalingPolicy')).map((r: any) => r.Properties)
      .filter((p: any) => /QueueDepth/.test(p.PolicyName));
    const steps = policy.flatMap((p: any) => p.StepScalingPolicyConfiguration.StepAdjustments);
    expect(steps).toEqual(expect.arrayContaining([
      expect.objectContaining({ ScalingAdjustment: -1 }),
      expect.objectContaining({ ScalingAdjustment: 1 }),
      expect.objectContaining({ ScalingAdjustment: 3 }),
    ]));
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((r: any) => r.Properties)
      .filter((a: any) => a.MetricName === 'ApproximateNumberOfMessagesVisible' && a.AlarmActions?.some((x: any) => JSON.stringify(x).includes('QueueDepth')));
    expect(alarms.map((a: any) => `${a.ComparisonOperator} ${a.Threshold}`).sort()).toEqual(['GreaterThanOrEqualToThreshold 10', 'LessThanOrEqualToThreshold 0']);
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 10 });
    // and not on CPU as well: two policies would fight
    expect(Object.values(t.findResources('AWS::ApplicationAutoScaling::ScalingPolicy')).map((r: any) => r.Properties.PolicyName)
      .filter((n: string) => /WorkersCelery/.test(n) && /Cpu/.test(n))).toEqual([]);
  });

  test('alarms: the oldest message older than 10 minutes, and any dead letter, on the app\'s topic', () => {
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((r: any) => r.Properties);
    const age = alarms.filter((a: any) => a.MetricName === 'ApproximateAgeOfOldestMessage');
    expect(age.map((a: any) => [a.Threshold, a.EvaluationPeriods, a.AlarmActions.length])).toEqual([[600, 3, 1]]);
    const dead = alarms.filter((a: any) => a.MetricName === 'ApproximateNumberOfMessagesVisible' && a.Threshold === 1);
    expect(dead).toHaveLength(1);
    expect(JSON.stringify(dead[0].Dimensions)).toMatch(/DeadLetters/);
    expect(dead[0].AlarmActions).toHaveLength(1);
  });

  test('cdk-nag AwsSolutions, NIST 800-53 r5 and HIPAA are clean', () => {
    expect(formatFindings(nagFindings(stack))).toBe('');
  });
});

describe('DjangoWorkerService alone', () => {
  const build = (overrides: Partial<ConstructorParameters<typeof DjangoWorkerService>[2]> = {}) => (scope: any) => {
    const stack = Stack.of(scope);
    const cluster = new ecs.Cluster(stack, 'Cluster');
    const cache = DjangoCache.fromExisting(stack, 'Cache', { endpointAddress: 'cache.example.internal', port: 6380 });
    new DjangoWorkerService(stack, 'Worker', {
      image: IMAGE,
      cluster,
      cache,
      command: celery(),
      secretKey: secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'django/secret-key'),
      ...overrides,
    });
  };

  test('a valid worker builds', () => {
    expect(() => build()(newStack())).not.toThrow();
  });

  test.each<[string, any, RegExp]>([
    ['stopTimeout not above the soft time limit', { stopTimeout: Duration.seconds(60) },
      /stopTimeout: \(60 s\) must be longer than the Celery softTimeLimit \(60 s\), or ECS kills a task the warm shutdown is still waiting for; raise stopTimeout \(at most 120 s\) or lower softTimeLimit/],
    ['stopTimeout above the ECS maximum', { stopTimeout: Duration.seconds(121) }, /stopTimeout: must be a whole number of seconds from 2 to 120, got 121 \(ECS allows at most 120\)/],
    ['a soft time limit ECS cannot wait for', { command: WorkerCommand.celeryWorker({ softTimeLimit: Duration.minutes(5) }) },
      /stopTimeout: \(120 s\) must be longer than the Celery softTimeLimit \(300 s\)/],
    ['no broker', { cache: undefined }, /cache: Celery needs a broker: give cache \(the DjangoCache Redis\) or taskQueue/],
    ['beat with minTasks', { command: beat(), minTasks: 2 }, /minTasks: a singleton command \(Celery beat\) runs exactly one task and never scales; remove it/],
    ['maxTasks below minTasks', { minTasks: 3, maxTasks: 2 }, /maxTasks: must be a whole number >= minTasks \(3\), got 2/],
    ['queue-depth scaling without SQS', { scaleOutQueueDepth: 5 }, /scaleOutQueueDepth: applies to an SQS broker \(taskQueue\)/],
    ['a worker setting DJANGO_DEBUG', { environment: { DJANGO_DEBUG: 'true' } }, /environment: DJANGO_DEBUG is set by the construct, always to false/],
    ['a worker shadowing the cache settings', { environment: { REDIS_URL: 'redis://elsewhere:6379/0' } }, /environment: REDIS_URL is set from database, cache or taskQueue/],
    ['an empty custom command', { command: WorkerCommand.of([]) }, /command: give the command line as a non-empty list of strings/],
  ])('%s is a ValidationError naming the prop and the fix', (_label, overrides, message) => {
    expect(validationMessage(build(overrides))).toMatch(message);
  });

  test('SQS: a queue the task queue lacks, and a visibility timeout the hard limit outlasts', () => {
    const message = validationMessage((scope) => {
      const stack = Stack.of(scope);
      const taskQueue = new DjangoTaskQueue(stack, 'Queue', { visibilityTimeout: Duration.seconds(60) });
      build({ cache: undefined, taskQueue, command: WorkerCommand.celeryWorker({ queues: ['celery', 'high'] }) })(scope);
    });
    expect(message).toMatch(/queues: 'high' is not a queue of the task queue \(celery\); add it to its queueNames/);
    expect(message).toMatch(/taskQueue: its visibilityTimeout \(60 s\) must be longer than timeLimit \(90 s\)/);
  });

  test('a custom singleton command runs like beat: one task, stopped before its replacement', () => {
    const stack = newStack();
    build({ command: WorkerCommand.of(['python', 'manage.py', 'consume_events'], { singleton: true }), cache: undefined })(stack);
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 1, DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 0, MaximumPercent: 100 }) });
    t.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Command: ['python', 'manage.py', 'consume_events'], StopTimeout: 30 })],
    });
  });
});

describe('DjangoApp validates its workers before it builds anything', () => {
  test.each<[string, any, RegExp]>([
    ['a worker\'s stopTimeout, under workers[i].', { workers: [{ id: 'Celery', command: celery(), stopTimeout: Duration.seconds(30) }] },
      /workers\[0\]\.stopTimeout: \(30 s\) must be longer than the Celery softTimeLimit \(60 s\)/],
    ['two beats', { workers: [{ id: 'A', command: beat() }, { id: 'B', command: beat() }] }, /workers: more than one Celery beat would send every periodic task more than once/],
    ['two workers with one id', { workers: [{ id: 'Celery', command: celery() }, { id: 'Celery', command: celery() }] }, /workers\[1\]\.id: 'Celery' is the id of another worker/],
    ['Celery with the cache turned off and no taskQueue', { cache: { enabled: false }, workers: [{ id: 'Celery', command: celery() }] },
      /cache: the Celery workers need a broker: leave the cache on \(Redis\) or give taskQueue \(SQS\)/],
    ['a bad task queue option', { taskQueue: { maxReceiveCount: 0 }, workers: [{ id: 'Celery', command: celery() }] }, /taskQueue\.maxReceiveCount: must be a whole number from 1 to 1000/],
  ])('%s', (_label, props, message) => {
    expect(validationMessage((scope) => new DjangoApp(scope, 'Site', { image: IMAGE, ...props }))).toMatch(message);
  });
});
