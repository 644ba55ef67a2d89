import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as ecsPatterns from 'aws-cdk-lib/aws-ecs-patterns';
import { CfnTemplate, CostError, FREE_TYPES, monthlyCost, PRICED_TYPES, PriceTable, unpricedTypes } from '../../benchmarks/lib/cost-model';

/** Round prices and a 100-hour month, so every expected figure below is worked out by hand. */
const PRICES: PriceTable = {
  date: '2026-12-01',
  region: 'us-east-1',
  currency: 'USD',
  basis: 'test prices',
  hoursPerMonth: 100,
  prices: Object.fromEntries(Object.entries({
    'natGateway.hour': 1,
    'publicIpv4.hour': 0.1,
    'alb.hour': 2,
    'fargate.linux.x86.vcpuHour': 10,
    'fargate.linux.x86.gbHour': 1,
    'fargate.linux.arm.vcpuHour': 8,
    'fargate.linux.arm.gbHour': 0.5,
    'aurora.serverlessV2.standard.acuHour': 3,
    'rds.postgres.db.t4g.micro.hour': 0.2,
    'rds.gp3.gbMonth': 0.5,
    'elasticache.valkey.cache.t4g.micro.hour': 0.5,
    'kms.keyMonth': 7,
    'secretsManager.secretMonth': 0.4,
    'cloudwatch.alarm.standard.metricMonth': 0.1,
    'cloudwatch.alarm.highResolution.metricMonth': 0.3,
    'cloudwatch.dashboard.month': 3,
    'waf.webAclMonth': 5,
    'waf.ruleMonth': 1,
  }).map(([k, price]) => [k, { price, unit: 'test', source: 'test' }])),
};

const metric = (id: string, period = 60) => ({ Id: id, MetricStat: { Metric: { MetricName: id, Namespace: 'AWS/ApplicationELB' }, Period: period, Stat: 'Sum' }, ReturnData: false });

/** A small stack by hand: one of each priced part, and some free resources. */
function tinyTemplate(): { Resources: Record<string, any> } {
  return {
    Resources: {
      Vpc: { Type: 'AWS::EC2::VPC', Properties: { CidrBlock: '10.0.0.0/16' } },
      PublicA: { Type: 'AWS::EC2::Subnet', Properties: { VpcId: { Ref: 'Vpc' } } },
      PublicB: { Type: 'AWS::EC2::Subnet', Properties: { VpcId: { Ref: 'Vpc' } } },
      NatIp: { Type: 'AWS::EC2::EIP', Properties: { Domain: 'vpc' } },
      Nat: { Type: 'AWS::EC2::NatGateway', Properties: { AllocationId: { 'Fn::GetAtt': ['NatIp', 'AllocationId'] }, SubnetId: { Ref: 'PublicA' } } },
      Alb: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Scheme: 'internet-facing', Type: 'application', Subnets: [{ Ref: 'PublicA' }, { Ref: 'PublicB' }] } },
      Cluster: { Type: 'AWS::ECS::Cluster' },
      TaskDef: { Type: 'AWS::ECS::TaskDefinition', Properties: { Cpu: '512', Memory: '1024', RequiresCompatibilities: ['FARGATE'] } },
      Service: { Type: 'AWS::ECS::Service', Properties: { Cluster: { Ref: 'Cluster' }, LaunchType: 'FARGATE', DesiredCount: 1, TaskDefinition: { Ref: 'TaskDef' } } },
      Target: {
        Type: 'AWS::ApplicationAutoScaling::ScalableTarget',
        Properties: { MinCapacity: 2, MaxCapacity: 8, ResourceId: { 'Fn::Join': ['', ['service/', { Ref: 'Cluster' }, '/', { 'Fn::GetAtt': ['Service', 'Name'] }]] } },
      },
      DbCluster: { Type: 'AWS::RDS::DBCluster', Properties: { Engine: 'aurora-postgresql', ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 4 } } },
      Writer: { Type: 'AWS::RDS::DBInstance', Properties: { DBClusterIdentifier: { Ref: 'DbCluster' }, DBInstanceClass: 'db.serverless', Engine: 'aurora-postgresql' } },
      Reader: { Type: 'AWS::RDS::DBInstance', Properties: { DBClusterIdentifier: { Ref: 'DbCluster' }, DBInstanceClass: 'db.serverless', Engine: 'aurora-postgresql' } },
      Cache: { Type: 'AWS::ElastiCache::ReplicationGroup', Properties: { Engine: 'valkey', CacheNodeType: 'cache.t4g.micro', NumCacheClusters: 2 } },
      Key: { Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: true } },
      Secret: { Type: 'AWS::SecretsManager::Secret', Properties: { KmsKeyId: { 'Fn::GetAtt': ['Key', 'Arn'] } } },
      ErrorRate: {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: { Metrics: [{ Id: 'rate', Expression: '100 * (a + b) / c', ReturnData: true }, metric('a'), metric('b'), metric('c')] },
      },
      Dashboard: { Type: 'AWS::CloudWatch::Dashboard', Properties: { DashboardBody: '{}' } },
      Logs: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } },
      Migrate: { Type: 'Custom::DjangoMigrations', Properties: { ServiceToken: 'arn' } },
    },
  };
}

describe('monthlyCost on a hand-built template', () => {
  const report = monthlyCost(tinyTemplate(), PRICES);

  test('prices each part from the counts in the template', () => {
    expect(report.byPart).toEqual({
      'NAT gateways': 100, // 1 gateway × 100 h × $1
      'Public IPv4': 30, // (the Elastic IP + 2 load balancer zones) × 100 h × $0.1
      'Load balancer': 200, // 100 h × $2
      'Tasks (minimum)': 1200, // the scaling floor 2 (not DesiredCount 1) × (0.5 vCPU × $10 + 1 GB × $1) × 100 h
      'Database': 300, // writer and reader, each 0.5 ACU × 100 h × $3
      'Cache': 100, // 2 nodes × 100 h × $0.5
      'KMS keys': 7,
      'Secrets': 0.4,
      'Alarms and dashboard': expect.closeTo(3.3, 10), // 3 metrics of the math alarm × $0.1 + a $3 dashboard
      'WAF': 0,
      'VPC endpoints': 0,
    });
    expect(report.total).toBeCloseTo(1940.7, 10);
  });

  test('counts resources by type as the template has them', () => {
    expect(report.counts['AWS::RDS::DBInstance']).toBe(2);
    expect(report.counts['AWS::EC2::Subnet']).toBe(2);
  });

  test('falls back to DesiredCount when no scaling target names the service', () => {
    const t = tinyTemplate();
    delete t.Resources.Target;
    expect(monthlyCost(t, PRICES).byPart['Tasks (minimum)']).toBe(600);
  });

  test('prices ARM tasks at the ARM rates', () => {
    const t = tinyTemplate();
    t.Resources.TaskDef.Properties.RuntimePlatform = { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' };
    expect(monthlyCost(t, PRICES).byPart['Tasks (minimum)']).toBe(2 * (0.5 * 8 + 1 * 0.5) * 100);
  });

  test('bills a Multi-AZ RDS instance and its allocated storage twice', () => {
    const t = tinyTemplate();
    t.Resources.Single = {
      Type: 'AWS::RDS::DBInstance',
      Properties: { Engine: 'postgres', DBInstanceClass: 'db.t4g.micro', MultiAZ: true, AllocatedStorage: '20', StorageType: 'gp3' },
    };
    // 2 × 100 h × $0.2 + 2 × 20 GB × $0.5, on top of the Aurora instances
    expect(monthlyCost(t, PRICES).byPart.Database).toBe(300 + 40 + 20);
  });

  test('bills a high-resolution alarm at the high-resolution rate', () => {
    const t = tinyTemplate();
    t.Resources.Fast = { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'CPUUtilization', Namespace: 'AWS/ECS', Period: 10 } };
    expect(monthlyCost(t, PRICES).byPart['Alarms and dashboard']).toBeCloseTo(3.3 + 0.3, 10);
  });

  test('prices a web ACL and each of its rules', () => {
    const t = tinyTemplate();
    t.Resources.Acl = { Type: 'AWS::WAFv2::WebACL', Properties: { Scope: 'REGIONAL', Rules: [{ Name: 'a' }, { Name: 'b' }, { Name: 'c' }] } };
    expect(monthlyCost(t, PRICES).byPart.WAF).toBe(5 + 3);
  });
});

describe('monthlyCost refuses what it cannot price honestly', () => {
  test('a resource type neither priced nor known to be free fails, naming the type', () => {
    const t = tinyTemplate();
    t.Resources.Proxy = { Type: 'AWS::RDS::DBProxy', Properties: {} };
    t.Resources.Box = { Type: 'AWS::EC2::Instance', Properties: { InstanceType: 't3.micro' } };
    expect(unpricedTypes(t)).toEqual(['AWS::EC2::Instance', 'AWS::RDS::DBProxy']);
    expect(() => monthlyCost(t, PRICES)).toThrow(CostError);
    expect(() => monthlyCost(t, PRICES)).toThrow(/AWS::EC2::Instance, AWS::RDS::DBProxy/);
  });

  test('a price missing from the table fails, naming the key', () => {
    const t = tinyTemplate();
    t.Resources.Cache.Properties.CacheNodeType = 'cache.r7g.large';
    expect(() => monthlyCost(t, PRICES)).toThrow(/no price "elasticache\.valkey\.cache\.r7g\.large\.hour"/);
  });

  test('Fargate Spot tasks beyond the on-demand base are priced on-demand, as an upper bound, and say so', () => {
    const onDemand = monthlyCost(tinyTemplate(), PRICES);
    const t = tinyTemplate();
    delete t.Resources.Service.Properties.LaunchType;
    t.Resources.Service.Properties.CapacityProviderStrategy = [
      { CapacityProvider: 'FARGATE', Base: 1, Weight: 0 }, { CapacityProvider: 'FARGATE_SPOT', Weight: 1 },
    ];
    const spot = monthlyCost(t, PRICES);
    expect(spot.total).toBeCloseTo(onDemand.total, 6);
    const tasks = spot.items.filter((i) => i.part === 'Tasks (minimum)').map((i) => i.what);
    expect(tasks.filter((d) => /Fargate Spot \(priced on-demand: an upper bound\)/.test(d)).length).toBe(2);
    expect(tasks.filter((d) => /^1 task\(s\)/.test(d) && !/Spot/.test(d)).length).toBe(2);
  });

  test('a task size that is not a literal fails', () => {
    const t = tinyTemplate();
    t.Resources.TaskDef.Properties.Cpu = { Ref: 'CpuParameter' };
    expect(() => monthlyCost(t, PRICES)).toThrow(/TaskDef Cpu is \{"Ref":"CpuParameter"\}/);
  });

  test('a paid managed rule group fails', () => {
    const t = tinyTemplate();
    t.Resources.Acl = {
      Type: 'AWS::WAFv2::WebACL',
      Properties: { Scope: 'REGIONAL', Rules: [{ Name: 'bots', Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesBotControlRuleSet' } } }] },
    };
    expect(() => monthlyCost(t, PRICES)).toThrow(/AWSManagedRulesBotControlRuleSet/);
  });

  test('no type is both priced and listed as free', () => {
    expect(PRICED_TYPES.filter((t) => t in FREE_TYPES)).toEqual([]);
  });
});

describe('benchmarks/prices.json', () => {
  const table: PriceTable = JSON.parse(readFileSync(join(__dirname, '..', '..', 'benchmarks', 'prices.json'), 'utf8'));

  test('states its date, region, currency and basis', () => {
    expect(table.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(table.region).toBe('us-east-1');
    expect(table.currency).toBe('USD');
    expect(table.basis).toMatch(/re-check/i);
    expect(table.hoursPerMonth).toBe(730);
  });

  test('gives every price a unit and an https source', () => {
    const bad = Object.entries(table.prices).filter(([, p]) => !(p.price > 0) || !p.unit || !/^https:\/\//.test(p.source)).map(([k]) => k);
    expect(bad).toEqual([]);
  });

  test('prices aws-ecs-patterns\' default ApplicationLoadBalancedFargateService whole', () => {
    const stack = new Stack(new App(), 'EcsPatternsDefault');
    new ecsPatterns.ApplicationLoadBalancedFargateService(stack, 'Service', {
      taskImageOptions: { image: ecs.ContainerImage.fromRegistry('amazon/amazon-ecs-sample') },
    });
    const template = Template.fromStack(stack).toJSON() as CfnTemplate;
    expect(unpricedTypes(template)).toEqual([]);
    const report = monthlyCost(template, table);
    // its VPC's two NAT gateways (each with an Elastic IP), one ALB, one 0.25 vCPU / 0.5 GB task
    expect(report.items.filter((i) => i.part === 'NAT gateways')).toHaveLength(2);
    expect(report.items.filter((i) => i.part === 'Load balancer')).toHaveLength(1);
    expect(report.items.filter((i) => i.part === 'Tasks (minimum)').map((i) => i.what)).toEqual(['1 task(s) × 0.25 vCPU (x86)', '1 task(s) × 0.5 GB']);
  });
});
