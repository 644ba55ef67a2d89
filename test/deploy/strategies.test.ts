import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { DjangoApp, DjangoAppProps, DjangoDeploymentOptions, DjangoGunicornService, DjangoTrafficShift } from '../../src';
import { formatFindings, nagFindings } from '../helpers/compliance';
import { alarmRollbackProblems, infrastructureRoleProblems, testListenerProblems, trafficShiftProblems } from '../helpers/deploy-checks';
import { IMAGE, validationMessage } from '../helpers/template';
import { CfnTemplate, refId, resourcesOfType } from '../helpers/template-checks';

const CERT_ARN = 'arn:aws:acm:us-east-1:111111111111:certificate/abc';

function appStack(props: Partial<DjangoAppProps>, withCertificate = false): { stack: Stack; site: DjangoApp; t: CfnTemplate } {
  const stack = new Stack(new App(), 'Site');
  const site = new DjangoApp(stack, 'Site', {
    image: IMAGE,
    ...(withCertificate ? { certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', CERT_ARN), domainNames: ['www.example.com'] } : {}),
    ...props,
  });
  return { stack, site, t: Template.fromStack(stack).toJSON() as CfnTemplate };
}

const serviceProps = (t: CfnTemplate) => resourcesOfType(t, 'AWS::ECS::Service')[0][1].Properties;
const copy = (t: CfnTemplate): any => JSON.parse(JSON.stringify(t));

const SHIFTS: Array<[string, DjangoDeploymentOptions, (dc: any) => void]> = [
  ['BLUE_GREEN', { strategy: ecs.DeploymentStrategy.BLUE_GREEN }, (dc) => {
    expect(dc).toMatchObject({ Strategy: 'BLUE_GREEN', BakeTimeInMinutes: 10 });
    expect(dc.CanaryConfiguration).toBeUndefined();
    expect(dc.LinearConfiguration).toBeUndefined();
  }],
  ['LINEAR', { strategy: ecs.DeploymentStrategy.LINEAR, linearStepPercent: 20, linearStepBakeTime: Duration.minutes(3) }, (dc) => {
    expect(dc).toMatchObject({ Strategy: 'LINEAR', BakeTimeInMinutes: 10, LinearConfiguration: { StepPercent: 20, StepBakeTimeInMinutes: 3 } });
  }],
  ['CANARY', { strategy: ecs.DeploymentStrategy.CANARY, bakeTime: Duration.minutes(15) }, (dc) => {
    expect(dc).toMatchObject({ Strategy: 'CANARY', BakeTimeInMinutes: 15, CanaryConfiguration: { CanaryPercent: 5, CanaryBakeTimeInMinutes: 10 } });
  }],
];

describe.each(SHIFTS)('DjangoApp with %s', (name, deployment, strategyShape) => {
  const { stack, t } = appStack({ deployment: { ...deployment, smokeTest: {} } }, name === 'CANARY');

  test('the service deploys with the strategy, its bake times, and the circuit breaker still on', () => {
    const dc = serviceProps(t).DeploymentConfiguration;
    strategyShape(dc);
    expect(dc).toMatchObject({ DeploymentCircuitBreaker: { Enable: true, Rollback: true }, MinimumHealthyPercent: 100, MaximumPercent: 200 });
    expect(serviceProps(t).DeploymentController).toEqual({ Type: 'ECS' });
  });

  test('two target groups, the production and the test rule forwarding 100/0, defaults on the primary group', () => {
    expect(trafficShiftProblems(t)).toEqual([]);
    expect(resourcesOfType(t, 'AWS::ElasticLoadBalancingV2::TargetGroup')).toHaveLength(2);
  });

  test('the rules sit last (50000), after every rule users or a WebSocket service add', () => {
    for (const [, rule] of resourcesOfType(t, 'AWS::ElasticLoadBalancingV2::ListenerRule')) expect(rule.Properties.Priority).toBe(50000);
  });

  test('the infrastructure role: trusted by ECS alone, with the load balancer policy', () => {
    expect(infrastructureRoleProblems(t)).toEqual([]);
  });

  test('the test listener on port 9000 is reachable from the smoke test only, in the protocol of the site', () => {
    expect(testListenerProblems(t, 9000)).toEqual([]);
    const [, listener] = resourcesOfType(t, 'AWS::ElasticLoadBalancingV2::Listener').find(([, l]) => l.Properties.Port === 9000)!;
    expect(listener.Properties.Protocol).toBe(name === 'CANARY' ? 'HTTPS' : 'HTTP');
    const ingress = resourcesOfType(t, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties).filter((r) => r.FromPort === 9000);
    expect(ingress).toHaveLength(1);
    expect(t.Resources[refId(ingress[0].SourceSecurityGroupId)!].Properties.GroupDescription).toMatch(/smoke test/);
  });

  test('the 5xx-rate alarm rolls the deployment back, counting both target groups', () => {
    expect(alarmRollbackProblems(t)).toEqual([]);
  });

  test('the latency and unhealthy-host alarms watch both target groups too', () => {
    const alternate = refId(serviceProps(t).LoadBalancers[0].AdvancedConfiguration.AlternateTargetGroupArn)!;
    const alarms = resourcesOfType(t, 'AWS::CloudWatch::Alarm').map(([id, a]) => [id, JSON.stringify(a.Properties.Metrics ?? [])]);
    for (const kind of ['P99Latency', 'UnhealthyHosts', 'Http5xxRate']) {
      const [, metrics] = alarms.find(([id]) => id.includes(kind))!;
      expect(metrics).toContain(`"${alternate}"`);
    }
  });

  test('the smoke test runs after test traffic shifted and before production traffic does, in the VPC', () => {
    const hooks = serviceProps(t).DeploymentConfiguration.LifecycleHooks;
    expect(hooks).toHaveLength(1);
    expect(hooks[0].LifecycleStages).toEqual(['POST_TEST_TRAFFIC_SHIFT']);
    const fn = t.Resources[refId(hooks[0].HookTargetArn)!].Properties;
    expect(fn.VpcConfig.SubnetIds.length).toBeGreaterThan(0);
    expect(fn.Environment.Variables).toMatchObject({ PORT: '9000', PROTOCOL: name === 'CANARY' ? 'HTTPS' : 'HTTP', SMOKE_PATH: '/healthz', EXPECTED_STATUS: '200', SUCCESSES: '3' });
    if (name === 'CANARY') expect(fn.Environment.Variables.HOST).toBe('www.example.com');
    const invokeRole = t.Resources[refId(hooks[0].RoleArn)!].Properties;
    expect(invokeRole.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'ecs.amazonaws.com' });
  });

  test('AwsSolutions, NIST 800-53 r5 and HIPAA find nothing', () => {
    const findings = nagFindings(stack);
    expect({ findings: formatFindings(findings) }).toEqual({ findings: '' });
  });
});

describe('ROLLING (the default)', () => {
  const { t } = appStack({});

  test('names ROLLING, keeps one target group and no rule of its own', () => {
    expect(serviceProps(t).DeploymentConfiguration).toMatchObject({ Strategy: 'ROLLING', DeploymentCircuitBreaker: { Enable: true, Rollback: true } });
    expect(serviceProps(t).LoadBalancers[0].AdvancedConfiguration).toBeUndefined();
    expect(resourcesOfType(t, 'AWS::ElasticLoadBalancingV2::TargetGroup')).toHaveLength(1);
    expect(resourcesOfType(t, 'AWS::ElasticLoadBalancingV2::ListenerRule')).toHaveLength(0);
    expect(serviceProps(t).DeploymentConfiguration.BakeTimeInMinutes).toBeUndefined();
  });

  test('DjangoApp rolls back on the 5xx-rate alarm', () => {
    expect(alarmRollbackProblems(t)).toEqual([]);
  });

  test('rollbackOnAlarm: false leaves the alarms out of the deployment', () => {
    const off = appStack({ deployment: { rollbackOnAlarm: false } }).t;
    expect(serviceProps(off).DeploymentConfiguration.Alarms).toMatchObject({ Enable: false });
    expect(alarmRollbackProblems(off)).toEqual([expect.stringMatching(/not enabled with rollback/)]);
  });

  test('a mixed app: the Daphne service on the shared listener rolls back on its own 5xx alarm too', () => {
    const mixed = appStack({ requirements: { websockets: true }, deployment: { strategy: ecs.DeploymentStrategy.BLUE_GREEN } }).t;
    const services = resourcesOfType(mixed, 'AWS::ECS::Service').map(([, s]) => s.Properties.DeploymentConfiguration);
    expect(services.map((d) => d.Strategy).sort()).toEqual(['BLUE_GREEN', 'ROLLING']);
    for (const d of services) expect(d.Alarms).toMatchObject({ Enable: true, Rollback: true });
    // the WebSocket rule (40000) is evaluated before the production rule (50000)
    const priorities = resourcesOfType(mixed, 'AWS::ElasticLoadBalancingV2::ListenerRule').map(([, r]) => r.Properties.Priority).sort();
    expect(priorities).toEqual([40000, 50000, 50000]);
  });
});

describe('a service on its own', () => {
  test('rolls back on the alarms it is given; without them no alarm is in its deployments', () => {
    const stack = new Stack(new App(), 'S');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const alarm = new cloudwatch.Alarm(stack, 'Errors', { metric: new cloudwatch.Metric({ namespace: 'X', metricName: 'Y' }), threshold: 1, evaluationPeriods: 1 });
    new DjangoGunicornService(stack, 'Web', { image: IMAGE, vpc, deployment: { alarms: [alarm] } });
    new DjangoGunicornService(stack, 'Plain', { image: IMAGE, vpc });
    const services = resourcesOfType(Template.fromStack(stack).toJSON() as CfnTemplate, 'AWS::ECS::Service').map(([, s]) => s.Properties.DeploymentConfiguration.Alarms);
    expect(services).toEqual(expect.arrayContaining([
      { AlarmNames: [{ Ref: expect.stringMatching(/^Errors/) }], Enable: true, Rollback: true },
      { AlarmNames: [], Enable: false, Rollback: false },
    ]));
  });

  test('in a partition without deployment alarms (China) nothing names them; elsewhere the same props do', () => {
    const alarmsIn = (region: string) => {
      const stack = new Stack(new App(), 'S', { env: { account: '111111111111', region } });
      const alarm = new cloudwatch.Alarm(stack, 'Errors', { metric: new cloudwatch.Metric({ namespace: 'X', metricName: 'Y' }), threshold: 1, evaluationPeriods: 1 });
      new DjangoGunicornService(stack, 'Web', { image: IMAGE, deployment: { alarms: [alarm] } });
      return serviceProps(Template.fromStack(stack).toJSON() as CfnTemplate).DeploymentConfiguration.Alarms;
    };
    expect(alarmsIn('cn-north-1')).toBeUndefined();
    expect(alarmsIn('eu-west-1')).toMatchObject({ Enable: true, Rollback: true });
  });

  test('exposes the second target group, the rules and the role', () => {
    const stack = new Stack(new App(), 'S');
    const web = new DjangoGunicornService(stack, 'Web', { image: IMAGE, deployment: { strategy: ecs.DeploymentStrategy.BLUE_GREEN, testListener: { enabled: false } } });
    expect(web.trafficShift).toBeInstanceOf(DjangoTrafficShift);
    expect(web.alternateTargetGroup).toBe(web.trafficShift!.alternateTargetGroup);
    expect(web.trafficShift!.testListener).toBeUndefined();
    expect(web.trafficShift!.productionRule).toBeDefined();
    const t = Template.fromStack(stack).toJSON() as CfnTemplate;
    expect(serviceProps(t).LoadBalancers[0].AdvancedConfiguration.TestListenerRule).toBeUndefined();
  });
});

describe('the checks fail on a template that breaks them', () => {
  const good = appStack({ deployment: { strategy: ecs.DeploymentStrategy.CANARY, smokeTest: {} } }, true).t;
  const rolling = appStack({}).t;
  const ruleIds = resourcesOfType(good, 'AWS::ElasticLoadBalancingV2::ListenerRule').map(([id]) => id);

  test('a rolling template is no traffic shift', () => {
    expect(trafficShiftProblems(rolling)).toEqual(['strategy is ROLLING, not a traffic shift', 'the service has no AdvancedConfiguration']);
  });

  test('weights that send production to the alternate group', () => {
    const broken = copy(good);
    const groups = broken.Resources[ruleIds[0]].Properties.Actions[0].ForwardConfig.TargetGroups;
    groups[0].Weight = 0;
    groups[1].Weight = 100;
    expect(trafficShiftProblems(broken)).toEqual([expect.stringMatching(/forwards .* not 100 to the primary/)]);
  });

  test('a listener whose default action is a fixed response', () => {
    const broken = copy(good);
    const listener = refId(broken.Resources[ruleIds[0]].Properties.ListenerArn)!;
    broken.Resources[listener].Properties.DefaultActions = [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }];
    expect(trafficShiftProblems(broken)).toEqual([expect.stringMatching(/default action is not a forward to the primary group/)]);
  });

  test('a second target group with another health check', () => {
    const broken = copy(good);
    const alt = refId(serviceProps(broken).LoadBalancers[0].AdvancedConfiguration.AlternateTargetGroupArn)!;
    broken.Resources[alt].Properties.HealthCheckPath = '/';
    expect(trafficShiftProblems(broken)).toEqual(['the two target groups differ (port or health check)']);
  });

  test('an infrastructure role without the managed policy, or trusted by Lambda', () => {
    const broken = copy(good);
    const role = refId(serviceProps(broken).LoadBalancers[0].AdvancedConfiguration.RoleArn)!;
    broken.Resources[role].Properties.ManagedPolicyArns = [];
    broken.Resources[role].Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service = 'lambda.amazonaws.com';
    expect(infrastructureRoleProblems(broken)).toEqual([
      expect.stringMatching(/trusts \["lambda.amazonaws.com"\]/), 'the role lacks AmazonECSInfrastructureRolePolicyForLoadBalancers',
    ]);
  });

  test('a test listener open to the internet', () => {
    const broken = copy(good);
    const [sgId] = resourcesOfType(broken, 'AWS::EC2::SecurityGroup').find(([id]) => /LoadBalancerSecurityGroup/.test(id))!;
    broken.Resources[sgId].Properties.SecurityGroupIngress.push({ CidrIp: '0.0.0.0/0', FromPort: 9000, ToPort: 9000, IpProtocol: 'tcp' });
    expect(testListenerProblems(broken, 9000)).toEqual(['port 9000 is open to 0.0.0.0/0']);
    expect(testListenerProblems(broken, 9000, ['0.0.0.0/0'])).toEqual([]);
    expect(testListenerProblems(good, 9001)).toEqual(['no listener on port 9001']);
  });

  test('a deployment alarm that counts only the primary target group', () => {
    const broken = copy(good);
    const alarm = refId(serviceProps(broken).DeploymentConfiguration.Alarms.AlarmNames[0])!;
    const alt = refId(serviceProps(broken).LoadBalancers[0].AdvancedConfiguration.AlternateTargetGroupArn)!;
    broken.Resources[alarm].Properties.Metrics = JSON.parse(JSON.stringify(broken.Resources[alarm].Properties.Metrics).split(`"${alt}"`).join('"Other"'));
    expect(alarmRollbackProblems(broken)).toEqual([`deployment alarm ${alarm} does not count target group ${alt}`]);
  });
});

describe('bad deployment options are ValidationErrors naming the prop', () => {
  const app = (deployment: DjangoDeploymentOptions, extra: Partial<DjangoAppProps> = {}) => validationMessage((scope) =>
    new DjangoApp(scope, 'Site', { image: IMAGE, deployment, ...extra }));
  const BG = ecs.DeploymentStrategy.BLUE_GREEN;
  const CANARY = ecs.DeploymentStrategy.CANARY;
  const LINEAR = ecs.DeploymentStrategy.LINEAR;

  test.each<[string, DjangoDeploymentOptions, RegExp]>([
    ['a bake time with ROLLING', { bakeTime: Duration.minutes(5) }, /deployment\.bakeTime: applies to the BLUE_GREEN, LINEAR and CANARY strategies/],
    ['a smoke test with ROLLING', { smokeTest: {} }, /deployment\.smokeTest: applies to the BLUE_GREEN/],
    ['a canary percent without CANARY', { strategy: BG, canaryPercent: 10 }, /deployment\.canaryPercent: applies to the CANARY strategy only/],
    ['a linear step without LINEAR', { strategy: CANARY, linearStepPercent: 10 }, /deployment\.linearStepPercent: applies to the LINEAR strategy only/],
    ['a canary percent of 0', { strategy: CANARY, canaryPercent: 0 }, /deployment\.canaryPercent: must be a percentage from 0.1 to 100 in steps of 0.1, got 0/],
    ['a canary percent of 100.5', { strategy: CANARY, canaryPercent: 100.5 }, /canaryPercent: must be a percentage .* got 100.5/],
    ['a canary percent of 5.05', { strategy: CANARY, canaryPercent: 5.05 }, /canaryPercent: must be a percentage .* got 5.05/],
    ['a linear step of 2 %', { strategy: LINEAR, linearStepPercent: 2 }, /deployment\.linearStepPercent: must be a percentage from 3 to 100/],
    ['a bake time of 25 hours', { strategy: BG, bakeTime: Duration.hours(25) }, /deployment\.bakeTime: must be whole minutes from 0 to 24 hours .* got 1500 minutes/],
    ['a bake time of 90 seconds', { strategy: BG, bakeTime: Duration.seconds(90) }, /deployment\.bakeTime: must be whole minutes .* got 1.5 minutes/],
    ['a canary bake time over a day', { strategy: CANARY, canaryBakeTime: Duration.minutes(1441) }, /deployment\.canaryBakeTime: must be whole minutes/],
    ['canary bakes over 33 hours', { strategy: CANARY, bakeTime: Duration.hours(24), canaryBakeTime: Duration.hours(10) }, /deployment\.bakeTime: with canaryBakeTime makes 2040 minutes .* 1980/],
    ['linear steps over 33 hours', { strategy: LINEAR, linearStepBakeTime: Duration.hours(4) }, /deployment\.linearStepBakeTime: over 10 steps plus bakeTime makes 2410 minutes/],
    ['the test listener on port 443', { strategy: BG, testListener: { port: 443 } }, /deployment\.testListener\.port: must be a port from 1 to 65535 other than 80 and 443/],
    ['the test listener on port 70000', { strategy: BG, testListener: { port: 70000 } }, /testListener\.port: .* got 70000/],
    ['a port for a test listener that is off', { strategy: BG, testListener: { enabled: false, port: 9001 } }, /deployment\.testListener: sets a port or allowFrom for a test listener that enabled: false turns off/],
    ['a smoke test without the test listener', { strategy: BG, testListener: { enabled: false }, smokeTest: {} }, /deployment\.smokeTest: runs on the test listener/],
    ['a smoke test path without a slash', { strategy: BG, smokeTest: { path: 'healthz' } }, /deployment\.smokeTest\.path: must be a URL path starting with '\/'/],
    ['an expected status of 999', { strategy: BG, smokeTest: { expectedStatus: 999 } }, /deployment\.smokeTest\.expectedStatus: must be an HTTP status from 100 to 599/],
    ['zero successes', { strategy: BG, smokeTest: { successes: 0 } }, /deployment\.smokeTest\.successes: must be a whole number from 1 to 20/],
    ['a smoke test of 20 minutes', { strategy: BG, smokeTest: { timeout: Duration.minutes(20) } }, /deployment\.smokeTest\.timeout: must be whole seconds from 10 seconds to 14 minutes/],
    ['a wildcard Host', { strategy: BG, smokeTest: { host: '*.example.com' } }, /deployment\.smokeTest\.host: must be one host name/],
  ])('%s', (_name, deployment, message) => {
    expect(app(deployment)).toMatch(message);
  });

  test('a smoke test over HTTPS without a name the certificate covers', () => {
    expect(validationMessage((scope) => new DjangoApp(scope, 'Site', {
      image: IMAGE,
      certificate: acm.Certificate.fromCertificateArn(scope, 'Cert', CERT_ARN),
      deployment: { strategy: BG, smokeTest: {} },
    }))).toMatch(/deployment\.smokeTest\.host: the test listener speaks HTTPS with the certificate, .* give domainNames or smokeTest\.host/);
  });

  test('a wildcard first domain name needs an explicit Host', () => {
    expect(app({ strategy: BG, smokeTest: {} }, { domainNames: ['*'] })).toMatch(/smokeTest\.host: must be one host name .* from domainNames; give smokeTest\.host/);
  });

  test('a traffic shift on an existing listener the service does not own', () => {
    expect(validationMessage((scope) => {
      const vpc = new ec2.Vpc(scope, 'Vpc', { maxAzs: 2 });
      const alb = new elbv2.ApplicationLoadBalancer(scope, 'Alb', { vpc });
      const listener = alb.addListener('Shared', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
      new DjangoGunicornService(scope, 'Web', {
        image: IMAGE,
        vpc,
        listener,
        listenerRulePriority: 10,
        domainNames: ['app.example.com'],
        deployment: { strategy: ecs.DeploymentStrategy.LINEAR },
      });
    })).toMatch(/deployment\.strategy: LINEAR shifts traffic with listener rules and a test port on listeners this service creates; an existing `listener` belongs to someone else/);
  });

  test('DjangoTrafficShift on its own refuses ROLLING', () => {
    expect(validationMessage((scope) => {
      const web = new DjangoGunicornService(scope, 'Web', { image: IMAGE });
      new DjangoTrafficShift(scope, 'Shift', {
        deployment: { strategy: ecs.DeploymentStrategy.ROLLING },
        vpc: web.vpc,
        loadBalancer: web.loadBalancer!,
        listener: web.listener,
        targetGroup: web.targetGroup,
        targetGroupProps: { vpc: web.vpc, port: 8080 },
        healthCheckPath: '/healthz',
        defaultHost: 'x.example.com',
      });
    })).toMatch(/deployment\.strategy: shifts no traffic with ROLLING/);
  });

  test('every problem at once, each on its own line', () => {
    expect(app({ strategy: CANARY, canaryPercent: 0, bakeTime: Duration.seconds(30) })).toMatch(/invalid props:\n {2}- deployment\.canaryPercent: .*\n {2}- deployment\.bakeTime: /);
  });
});
