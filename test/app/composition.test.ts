import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { DjangoApp, DjangoAppProps } from '../../src';
import { formatFindings, nagFindings } from '../helpers/compliance';
import { IMAGE, newStack, validationMessage } from '../helpers/template';

interface Shared { vpc: ec2.Vpc; cluster: ecs.Cluster; alb: elbv2.ApplicationLoadBalancer; listener: elbv2.ApplicationListener }

/** What a platform team owns: a VPC, a cluster, and a load balancer with an HTTP listener. */
function shared(stack: Stack): Shared {
  const vpc = new ec2.Vpc(stack, 'SharedVpc', { natGateways: 1 });
  const cluster = new ecs.Cluster(stack, 'SharedCluster', { vpc });
  const alb = new elbv2.ApplicationLoadBalancer(stack, 'SharedAlb', { vpc, internetFacing: true });
  const listener = alb.addListener('Internal', { port: 8080, open: false, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
  return { vpc, cluster, alb, listener };
}

function build(props: (s: Shared) => Partial<DjangoAppProps>): { stack: Stack; app: DjangoApp; template: Template; s: Shared } {
  const stack = newStack();
  const s = shared(stack);
  const site = new DjangoApp(stack, 'Site', { image: IMAGE, ...props(s) });
  return { stack, app: site, template: Template.fromStack(stack), s };
}

const refOf = (stack: Stack, token: string) => stack.resolve(token);
const rules = (t: Template) => Object.values(t.findResources('AWS::ElasticLoadBalancingV2::ListenerRule')).map((r: any) => r.Properties);

describe('an existing cluster', () => {
  const b = build((s) => ({ cluster: s.cluster, database: {} }));

  test('runs the services and the migrations in it, creating no cluster of its own', () => {
    b.template.resourceCountIs('AWS::ECS::Cluster', 1);
    expect(b.app.cluster).toBe(b.s.cluster);
    const [svc] = Object.values(b.template.findResources('AWS::ECS::Service')) as any[];
    expect(svc.Properties.Cluster).toEqual(refOf(b.stack, b.s.cluster.clusterName));
    const run = Object.values(b.template.findResources('Custom::DjangoMigrations'))[0] as any;
    expect(JSON.stringify(run.Properties)).toContain(JSON.stringify(refOf(b.stack, b.s.cluster.clusterArn)));
  });

  test('takes its VPC as the app\'s: no VPC of its own', () => {
    b.template.resourceCountIs('AWS::EC2::VPC', 1);
    expect(b.app.vpc).toBe(b.s.vpc);
  });

  test('is clean on AwsSolutions, NIST 800-53 r5 and HIPAA, apart from what the shared parts bring', () => {
    const ours = nagFindings(b.app);
    expect(formatFindings(ours)).toBe('');
  });

  test('in another VPC than vpc is refused', () => {
    expect(validationMessage((stack) => {
      const s = shared(stack as Stack);
      new DjangoApp(stack, 'Site', { image: IMAGE, cluster: s.cluster, vpc: new ec2.Vpc(stack, 'OtherVpc') });
    })).toMatch(/cluster: the cluster is in another VPC than vpc; give the cluster's VPC as vpc/);
  });
});

describe('an existing load balancer', () => {
  const b = build((s) => ({ loadBalancer: s.alb, cluster: s.cluster }));

  test('gets the app\'s port-80 listener, and no load balancer or access-log bucket is created', () => {
    b.template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
    const listeners = Object.values(b.template.findResources('AWS::ElasticLoadBalancingV2::Listener')).map((l: any) => l.Properties);
    // the platform team's (8080) and the app's (80), on the one ALB
    expect(listeners.map((l) => l.Port).sort()).toEqual([80, 8080]);
    for (const l of listeners) expect(l.LoadBalancerArn).toEqual(refOf(b.stack, b.s.alb.loadBalancerArn));
    expect(b.app.httpService.loadBalancer).toBe(b.s.alb);
    expect(b.app.httpService.accessLogsBucket).toBeUndefined();
  });

  test('that already listens on port 80 is refused: give its listener instead', () => {
    expect(validationMessage((stack) => {
      const s = shared(stack as Stack);
      s.alb.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
      new DjangoApp(stack, 'Site', { image: IMAGE, loadBalancer: s.alb });
    })).toMatch(/loadBalancer: it already has a listener on port 80: give that listener as listener \(with listenerRulePriority and domainNames\)/);
  });

  test('with waf is refused: the web ACL belongs to the load balancer\'s owner', () => {
    expect(validationMessage((stack) => {
      const s = shared(stack as Stack);
      new DjangoApp(stack, 'Site', { image: IMAGE, loadBalancer: s.alb, waf: true });
    })).toMatch(/waf: applies to the load balancer created here; with an existing loadBalancer/);
  });

  test('in another VPC than the cluster is refused', () => {
    expect(validationMessage((stack) => {
      const s = shared(stack as Stack);
      const other = new ec2.Vpc(stack, 'OtherVpc');
      new DjangoApp(stack, 'Site', { image: IMAGE, loadBalancer: s.alb, cluster: new ecs.Cluster(stack, 'OtherCluster', { vpc: other }) });
    })).toMatch(/loadBalancer: the load balancer is in another VPC than the cluster/);
  });
});

describe('an existing listener', () => {
  const b = build((s) => ({ listener: s.listener, listenerRulePriority: 10, vpc: s.vpc, domainNames: ['shop.example.com'] }));

  test('gets a host-header rule at the priority given, and no listener or load balancer is created', () => {
    b.template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
    b.template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
    expect(rules(b.template)).toEqual([expect.objectContaining({
      Priority: 10,
      ListenerArn: refOf(b.stack, b.s.listener.listenerArn),
      Conditions: [expect.objectContaining({ Field: 'host-header', HostHeaderConfig: { Values: ['shop.example.com'] } })],
    })]);
  });

  test('a mixed app puts the WebSocket paths\' rule just before the app\'s', () => {
    const mixed = build((s) => ({ listener: s.listener, listenerRulePriority: 10, vpc: s.vpc, domainNames: ['shop.example.com'], requirements: { websockets: true } }));
    expect(rules(mixed.template).map((r) => r.Priority).sort()).toEqual([10, 9]);
    const ws = rules(mixed.template).find((r) => r.Priority === 9);
    expect(ws.Conditions.map((c: any) => c.Field).sort()).toEqual(['host-header', 'path-pattern']);
  });

  test('a mixed app with listenerRulePriority 1 has no priority left for the WebSocket rule', () => {
    expect(validationMessage((stack) => {
      const s = shared(stack as Stack);
      new DjangoApp(stack, 'Site', { image: IMAGE, listener: s.listener, listenerRulePriority: 1, vpc: s.vpc, domainNames: ['a.example.com'], requirements: { websockets: true } });
    })).toMatch(/websocketRulePriority: on a shared listener the WebSocket paths' rule must come before the app's rule \(listenerRulePriority 1\)/);
  });

  test('a mixed app with a WebSocket rule after the app\'s is refused', () => {
    expect(validationMessage((stack) => {
      const s = shared(stack as Stack);
      new DjangoApp(stack, 'Site', {
        image: IMAGE, listener: s.listener, listenerRulePriority: 10, websocketRulePriority: 20, vpc: s.vpc, domainNames: ['a.example.com'], requirements: { websockets: true },
      });
    })).toMatch(/websocketRulePriority: .*give a priority below it, got 20/);
  });

  test('without vpc or cluster is refused: the target group would land in a new VPC', () => {
    expect(validationMessage((stack) => {
      const s = shared(stack as Stack);
      new DjangoApp(stack, 'Site', { image: IMAGE, listener: s.listener, listenerRulePriority: 10, domainNames: ['a.example.com'] });
    })).toMatch(/listener: an existing listener's load balancer lives in a VPC this construct cannot see: give vpc/);
  });

  test('with a load balancer too is refused', () => {
    expect(validationMessage((stack) => {
      const s = shared(stack as Stack);
      new DjangoApp(stack, 'Site', { image: IMAGE, listener: s.listener, loadBalancer: s.alb, listenerRulePriority: 10, vpc: s.vpc, domainNames: ['a.example.com'] });
    })).toMatch(/listener: give either an existing listener or an existing loadBalancer, not both/);
  });

  test('without a rule priority is refused', () => {
    expect(validationMessage((stack) => {
      const s = shared(stack as Stack);
      new DjangoApp(stack, 'Site', { image: IMAGE, listener: s.listener, vpc: s.vpc, domainNames: ['a.example.com'] });
    })).toMatch(/listenerRulePriority: required with an existing listener/);
  });

  test('without domain names is refused', () => {
    expect(validationMessage((stack) => {
      const s = shared(stack as Stack);
      new DjangoApp(stack, 'Site', { image: IMAGE, listener: s.listener, listenerRulePriority: 10, vpc: s.vpc });
    })).toMatch(/domainNames: an existing listener is shared, so the service needs host names/);
  });
});

describe('the service subnets', () => {
  test('vpcSubnets places every service and the migrations run', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      subnetConfiguration: [
        { name: 'pub', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'web', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        { name: 'jobs', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      ],
    });
    new DjangoApp(stack, 'Site', { image: IMAGE, vpc, vpcSubnets: { subnetGroupName: 'web' }, requirements: { websockets: true }, migrations: { enabled: true } });
    const t = Template.fromStack(stack);
    const wanted = vpc.selectSubnets({ subnetGroupName: 'web' }).subnetIds.map((id) => stack.resolve(id));
    const services = Object.values(t.findResources('AWS::ECS::Service')) as any[];
    expect(services).toHaveLength(2);
    for (const svc of services) expect(svc.Properties.NetworkConfiguration.AwsvpcConfiguration.Subnets).toEqual(wanted);
    const run = JSON.stringify((Object.values(t.findResources('Custom::DjangoMigrations'))[0] as any).Properties);
    for (const id of wanted) expect(run).toContain(JSON.stringify(id));
    const other = vpc.selectSubnets({ subnetGroupName: 'jobs' }).subnetIds.map((id) => JSON.stringify(stack.resolve(id)));
    for (const id of other) expect(run).not.toContain(id);
  });
});
