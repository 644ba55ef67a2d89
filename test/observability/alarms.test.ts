import { CfnElement, Duration, Errors, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { DjangoDaphneService, DjangoGunicornService, DjangoServiceBase, IDjangoService } from '../../src';
import { DjangoAlarms, DjangoAlarmsProps } from '../../src/observability/alarms';
import { formatFindings, nagFindings } from '../helpers/compliance';
import { IMAGE, newStack } from '../helpers/template';

/** A stack with one default Gunicorn service. */
function webStack(): { stack: Stack; web: DjangoGunicornService } {
  const stack = newStack();
  return { stack, web: new DjangoGunicornService(stack, 'Web', { image: IMAGE }) };
}

/** The CloudFormation Properties of an alarm construct. */
function props(stack: Stack, alarm: cloudwatch.Alarm): any {
  const id = stack.getLogicalId(alarm.node.defaultChild as CfnElement);
  return Template.fromStack(stack).toJSON().Resources[id].Properties;
}

function logicalId(stack: Stack, construct: { node: { defaultChild?: any } }): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/** The metric queries of a math-expression alarm, by Id. */
function queries(alarmProps: any): Record<string, any> {
  return Object.fromEntries(alarmProps.Metrics.map((m: any) => [m.Id, m]));
}

/** The dashboard body as one string, tokens flattened to their JSON. */
function dashboardBody(stack: Stack): string {
  const dashboards = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = (dashboards[0] as any).Properties.DashboardBody;
  return body['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
}

const TG_DIMENSIONS = (stack: Stack, service: IDjangoService) => expect.arrayContaining([
  { Name: 'TargetGroup', Value: { 'Fn::GetAtt': [logicalId(stack, service.targetGroup), 'TargetGroupFullName'] } },
  expect.objectContaining({ Name: 'LoadBalancer' }),
]);

describe('defaults: one service', () => {
  const { stack, web } = webStack();
  const alarms = new DjangoAlarms(stack, 'Alarms', { services: [web] });
  const a = alarms.serviceAlarms[0];
  const template = Template.fromStack(stack);

  test('five alarms for the service, no topic, no actions, missing data is not breaching', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    expect(alarms.alarms).toEqual([a.http5xxRate, a.p99Latency, a.unhealthyHosts, a.cpu, a.memory]);
    expect(alarms.topic).toBeUndefined();
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[]) {
      expect(alarm.Properties.TreatMissingData).toBe('notBreaching');
      expect(alarm.Properties.AlarmActions).toBeUndefined();
    }
  });

  test('5xx rate: app + load balancer 5xx over requests, FILLed and guarded by IF, > 5% over 5 minutes', () => {
    const p = props(stack, a.http5xxRate);
    expect(p).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 });
    const q = queries(p);
    // the one query whose data the alarm evaluates
    const returned = p.Metrics.filter((m: any) => m.ReturnData !== false);
    expect(returned).toHaveLength(1);
    expect(returned[0].Expression).toBe('IF(errors > 0, 100 * errors / MAX([requests, errors]), 0)');
    expect(q.errors.Expression).toBe('FILL(targetErrors, 0) + FILL(elbErrors, 0)');
    expect(q.requests.Expression).toBe('FILL(requestCount, 0)');
    expect(q.targetErrors.MetricStat).toMatchObject({
      Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_Target_5XX_Count', Dimensions: TG_DIMENSIONS(stack, web) },
      Stat: 'Sum',
      Period: 300,
    });
    expect(q.requestCount.MetricStat).toMatchObject({
      Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCount', Dimensions: TG_DIMENSIONS(stack, web) },
      Stat: 'Sum',
    });
    expect(q.elbErrors.MetricStat).toMatchObject({
      Metric: {
        Namespace: 'AWS/ApplicationELB',
        MetricName: 'HTTPCode_ELB_5XX_Count',
        Dimensions: [{ Name: 'LoadBalancer', Value: { 'Fn::GetAtt': [logicalId(stack, web.loadBalancer as any), 'LoadBalancerFullName'] } }],
      },
      Stat: 'Sum',
    });
  });

  test('synthesizes without warnings or errors of its own (e.g. a math expression naming an unknown metric)', () => {
    const annotations = Annotations.fromStack(stack);
    const ours = (messages: Array<{ id: string }>) => messages.filter((m) => m.id.startsWith('/Test/Alarms/')).map((m) => m.id);
    expect(ours(annotations.findWarning('*', Match.anyValue()))).toEqual([]);
    expect(ours(annotations.findError('*', Match.anyValue()))).toEqual([]);
  });

  test('the 5xx description names the app log group', () => {
    expect(JSON.stringify(props(stack, a.http5xxRate).AlarmDescription)).toContain(logicalId(stack, web.logGroup));
    expect(JSON.stringify(props(stack, a.http5xxRate).AlarmDescription)).toMatch(/check the app log group/);
  });

  test('p99 latency: TargetResponseTime p99 > 2 s in 2 of 3 five-minute periods', () => {
    expect(props(stack, a.p99Latency)).toMatchObject({
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'TargetResponseTime',
      ExtendedStatistic: 'p99',
      Period: 300,
      Threshold: 2,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      Dimensions: TG_DIMENSIONS(stack, web),
    });
  });

  test('unhealthy hosts: UnHealthyHostCount maximum >= 1 for 3 of 3 minutes on the target group', () => {
    expect(props(stack, a.unhealthyHosts)).toMatchObject({
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'UnHealthyHostCount',
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Dimensions: TG_DIMENSIONS(stack, web),
    });
  });

  test.each([
    ['cpu', 'CPUUtilization'],
    ['memory', 'MemoryUtilization'],
  ] as const)('%s: ECS service %s average > 85% for 3 five-minute periods', (kind, metricName) => {
    const p = props(stack, a[kind]);
    expect(p).toMatchObject({
      Namespace: 'AWS/ECS',
      MetricName: metricName,
      Statistic: 'Average',
      Period: 300,
      Threshold: 85,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
    });
    const dims = Object.fromEntries(p.Dimensions.map((d: any) => [d.Name, d.Value]));
    expect(dims.ClusterName).toEqual({ Ref: logicalId(stack, web.cluster as any) });
    expect(dims.ServiceName).toEqual({ 'Fn::GetAtt': [logicalId(stack, web.service), 'Name'] });
  });

  test('a dashboard with traffic, 5xx, p50/p90/p99 latency, hosts, CPU/memory, tasks and a log query', () => {
    expect(alarms.dashboard).toBeDefined();
    const body = dashboardBody(stack);
    const widgetTypes = [...body.matchAll(/\{"type":"(\w+)"/g)].map((m) => m[1]);
    expect(widgetTypes.length).toBeGreaterThanOrEqual(8);
    expect(widgetTypes).toEqual(expect.arrayContaining(['text', 'metric', 'log']));
    for (const needle of [
      'RequestCount', 'HTTPCode_Target_5XX_Count', 'HTTPCode_ELB_5XX_Count', 'TargetResponseTime',
      '"stat":"p50"', '"stat":"p90"', '"stat":"p99"', 'HealthyHostCount', 'UnHealthyHostCount',
      'CPUUtilization', 'MemoryUtilization', 'ECS/ContainerInsights', 'RunningTaskCount',
    ]) {
      expect(body).toContain(needle);
    }
    expect(body).toContain(logicalId(stack, web.logGroup)); // the log widget queries the service's log group
    expect(body).toContain('IF(errors > 0, 100 * errors / MAX([requests, errors]), 0)'); // the 5xx rate graph is the alarm's expression
  });
});

describe('notifications', () => {
  test('an existing topic gets every alarm\'s ALARM and OK actions', () => {
    const { stack, web } = webStack();
    const topic = new sns.Topic(stack, 'Ops');
    const alarms = new DjangoAlarms(stack, 'Alarms', { services: [web], topic });
    expect(alarms.topic).toBe(topic);
    const alarmResources = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')) as any[];
    expect(alarmResources).toHaveLength(5);
    for (const alarm of alarmResources) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: logicalId(stack, topic) }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: logicalId(stack, topic) }]);
    }
  });

  test('createTopic: a KMS-encrypted, TLS-only topic under a rotating key CloudWatch may use', () => {
    const { stack, web } = webStack();
    const alarms = new DjangoAlarms(stack, 'Alarms', { services: [web], createTopic: true });
    const template = Template.fromStack(stack);
    const topicId = logicalId(stack, alarms.topic as sns.Topic);
    const key = Object.entries(template.findResources('AWS::KMS::Key'))
      .find(([, r]: any) => r.Properties.Description === 'Encrypts the Django alarms topic') as [string, any];
    expect(key).toBeDefined();
    expect(key[1].Properties.EnableKeyRotation).toBe(true);
    expect(key[1].Properties.KeyPolicy.Statement).toEqual(expect.arrayContaining([expect.objectContaining({
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Effect: 'Allow',
    })]));
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [key[0], 'Arn'] } });
    // The topic policy replaces the default one: beside the TLS-only deny it admits CloudWatch, for this account's alarms only.
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          {
            Sid: 'CloudWatchAlarmsPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: topicId },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:*']] } },
            },
          },
        ],
      },
      Topics: [{ Ref: topicId }],
    });
    for (const alarm of alarms.alarms) {
      expect(props(stack, alarm).AlarmActions).toEqual([{ Ref: topicId }]);
    }
  });

  test('addAlarmAction adds an action to every alarm, for ALARM and OK', () => {
    const { stack, web } = webStack();
    const alarms = new DjangoAlarms(stack, 'Alarms', { services: [web] });
    const topic = new sns.Topic(stack, 'Later');
    alarms.addAlarmAction(new cwActions.SnsAction(topic));
    for (const alarm of alarms.alarms) {
      expect(props(stack, alarm).AlarmActions).toEqual([{ Ref: logicalId(stack, topic) }]);
      expect(props(stack, alarm).OKActions).toEqual([{ Ref: logicalId(stack, topic) }]);
    }
  });
});

describe('thresholds and options', () => {
  test('threshold props change the alarms', () => {
    const { stack, web } = webStack();
    const alarms = new DjangoAlarms(stack, 'Alarms', {
      services: [web], http5xxRatePercent: 1.5, p99Latency: Duration.millis(750), cpuPercent: 70, memoryPercent: 90,
    });
    const a = alarms.serviceAlarms[0];
    expect(props(stack, a.http5xxRate).Threshold).toBe(1.5);
    expect(props(stack, a.p99Latency).Threshold).toBe(0.75);
    expect(props(stack, a.cpu).Threshold).toBe(70);
    expect(props(stack, a.memory).Threshold).toBe(90);
  });

  test('a migrations function gets an Errors >= 1 alarm, with the same actions', () => {
    const { stack, web } = webStack();
    const fn = lambda.Function.fromFunctionArn(stack, 'Migrate', 'arn:aws:lambda:us-east-1:111111111111:function:mysite-migrate');
    const topic = new sns.Topic(stack, 'Ops');
    const alarms = new DjangoAlarms(stack, 'Alarms', { services: [web], migrationsFunction: fn, topic });
    expect(alarms.alarms).toHaveLength(6);
    expect(props(stack, alarms.migrationsAlarm!)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: 'mysite-migrate' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: logicalId(stack, topic) }],
    });
  });

  test('dashboard: false creates no dashboard; dashboardName names it', () => {
    const off = webStack();
    expect(new DjangoAlarms(off.stack, 'Alarms', { services: [off.web], dashboard: false }).dashboard).toBeUndefined();
    Template.fromStack(off.stack).resourceCountIs('AWS::CloudWatch::Dashboard', 0);

    const named = webStack();
    new DjangoAlarms(named.stack, 'Alarms', { services: [named.web], dashboardName: 'mysite-prod' });
    Template.fromStack(named.stack).hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'mysite-prod' });
  });
});

describe('several services', () => {
  // A mixed app: Gunicorn for HTTP, Daphne for WebSockets on the same load balancer's listener.
  const stack = newStack();
  const web = new DjangoGunicornService(stack, 'Web', { image: IMAGE });
  const ws = new DjangoDaphneService(stack, 'Ws', {
    image: IMAGE, vpc: web.vpc, cluster: web.cluster, listener: web.listener, listenerRulePriority: 10, allowedHosts: ['ws.example.com'],
  });
  const alarms = new DjangoAlarms(stack, 'Alarms', { services: [web, ws] });

  test('each service gets its own five alarms on its own target group and ECS service', () => {
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Alarm', 10);
    expect(alarms.serviceAlarms.map((s) => s.service)).toEqual([web, ws]);
    for (const s of alarms.serviceAlarms) {
      expect(props(stack, s.p99Latency).Dimensions).toEqual(TG_DIMENSIONS(stack, s.service));
      expect(props(stack, s.unhealthyHosts).Dimensions).toEqual(TG_DIMENSIONS(stack, s.service));
      const serviceName = props(stack, s.cpu).Dimensions.find((d: any) => d.Name === 'ServiceName').Value;
      expect(serviceName).toEqual({ 'Fn::GetAtt': [logicalId(stack, s.service.service), 'Name'] });
    }
  });

  test('a service on an existing listener counts only its own 5xx (the load balancer may be shared)', () => {
    expect(ws.loadBalancer).toBeUndefined();
    const q = queries(props(stack, alarms.serviceAlarms[1].http5xxRate));
    expect(q.errors.Expression).toBe('FILL(targetErrors, 0)');
    expect(q.elbErrors).toBeUndefined();
    // the target group metrics still know the load balancer, from the listener's ARN
    expect(q.targetErrors.MetricStat.Metric.Dimensions).toEqual(TG_DIMENSIONS(stack, ws));
  });

  test('the dashboard has rows for both services', () => {
    const body = dashboardBody(stack);
    expect(body).toContain('### Test/Web');
    expect(body).toContain('### Test/Ws');
  });

  test('services with the same id in different scopes do not collide', () => {
    const s = newStack();
    const a = new DjangoGunicornService(new Stack(s, 'A'), 'Web', { image: IMAGE });
    const b = new DjangoGunicornService(new Stack(s, 'B'), 'Web', { image: IMAGE });
    const alarmsAb = new DjangoAlarms(s, 'Alarms', { services: [a, b], dashboard: false });
    expect(alarmsAb.alarms).toHaveLength(10);
  });

  test('an imported listener: target group metrics take the load balancer from its ARN', () => {
    const s = newStack();
    const listener = elbv2.ApplicationListener.fromApplicationListenerAttributes(s, 'L', {
      listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/shared/1/2',
      securityGroup: ec2.SecurityGroup.fromSecurityGroupId(s, 'Sg', 'sg-12345678'),
    });
    const svc = new DjangoGunicornService(s, 'Web', { image: IMAGE, vpc: new ec2.Vpc(s, 'Vpc'), listener, listenerRulePriority: 3, allowedHosts: ['a.example.com'] });
    const a = new DjangoAlarms(s, 'Alarms', { services: [svc] });
    expect(props(s, a.serviceAlarms[0].p99Latency).Dimensions).toEqual(expect.arrayContaining([{ Name: 'LoadBalancer', Value: 'app/shared/1' }]));
  });
});

describe('bad props throw a ValidationError naming the prop', () => {
  const cases: Array<[string, (web: DjangoServiceBase, stack: Stack) => DjangoAlarmsProps, RegExp]> = [
    ['no services', () => ({ services: [] }), /services: give at least one service/],
    ['a service twice', (web) => ({ services: [web, web] }), /services: a service is listed more than once/],
    ['a 5xx rate of 0', (web) => ({ services: [web], http5xxRatePercent: 0 }), /http5xxRatePercent: must be a percentage above 0 and at most 100, got 0/],
    ['a 5xx rate over 100', (web) => ({ services: [web], http5xxRatePercent: 101 }), /http5xxRatePercent: .*got 101/],
    ['a negative CPU percentage', (web) => ({ services: [web], cpuPercent: -5 }), /cpuPercent: .*got -5/],
    ['a memory percentage over 100', (web) => ({ services: [web], memoryPercent: 150 }), /memoryPercent: .*got 150/],
    ['a zero latency', (web) => ({ services: [web], p99Latency: Duration.seconds(0) }), /p99Latency: must be longer than zero/],
    ['a topic and createTopic', (web, s) => ({ services: [web], topic: new sns.Topic(s, 'T'), createTopic: true }), /createTopic: give either an existing topic or createTopic/],
    ['a dashboard name with the dashboard off', (web) => ({ services: [web], dashboard: false, dashboardName: 'x' }), /dashboardName: names a dashboard that dashboard: false turns off/],
    ['a dashboard name with spaces', (web) => ({ services: [web], dashboardName: 'my site' }), /dashboardName: may hold only letters, digits, - and _/],
  ];

  test.each(cases)('%s', (_name, build, message) => {
    const { stack, web } = webStack();
    let error: unknown;
    try {
      new DjangoAlarms(stack, 'Alarms', build(web, stack));
    } catch (e) {
      error = e;
    }
    expect(Errors.isValidationError(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  test('lists every problem at once', () => {
    const { stack, web } = webStack();
    expect(() => new DjangoAlarms(stack, 'Alarms', { services: [web], cpuPercent: 0, memoryPercent: 0 })).toThrow(/cpuPercent: [\s\S]*memoryPercent: /);
  });
});

describe('AwsSolutions: a service with its alarms has zero unacknowledged findings', () => {
  test.each<[string, (stack: Stack) => Partial<DjangoAlarmsProps>]>([
    ['no topic', () => ({})],
    ['a created topic', () => ({ createTopic: true })],
    ['a migrations function', (s) => ({ createTopic: true, migrationsFunction: lambda.Function.fromFunctionName(s, 'Migrate', 'mysite-migrate') })],
  ])('%s', (_name, extra) => {
    const { stack, web } = webStack();
    new DjangoAlarms(stack, 'Alarms', { services: [web], ...extra(stack) });
    expect(formatFindings(nagFindings(stack, ['AwsSolutions']))).toBe('');
  });
});
