/**
 * Update checks: each tested app is synthesized before and after a change a user will make on a live
 * stack (add or remove a certificate, add domain names, turn on WAF, add a database, raise capacity),
 * and the two templates are planned the way CloudFormation plans the update (test/helpers/update-diff.ts).
 * No resource may take a port or a name that an old one still holds (CloudFormation creates before it
 * deletes), and no resource that holds data may be replaced or removed.
 */
import { App, CustomResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { DatabaseEngineKind, DjangoApp, DjangoAppProps, DjangoDaphneService, DjangoServerChoice, DjangoGunicornService, DjangoUwsgiService, ReverseProxy } from '../src';
import { CfnTemplate, resourcesOfType } from './helpers/template-checks';
import { describePlan, fixedNamesKeptByFailedCreate, planUpdate, refusedChanges, slotCollisions, statefulRemovals, statefulReplacements, UpdatePlan } from './helpers/update-diff';
import { DjangoServiceBaseProps } from '../src/services/service-props';

const IMAGE = ecs.ContainerImage.fromRegistry('example/mysite:1');
const CERT_ARN = 'arn:aws:acm:us-east-1:111111111111:certificate/abc';
const cert = (stack: Stack) => acm.Certificate.fromCertificateArn(stack, 'Cert', CERT_ARN);

function synth(build: (stack: Stack) => void): CfnTemplate {
  const stack = new Stack(new App(), 'Site');
  build(stack);
  return Template.fromStack(stack).toJSON() as CfnTemplate;
}

/** Props that need the stack (a certificate) as a function of it. */
type AppProps = (stack: Stack) => Partial<DjangoAppProps>;
const app = (props: AppProps) => (stack: Stack) => new DjangoApp(stack, 'Site', { image: IMAGE, ...props(stack) });

type ServiceKind = 'gunicorn' | 'uwsgi' | 'daphne';
const service = (kind: ServiceKind, props: (stack: Stack) => Partial<DjangoServiceBaseProps>) => (stack: Stack) => {
  const p = { image: IMAGE, ...props(stack) };
  switch (kind) {
    case 'gunicorn': return new DjangoGunicornService(stack, 'Web', p);
    case 'uwsgi': return new DjangoUwsgiService(stack, 'Web', p);
    case 'daphne': return new DjangoDaphneService(stack, 'Web', { ...p, channelLayer: { redisUrl: 'rediss://r.example:6380/0' } });
  }
};

interface Change {
  readonly name: string;
  readonly before: (stack: Stack) => void;
  readonly after: (stack: Stack) => void;
  /** What the plan must show, so a check cannot pass on an update that changes nothing. */
  readonly expect: (plan: UpdatePlan, before: CfnTemplate, after: CfnTemplate) => void;
  /** Removals of resources that hold data which the change makes by design (a feature turned off), each with why. */
  readonly removes?: Array<{ readonly finding: RegExp; readonly why: string }>;
}

const listenerPorts = (t: CfnTemplate) => resourcesOfType(t, 'AWS::ElasticLoadBalancingV2::Listener').map(([, l]) => l.Properties.Port).sort();
/** The port-80 listener keeps its logical id and is updated in place. */
function port80InPlace(plan: UpdatePlan, before: CfnTemplate, after: CfnTemplate): void {
  const port80 = (t: CfnTemplate) => resourcesOfType(t, 'AWS::ElasticLoadBalancingV2::Listener').filter(([, l]) => l.Properties.Port === 80).map(([id]) => id);
  expect(port80(after)).toEqual(port80(before));
  const m = plan.modified.find((x) => x.id === port80(before)[0]);
  expect(m).toMatchObject({ changed: ['DefaultActions'], replaced: false });
}

const site = { allowedHosts: ['example.com'] };
/** Images a VPC without NAT can pull: this account's ECR. */
const ecrImages = (stack: Stack): Partial<DjangoAppProps> => ({
  image: ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(stack, 'Repo', 'mysite'), '1.0.0'),
  reverseProxy: ReverseProxy.nginx({ image: ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(stack, 'NginxRepo', 'nginx'), '1.28-alpine') }),
});

/**
 * Rolling to a traffic shift (or back, `reverse`): the service and the primary target group are updated in
 * place, the listeners keep their default action (users reach the same group throughout), and only the
 * traffic-shift resources come (or go).
 */
function trafficShiftAddedInPlace(plan: UpdatePlan, rolling: CfnTemplate, shifting: CfnTemplate, reverse = false): void {
  const serviceUpdate = plan.modified.find((m) => m.type === 'AWS::ECS::Service');
  expect(serviceUpdate).toMatchObject({ replaced: false });
  expect(serviceUpdate!.changed).toEqual(expect.arrayContaining(['DeploymentConfiguration', 'LoadBalancers']));
  expect(plan.modified.filter((m) => m.replaced).map((m) => m.type)).toEqual([]);
  for (const m of plan.modified.filter((x) => x.type === 'AWS::ElasticLoadBalancingV2::Listener')) expect(m.changed).not.toContain('DefaultActions');
  const types = (ids: string[], t: CfnTemplate) => ids.map((id) => t.Resources[id].Type).sort();
  const shiftTypes = types(reverse ? plan.removed : plan.added, shifting);
  expect(shiftTypes).toEqual(expect.arrayContaining([
    'AWS::ElasticLoadBalancingV2::Listener', 'AWS::ElasticLoadBalancingV2::ListenerRule', 'AWS::ElasticLoadBalancingV2::ListenerRule',
    'AWS::ElasticLoadBalancingV2::TargetGroup', 'AWS::IAM::Role', 'AWS::Lambda::Function',
  ]));
  expect(reverse ? plan.added : plan.removed).toEqual([]);
  expect(resourcesOfType(rolling, 'AWS::ElasticLoadBalancingV2::TargetGroup').map(([id]) => id))
    .toEqual(expect.arrayContaining([resourcesOfType(shifting, 'AWS::ElasticLoadBalancingV2::TargetGroup').map(([id]) => id).find((id) => rolling.Resources[id])]));
}
const CHANGES: Change[] = [
  ...(['gunicorn', 'uwsgi', 'daphne'] as ServiceKind[]).flatMap((kind): Change[] => [{
    name: `${kind}: add a certificate`,
    before: service(kind, () => site),
    after: service(kind, (s) => ({ ...site, certificate: cert(s) })),
    expect: (plan, before, after) => {
      expect(listenerPorts(after)).toEqual([443, 80]);
      port80InPlace(plan, before, after);
    },
  }, {
    name: `${kind}: remove the certificate`,
    before: service(kind, (s) => ({ ...site, certificate: cert(s) })),
    after: service(kind, () => site),
    expect: (plan, before, after) => {
      expect(listenerPorts(after)).toEqual([80]);
      port80InPlace(plan, before, after);
    },
  }]),
  {
    name: 'gunicorn without a proxy: add a certificate',
    before: service('gunicorn', () => ({ ...site, reverseProxy: ReverseProxy.none() })),
    after: service('gunicorn', (s) => ({ ...site, reverseProxy: ReverseProxy.none(), certificate: cert(s) })),
    expect: port80InPlace,
  },
  {
    name: 'app: add a certificate and domain names',
    before: app(() => ({})),
    after: app((s) => ({ certificate: cert(s), allowedHosts: ['example.com', 'www.example.com'] })),
    expect: (plan, before, after) => {
      expect(listenerPorts(after)).toEqual([443, 80]);
      port80InPlace(plan, before, after);
      // the new host names reach the containers: a new revision of the service's and of the one-off task definition
      expect(plan.modified.filter((m) => m.type === 'AWS::ECS::TaskDefinition' && m.replaced).map((m) => m.id))
        .toEqual([expect.stringMatching(/^SiteWebOneOffTask/), expect.stringMatching(/^SiteWebTask/)]);
    },
  },
  {
    name: 'app: remove the certificate',
    before: app((s) => ({ certificate: cert(s), allowedHosts: ['example.com'] })),
    after: app(() => ({ allowedHosts: ['example.com'] })),
    expect: port80InPlace,
  },
  {
    name: 'app: add domain names',
    before: app(() => ({})),
    after: app(() => ({ allowedHosts: ['example.com'] })),
    expect: (plan) => expect(plan.modified.map((m) => m.type)).toContain('AWS::ECS::TaskDefinition'),
  },
  {
    name: 'app with WebSockets: add a certificate (the WebSocket rule moves to the HTTPS listener)',
    before: app(() => ({ requirements: { websockets: true }, ...site })),
    after: app((s) => ({ requirements: { websockets: true }, ...site, certificate: cert(s) })),
    expect: (plan, before, after) => {
      port80InPlace(plan, before, after);
      // a new rule on the new listener, at the same priority: no clash, the listeners differ
      expect(plan.added.filter((id) => after.Resources[id].Type === 'AWS::ElasticLoadBalancingV2::ListenerRule')).toHaveLength(1);
      expect(plan.removed.filter((id) => before.Resources[id].Type === 'AWS::ElasticLoadBalancingV2::ListenerRule')).toHaveLength(1);
    },
  },
  {
    name: 'app with WebSockets: remove the certificate',
    before: app((s) => ({ requirements: { websockets: true }, ...site, certificate: cert(s) })),
    after: app(() => ({ requirements: { websockets: true }, ...site })),
    expect: port80InPlace,
  },
  {
    name: 'app: turn on waf',
    before: app(() => site),
    after: app(() => ({ ...site, waf: true })),
    expect: (plan, _b, after) => {
      const types = plan.added.map((id) => after.Resources[id].Type);
      expect(types).toEqual(expect.arrayContaining(['AWS::WAFv2::WebACL', 'AWS::WAFv2::WebACLAssociation']));
      expect(plan.removed).toEqual([]);
    },
  },
  {
    name: 'app: attach an existing web ACL',
    before: app(() => site),
    after: app(() => ({ ...site, webAclArn: 'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/site/0123abcd' })),
    expect: (plan, _b, after) => expect(plan.added.map((id) => after.Resources[id].Type)).toEqual(['AWS::WAFv2::WebACLAssociation']),
  },
  {
    name: 'app: turn deletion protection off before destroying the stack',
    before: app(() => ({ ...site, databaseOptions: {} })),
    after: app(() => ({ ...site, databaseOptions: { deletionProtection: false }, loadBalancerDeletionProtection: false })),
    expect: (plan) => {
      expect(plan.added).toEqual([]);
      expect(plan.modified.filter((m) => m.type === 'Custom::DjangoDeletionProtection').map((m) => [m.changed, m.replaced]))
        .toEqual([[['Enabled'], false], [['Enabled'], false]]);
    },
  },
  {
    name: 'app: turn on ECS Exec',
    before: app(() => ({ ...site, databaseOptions: {} })),
    after: app(() => ({ ...site, databaseOptions: {}, enableExecuteCommand: true })),
    expect: (plan, _b, after) => {
      // the session key and log group, and the task role's first policy (the channel actions)
      expect(plan.added.map((id) => after.Resources[id].Type).sort()).toEqual(['AWS::IAM::Policy', 'AWS::KMS::Key', 'AWS::Logs::LogGroup']);
      expect(plan.removed).toEqual([]);
      // the cluster and the service in place; no new revision, so the migrations do not run again
      expect(plan.modified.filter((m) => ['AWS::ECS::Cluster', 'AWS::ECS::Service'].includes(m.type)).map((m) => [m.type, m.replaced]).sort())
        .toEqual([['AWS::ECS::Cluster', false], ['AWS::ECS::Service', false]]);
      // the migrations wait for the new policy, but no property changes: CloudFormation does not run them
      expect(plan.modified.filter((m) => m.type === 'Custom::DjangoMigrations').map((m) => m.changed)).toEqual([['DependsOn']]);
      expect(plan.modified.map((m) => m.type)).not.toContain('AWS::ECS::TaskDefinition');
    },
  },
  {
    name: 'app: add a database',
    before: app(() => site),
    after: app(() => ({ ...site, databaseOptions: {} })),
    expect: (plan, _b, after) => {
      expect(plan.added.map((id) => after.Resources[id].Type)).toEqual(expect.arrayContaining(['AWS::RDS::DBCluster', 'Custom::DjangoMigrations']));
      expect(plan.removed).toEqual([]);
    },
  },
  {
    name: 'app: raise capacity, cpu and memory',
    before: app(() => ({ ...site, databaseOptions: {} })),
    after: app(() => ({ ...site, databaseOptions: { serverlessV2MaxCapacity: 16 }, minTasks: 4, maxTasks: 20, cpu: 1024, memoryLimitMiB: 2048 })),
    expect: (plan) => {
      const types = plan.modified.map((m) => m.type);
      expect(types).toEqual(expect.arrayContaining(['AWS::ApplicationAutoScaling::ScalableTarget', 'AWS::RDS::DBCluster', 'AWS::ECS::TaskDefinition']));
      expect(plan.modified.find((m) => m.type === 'AWS::RDS::DBCluster')).toMatchObject({ replaced: false });
    },
  },
  {
    name: 'app with an RDS instance behind an RDS Proxy: a bigger instance and more storage',
    before: app(() => ({ ...site, databaseOptions: { engine: DatabaseEngineKind.RDS_INSTANCE, rdsProxy: true } })),
    after: app(() => ({ ...site, databaseOptions: { engine: DatabaseEngineKind.RDS_INSTANCE, rdsProxy: true, instanceType: new ec2.InstanceType('m6g.xlarge'), allocatedStorage: 50 } })),
    expect: (plan) => {
      expect(plan.modified.find((m) => m.type === 'AWS::RDS::DBInstance')).toMatchObject({ changed: expect.arrayContaining(['DBInstanceClass', 'AllocatedStorage']), replaced: false });
    },
  },
  {
    name: 'app: turn on Fargate Spot (the ECS service is replaced: LaunchType goes)',
    before: app(() => site),
    after: app(() => ({ ...site, spot: true })),
    expect: (plan, _b, after) => {
      expect(plan.modified.filter((m) => m.type === 'AWS::ECS::Service')).toEqual([expect.objectContaining({ replaced: true })]);
      expect(plan.added.map((id) => after.Resources[id].Type)).toContain('AWS::ECS::ClusterCapacityProviderAssociations');
    },
  },
  {
    name: 'app: turn Fargate Spot off again',
    before: app(() => ({ ...site, spot: true })),
    after: app(() => site),
    expect: (plan, before) => {
      expect(plan.modified.filter((m) => m.type === 'AWS::ECS::Service')).toEqual([expect.objectContaining({ replaced: true })]);
      expect(plan.removed.map((id) => before.Resources[id].Type)).toContain('AWS::ECS::ClusterCapacityProviderAssociations');
    },
  },
  {
    name: 'app: ARM64 tasks',
    before: app(() => site),
    after: app(() => ({ ...site, cpuArchitecture: ecs.CpuArchitecture.ARM64 })),
    // the web task and the one-off task (which follows its platform): new revisions, nothing else replaced
    expect: (plan) => expect(plan.modified.filter((m) => m.type === 'AWS::ECS::TaskDefinition' && m.replaced)).toHaveLength(2),
  },
  {
    name: 'app with a database: two NAT gateways down to one',
    before: app(() => ({ ...site, databaseOptions: {} })),
    after: app(() => ({ ...site, databaseOptions: {}, vpcOptions: { natGateways: 1 } })),
    expect: (plan, before) => {
      expect(plan.removed.map((id) => before.Resources[id].Type).sort()).toEqual(['AWS::EC2::EIP', 'AWS::EC2::NatGateway']);
      expect(plan.modified.filter((m) => m.type === 'AWS::EC2::Route')).toEqual([expect.objectContaining({ changed: ['NatGatewayId'], replaced: false })]);
    },
  },
  {
    name: 'app with a database: no NAT gateway, VPC endpoints instead (subnets and database stay)',
    before: app((s) => ({ ...site, ...ecrImages(s), databaseOptions: {} })),
    after: app((s) => ({ ...site, ...ecrImages(s), databaseOptions: {}, vpcOptions: { natGateways: 0 } })),
    expect: (plan, before, after) => {
      expect(plan.removed.map((id) => before.Resources[id].Type)).toEqual(expect.arrayContaining(['AWS::EC2::NatGateway', 'AWS::EC2::NatGateway']));
      expect(plan.added.filter((id) => after.Resources[id].Type === 'AWS::EC2::VPCEndpoint').length).toBeGreaterThan(5);
      expect(plan.modified.filter((m) => m.type === 'AWS::EC2::Subnet' && m.replaced)).toEqual([]);
    },
  },
  {
    name: 'app: switch a live service from rolling to canary deploys',
    before: app((s) => ({ ...site, certificate: cert(s) })),
    after: app((s) => ({ ...site, certificate: cert(s), deployment: { strategy: ecs.DeploymentStrategy.CANARY, smokeTest: {} } })),
    expect: (plan, before, after) => trafficShiftAddedInPlace(plan, before, after),
  },
  {
    name: 'app: switch from canary deploys back to rolling',
    before: app((s) => ({ ...site, certificate: cert(s), deployment: { strategy: ecs.DeploymentStrategy.CANARY, smokeTest: {} } })),
    after: app((s) => ({ ...site, certificate: cert(s) })),
    expect: (plan, before, after) => trafficShiftAddedInPlace(plan, after, before, true),
    removes: [{
      finding: /^SiteWebDeploymentSmokeTestLogs\w+ \(AWS::Logs::LogGroup\) is removed \(DeletionPolicy Retain\)$/,
      why: 'the smoke test goes with the traffic shift; its unnamed log group is retained with the past test results',
    }],
  },
  {
    name: 'full app with WebSockets: the WebSocket paths move from Daphne (the earlier pick) to the uvicorn worker',
    before: app(() => ({
      requirements: { websockets: true }, server: DjangoServerChoice.GUNICORN_DAPHNE, databaseOptions: {}, staticSite: { media: true }, ...site,
    })),
    after: app(() => ({ requirements: { websockets: true }, databaseOptions: {}, staticSite: { media: true }, ...site })),
    expect: (plan) => {
      // a new task definition revision for the WebSocket service, rolled out in place: same service, target group, rule
      expect(plan.added).toEqual([]);
      expect(plan.removed).toEqual([]);
      const replaced = plan.modified.filter((m) => m.replaced).map((m) => `${m.id} ${m.type}`);
      expect(replaced).toEqual([expect.stringMatching(/^SiteWebSocketsTask\w+ AWS::ECS::TaskDefinition$/)]);
      const kept = ['AWS::ECS::Service', 'AWS::ElasticLoadBalancingV2::TargetGroup', 'AWS::ElasticLoadBalancingV2::ListenerRule'];
      expect(plan.modified.filter((m) => kept.includes(m.type) && m.replaced)).toEqual([]);
    },
  },
  {
    name: 'full app: add a certificate and turn on waf',
    before: app(() => ({ requirements: { websockets: true }, databaseOptions: {}, staticSite: { media: true }, ...site })),
    after: app((s) => ({
      requirements: { websockets: true }, databaseOptions: {}, staticSite: { media: true }, ...site, certificate: cert(s), waf: true,
    })),
    expect: port80InPlace,
  },
];

describe.each(CHANGES)('$name', (change) => {
  const before = synth(change.before);
  const after = synth(change.after);
  const plan = planUpdate(before, after);

  test('the plan shows the change', () => {
    change.expect(plan, before, after);
  });

  test('nothing takes a port or a name an old resource still holds', () => {
    expect({ collisions: slotCollisions(before, after, plan), plan: describePlan(plan) }).toEqual({ collisions: [], plan: describePlan(plan) });
  });

  test('nothing that holds data is replaced or removed', () => {
    const byDesign = (finding: string) => (change.removes ?? []).some((r) => r.finding.test(finding));
    expect([...statefulReplacements(plan), ...statefulRemovals(before, plan).filter((f) => !byDesign(f))]).toEqual([]);
    // each removal declared by design happens (a stale declaration would hide nothing, but says what is not so)
    for (const r of change.removes ?? []) expect(statefulRemovals(before, plan)).toContainEqual(expect.stringMatching(r.finding));
  });

  test('no change CloudFormation refuses (a custom resource\'s ServiceToken)', () => {
    expect(refusedChanges(plan)).toEqual([]);
  });

  test('a failed create (of this update\'s new resources too) leaves nothing with a fixed name that a retry would collide with', () => {
    expect(fixedNamesKeptByFailedCreate(after)).toEqual([]);
  });
});

describe('the checks fail on updates that break', () => {
  test('a switch to canary deploys that moves the listener\'s default action, or replaces the service', () => {
    const before = synth(app((s) => ({ ...site, certificate: cert(s) })));
    const after = synth(app((s) => ({ ...site, certificate: cert(s), deployment: { strategy: ecs.DeploymentStrategy.CANARY } })));
    const fixed: CfnTemplate = JSON.parse(JSON.stringify(after));
    const [, https] = resourcesOfType(fixed, 'AWS::ElasticLoadBalancingV2::Listener').find(([, l]) => l.Properties.Port === 443)!;
    https.Properties.DefaultActions = [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }];
    expect(() => trafficShiftAddedInPlace(planUpdate(before, fixed), before, fixed)).toThrow(/DefaultActions/);
    const renamed: CfnTemplate = JSON.parse(JSON.stringify(after));
    resourcesOfType(renamed, 'AWS::ECS::Service')[0][1].Properties.ServiceName = 'web';
    expect(() => trafficShiftAddedInPlace(planUpdate(before, renamed), before, renamed)).toThrow(/replaced/);
  });

  /** A load balancer whose port 80 forwards without a certificate and redirects with one, as two construct ids. */
  function swappedListeners(withCertificate: boolean) {
    return (stack: Stack) => {
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
      const alb = new elbv2.ApplicationLoadBalancer(stack, 'LoadBalancer', { vpc, internetFacing: true });
      const tg = new elbv2.ApplicationTargetGroup(stack, 'TargetGroup', { vpc, port: 80, targetType: elbv2.TargetType.IP });
      if (withCertificate) {
        alb.addListener('Https', { port: 443, certificates: [cert(stack)], defaultTargetGroups: [tg] });
        alb.addListener('HttpRedirect', { port: 80, defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443' }) });
      } else {
        alb.addListener('Http', { port: 80, defaultTargetGroups: [tg] });
      }
    };
  }

  test('a certificate added by swapping the port-80 listener for another logical id (DuplicateListener)', () => {
    const collisions = slotCollisions(synth(swappedListeners(false)), synth(swappedListeners(true)));
    expect(collisions).toHaveLength(1);
    expect(collisions[0]).toMatch(/^LoadBalancerHttpRedirect\w+ \(AWS::ElasticLoadBalancingV2::Listener\) takes listener on .*LoadBalancer.* port 80 before LoadBalancerHttp\w+ is deleted at cleanup$/);
  });

  test('the same swap when the certificate is removed', () => {
    const collisions = slotCollisions(synth(swappedListeners(true)), synth(swappedListeners(false)));
    expect(collisions).toEqual([expect.stringMatching(/^LoadBalancerHttp[0-9A-F]{8} .* port 80 before LoadBalancerHttpRedirect\w+ is deleted at cleanup$/)]);
  });

  test('a rule moved to another construct id at the same priority on the same listener', () => {
    const rules = (id: string) => (stack: Stack) => {
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
      const alb = new elbv2.ApplicationLoadBalancer(stack, 'LoadBalancer', { vpc });
      const listener = alb.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
      const tg = new elbv2.ApplicationTargetGroup(stack, 'TargetGroup', { vpc, port: 80, targetType: elbv2.TargetType.IP });
      listener.addTargetGroups(id, { targetGroups: [tg], priority: 10, conditions: [elbv2.ListenerCondition.pathPatterns(['/ws/*'])] });
    };
    expect(slotCollisions(synth(rules('Django')), synth(rules('WebSockets')))).toEqual([
      expect.stringMatching(/^LoadBalancerHttpWebSocketsRule\w+ .* priority 10 before LoadBalancerHttpDjangoRule\w+ is deleted at cleanup$/),
    ]);
  });

  test('switching from waf: true straight to webAclArn replaces the association of the load balancer (README: two deploys)', () => {
    const collisions = slotCollisions(synth(app(() => ({ ...site, waf: true }))),
      synth(app(() => ({ ...site, webAclArn: 'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/site/0123abcd' }))));
    expect(collisions).toEqual([expect.stringMatching(/^SiteWebWebAclAssociation\w+ .* takes web ACL of .* before its old physical resource is deleted at cleanup$/)]);
  });

  test('a retained log group with a fixed name is what a failed create leaves in the retry\'s way', () => {
    const kept = synth((stack) => {
      new logs.LogGroup(stack, 'Fixed', { logGroupName: '/aws/rds/cluster/site/postgresql', removalPolicy: RemovalPolicy.RETAIN });
      new logs.LogGroup(stack, 'OnlyOnceCreated', { logGroupName: '/aws/rds/cluster/site/upgrade', removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE });
      new logs.LogGroup(stack, 'Unnamed', { removalPolicy: RemovalPolicy.RETAIN });
    });
    expect(fixedNamesKeptByFailedCreate(kept)).toEqual([expect.stringMatching(/^Fixed\w+ \(AWS::Logs::LogGroup\) keeps LogGroupName "\/aws\/rds\/cluster\/site\/postgresql"$/)]);
  });

  test('a custom resource whose handler moves to another logical id (its ServiceToken changes)', () => {
    const handlerUnder = (id: string) => (stack: Stack) => {
      const fn = new lambda.Function(stack, id, { code: lambda.Code.fromInline('exports.handler = 1'), handler: 'index.handler', runtime: lambda.Runtime.NODEJS_24_X });
      new CustomResource(stack, 'Protection', { serviceToken: fn.functionArn, resourceType: 'Custom::DjangoDeletionProtection' });
    };
    expect(refusedChanges(planUpdate(synth(handlerUnder('Handler')), synth(handlerUnder('Moved'))))).toEqual([
      expect.stringMatching(/^Protection \(Custom::DjangoDeletionProtection\): ServiceToken changes$/),
    ]);
  });

  test('a resource with a fixed name replaced in place (a target group named and moved to another port)', () => {
    const group = (port: number) => (stack: Stack) => {
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
      new elbv2.ApplicationTargetGroup(stack, 'TargetGroup', { vpc, port, targetGroupName: 'web', targetType: elbv2.TargetType.IP });
    };
    const before = synth(group(80));
    const after = synth(group(8080));
    expect(planUpdate(before, after).modified).toEqual([expect.objectContaining({ type: 'AWS::ElasticLoadBalancingV2::TargetGroup', replaced: true, replacedBecause: ['Port'] })]);
    expect(slotCollisions(before, after)).toEqual([
      expect.stringMatching(/^TargetGroup\w+ .* Name "web" before its old physical resource is deleted at cleanup$/),
    ]);
  });

  test('a database replaced by a change of its name is listed and refused, with its instances (replacement spreads through references), and its fixed identifier collides', () => {
    const before = synth(app(() => ({ ...site, databaseOptions: {} })));
    const after = synth(app(() => ({ ...site, databaseOptions: { databaseName: 'site' } })));
    const plan = planUpdate(before, after);
    expect(statefulReplacements(plan)).toEqual([
      expect.stringMatching(/^SiteDatabaseCluster[0-9A-F]{8} \(AWS::RDS::DBCluster\) is replaced: DatabaseName$/),
      expect.stringMatching(/^SiteDatabaseClusterReader\w+ \(AWS::RDS::DBInstance\) is replaced: DBClusterIdentifier \(references a replaced resource\)$/),
      expect.stringMatching(/^SiteDatabaseClusterWriter\w+ \(AWS::RDS::DBInstance\) is replaced: DBClusterIdentifier \(references a replaced resource\)$/),
    ]);
    expect(slotCollisions(before, after, plan)).toContainEqual(expect.stringMatching(/DBClusterIdentifier .* before its old physical resource is deleted at cleanup$/));
    // turning the database off again removes it from the stack
    expect(statefulRemovals(before, planUpdate(before, synth(app(() => site))))).toContainEqual(expect.stringMatching(/DBCluster\) is removed \(DeletionPolicy Snapshot\)$/));
  });
});
