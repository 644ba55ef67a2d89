/**
 * The monthly fixed cost of a synthesized CloudFormation template: what its resources cost while the
 * stack stands idle (NAT gateways, the load balancer, the minimum tasks, the database at its minimum,
 * cache nodes, keys, secrets, alarms), from a price table (benchmarks/prices.json). Usage (requests,
 * data, storage that grows, capacity above the minimum) is not counted.
 *
 * Every resource type must be either priced here or listed as having no fixed cost (with the reason):
 * a type that is neither fails, so a new costly resource never goes uncounted. Plain JSON in, plain
 * JSON out; no aws-cdk-lib.
 */

/** A price table: benchmarks/prices.json. */
export interface PriceTable {
  readonly date: string;
  readonly region: string;
  readonly currency: string;
  readonly basis: string;
  readonly hoursPerMonth: number;
  readonly prices: Record<string, { readonly price: number; readonly unit: string; readonly source: string; readonly note?: string }>;
}

/** The parts a fixed cost falls into. */
export type CostPart = 'NAT gateways' | 'Public IPv4' | 'Load balancer' | 'Tasks (minimum)' | 'Database' | 'Cache'
| 'KMS keys' | 'Secrets' | 'Alarms and dashboard' | 'WAF' | 'VPC endpoints';

export const PART_ORDER: readonly CostPart[] = ['NAT gateways', 'Public IPv4', 'Load balancer', 'Tasks (minimum)', 'Database', 'Cache',
  'KMS keys', 'Secrets', 'Alarms and dashboard', 'WAF', 'VPC endpoints'];

/** One priced line: `quantity` units of `priceKey` a month. */
export interface LineItem {
  readonly part: CostPart;
  /** The logical ID of the resource the line comes from. */
  readonly resource: string;
  readonly type: string;
  readonly what: string;
  /** Units a month (hours, key-months, GB-months, ...), already multiplied out. */
  readonly quantity: number;
  readonly priceKey: string;
  readonly unitPrice: number;
  readonly monthly: number;
}

export interface CostReport {
  readonly items: LineItem[];
  readonly byPart: Record<CostPart, number>;
  readonly total: number;
  /** Resource counts by type, as read from the template. */
  readonly counts: Record<string, number>;
}

interface CfnResource { readonly Type: string; readonly Properties?: any }
export interface CfnTemplate { readonly Resources: Record<string, CfnResource> }

/** A template or price that cannot be priced honestly. */
export class CostError extends Error {}

/**
 * Types with no fixed monthly cost, each with the reason. Usage-billed types are here when an idle
 * stack pays nothing for them; the usage they bill is named, since it is what a busy stack adds.
 */
export const FREE_TYPES: Readonly<Record<string, string>> = {
  'AWS::EC2::VPC': 'no charge',
  'AWS::EC2::Subnet': 'no charge',
  'AWS::EC2::RouteTable': 'no charge',
  'AWS::EC2::SubnetRouteTableAssociation': 'no charge',
  'AWS::EC2::Route': 'no charge',
  'AWS::EC2::InternetGateway': 'no charge (data transfer out is usage)',
  'AWS::EC2::VPCGatewayAttachment': 'no charge',
  'AWS::EC2::SecurityGroup': 'no charge',
  'AWS::EC2::SecurityGroupIngress': 'no charge',
  'AWS::EC2::SecurityGroupEgress': 'no charge',
  'AWS::EC2::FlowLog': 'usage: log data delivered to CloudWatch Logs',
  'AWS::IAM::Role': 'no charge',
  'AWS::IAM::Policy': 'no charge',
  'AWS::IAM::ManagedPolicy': 'no charge',
  'AWS::Logs::LogGroup': 'usage: ingestion and stored GB',
  'AWS::ECS::Cluster': 'no charge (Container Insights bills its metrics and logs as usage)',
  'AWS::ECS::TaskDefinition': 'no charge (priced through the services that run it)',
  'AWS::ElasticLoadBalancingV2::Listener': 'no charge (priced with the load balancer)',
  'AWS::ElasticLoadBalancingV2::ListenerRule': 'no charge (rule evaluations above 10 per request are LCU usage)',
  'AWS::ElasticLoadBalancingV2::TargetGroup': 'no charge',
  'AWS::ApplicationAutoScaling::ScalableTarget': 'no charge (read for the minimum task count)',
  'AWS::ApplicationAutoScaling::ScalingPolicy': 'no charge (its target-tracking alarms are created by the service and billed as alarms in the account)',
  'AWS::S3::Bucket': 'usage: stored GB and requests',
  'AWS::S3::BucketPolicy': 'no charge',
  'AWS::SNS::Topic': 'usage: publishes and deliveries',
  'AWS::SNS::TopicPolicy': 'no charge',
  'AWS::Lambda::Function': 'usage: requests and GB-seconds',
  'AWS::Lambda::Permission': 'no charge',
  'AWS::StepFunctions::StateMachine': 'usage: state transitions',
  'AWS::SecretsManager::RotationSchedule': 'usage: the rotation function\'s invocations and API calls',
  'AWS::SecretsManager::SecretTargetAttachment': 'no charge',
  'AWS::RDS::DBSubnetGroup': 'no charge',
  'AWS::RDS::DBParameterGroup': 'no charge',
  'AWS::RDS::DBClusterParameterGroup': 'no charge',
  'AWS::RDS::DBCluster': 'priced through its instances (Aurora storage and I/O are usage, billed on what is stored: no floor)',
  'AWS::ElastiCache::SubnetGroup': 'no charge',
  'AWS::Backup::BackupVault': 'usage: backup storage',
  'AWS::Backup::BackupPlan': 'usage: backup storage',
  'AWS::Backup::BackupSelection': 'no charge',
  'AWS::CloudFront::Distribution': 'usage: requests and data transfer (no flat-rate plan in the template)',
  'AWS::CloudFront::CachePolicy': 'no charge',
  'AWS::CloudFront::OriginAccessControl': 'no charge',
  'AWS::CloudFront::ResponseHeadersPolicy': 'no charge',
  'AWS::WAFv2::WebACLAssociation': 'no charge (priced with the web ACL)',
  'AWS::WAFv2::LoggingConfiguration': 'usage: log delivery',
  'AWS::CDK::Metadata': 'no charge',
};

/** Custom resources run Lambda functions (usage) at deploy time. */
function isCustomResource(type: string): boolean {
  return type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';
}

/** Types `monthlyCost` prices. */
export const PRICED_TYPES: readonly string[] = [
  'AWS::EC2::NatGateway', 'AWS::EC2::EIP', 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::ECS::Service', 'AWS::RDS::DBInstance',
  'AWS::ElastiCache::ReplicationGroup', 'AWS::KMS::Key', 'AWS::SecretsManager::Secret', 'AWS::CloudWatch::Alarm',
  'AWS::CloudWatch::Dashboard', 'AWS::WAFv2::WebACL', 'AWS::EC2::VPCEndpoint',
];

/** The resource types of a template that are neither priced nor known to be free, sorted. */
export function unpricedTypes(template: CfnTemplate): string[] {
  const types = new Set(Object.values(template.Resources ?? {}).map((r) => r.Type));
  return [...types].filter((t) => !PRICED_TYPES.includes(t) && !(t in FREE_TYPES) && !isCustomResource(t)).sort();
}

/** The logical ID a `{ Ref }` or `{ Fn::GetAtt }` names, else undefined. */
function refId(value: any): string | undefined {
  if (value && typeof value === 'object') {
    if (typeof value.Ref === 'string') return value.Ref;
    const att = value['Fn::GetAtt'];
    if (Array.isArray(att) && typeof att[0] === 'string') return att[0];
    if (typeof att === 'string') return att.split('.')[0];
  }
  return undefined;
}

/** Whether `value` references the resource `id` anywhere inside it. */
function references(value: any, id: string): boolean {
  if (refId(value) === id) return true;
  if (Array.isArray(value)) return value.some((v) => references(v, id));
  if (value && typeof value === 'object') return Object.values(value).some((v) => references(v, id));
  return false;
}

/** A literal number from a template value ("512" or 512); a token or anything else is an error naming the property. */
function literal(value: any, what: string): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new CostError(`${what} is ${JSON.stringify(value)}, not a literal number: cannot price it`);
  return n;
}

/**
 * The monthly fixed cost of a template. Throws CostError for a resource type that is neither priced nor
 * known to be free, a configuration this model does not price (Fargate Spot, Windows tasks, paid
 * Performance Insights retention, ...), or a price key missing from the table.
 */
export function monthlyCost(template: CfnTemplate, prices: PriceTable): CostReport {
  const resources = template.Resources ?? {};
  const unknown = unpricedTypes(template);
  if (unknown.length > 0) {
    throw new CostError(`no price and no known-free entry for ${unknown.join(', ')}: price them in benchmarks/lib/cost-model.ts (and benchmarks/prices.json), or list them in FREE_TYPES with the reason`);
  }
  const hours = prices.hoursPerMonth;
  const items: LineItem[] = [];
  const price = (key: string): number => {
    const p = prices.prices[key];
    if (!p || typeof p.price !== 'number') throw new CostError(`benchmarks/prices.json has no price "${key}"`);
    return p.price;
  };
  const add = (part: CostPart, resource: string, what: string, quantity: number, priceKey: string) => {
    const unitPrice = price(priceKey);
    items.push({ part, resource, type: resources[resource].Type, what, quantity, priceKey, unitPrice, monthly: quantity * unitPrice });
  };
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  for (const [id, r] of Object.entries(resources)) {
    const p = r.Properties ?? {};
    switch (r.Type) {
      case 'AWS::EC2::NatGateway':
        if (p.ConnectivityType === 'private') add('NAT gateways', id, 'private NAT gateway', hours, 'natGateway.hour');
        else add('NAT gateways', id, 'NAT gateway', hours, 'natGateway.hour');
        break;
      case 'AWS::EC2::EIP':
        add('Public IPv4', id, 'Elastic IP', hours, 'publicIpv4.hour');
        break;
      case 'AWS::ElasticLoadBalancingV2::LoadBalancer': {
        const type = p.Type ?? 'application';
        if (type !== 'application') throw new CostError(`${id}: a ${type} load balancer is not priced here`);
        add('Load balancer', id, 'Application Load Balancer', hours, 'alb.hour');
        if ((p.Scheme ?? 'internet-facing') === 'internet-facing') {
          // One node, with a public IPv4 address, per enabled zone at the least; more as it scales.
          const zones = (p.Subnets ?? p.SubnetMappings ?? []).length;
          if (zones === 0) throw new CostError(`${id}: an internet-facing load balancer without Subnets or SubnetMappings: cannot count its public addresses`);
          add('Public IPv4', id, `load balancer nodes (${zones} zones, at least one address each)`, zones * hours, 'publicIpv4.hour');
        }
        break;
      }
      case 'AWS::ECS::Service':
        priceService(id, p);
        break;
      case 'AWS::RDS::DBInstance':
        priceDbInstance(id, p);
        break;
      case 'AWS::ElastiCache::ReplicationGroup': {
        const engine = String(p.Engine ?? 'redis').toLowerCase();
        const nodes = p.NumCacheClusters !== undefined
          ? literal(p.NumCacheClusters, `${id} NumCacheClusters`)
          : literal(p.NumNodeGroups ?? 1, `${id} NumNodeGroups`) * (literal(p.ReplicasPerNodeGroup ?? 0, `${id} ReplicasPerNodeGroup`) + 1);
        add('Cache', id, `${nodes} × ${p.CacheNodeType} (${engine})`, nodes * hours, `elasticache.${engine}.${p.CacheNodeType}.hour`);
        break;
      }
      case 'AWS::KMS::Key':
        add('KMS keys', id, 'customer-managed key', 1, 'kms.keyMonth');
        break;
      case 'AWS::SecretsManager::Secret':
        add('Secrets', id, 'secret', 1, 'secretsManager.secretMonth');
        break;
      case 'AWS::CloudWatch::Alarm': {
        // A metric math alarm is billed per metric it reads; an alarm on one metric, for that one.
        const metrics: any[] = p.Metrics ?? [];
        const stats = metrics.filter((m) => m.MetricStat);
        const count = metrics.length > 0 ? stats.length : 1;
        const periods = metrics.length > 0 ? stats.map((m) => m.MetricStat.Period) : [p.Period];
        const highRes = periods.some((s) => s !== undefined && literal(s, `${id} Period`) < 60);
        add('Alarms and dashboard', id, `alarm on ${count} metric(s)${highRes ? ', high resolution' : ''}`, count,
          highRes ? 'cloudwatch.alarm.highResolution.metricMonth' : 'cloudwatch.alarm.standard.metricMonth');
        break;
      }
      case 'AWS::CloudWatch::Dashboard':
        add('Alarms and dashboard', id, 'dashboard', 1, 'cloudwatch.dashboard.month');
        break;
      case 'AWS::WAFv2::WebACL': {
        if (p.Scope === 'CLOUDFRONT') throw new CostError(`${id}: a CloudFront web ACL is not priced here`);
        add('WAF', id, 'web ACL', 1, 'waf.webAclMonth');
        const rules: any[] = p.Rules ?? [];
        for (const rule of rules) {
          const group = rule.Statement?.ManagedRuleGroupStatement;
          if (group && group.VendorName === 'AWS' && /BotControl|ATP|ACFP|AntiDDoS/.test(group.Name)) {
            throw new CostError(`${id}: the managed rule group ${group.Name} has its own subscription fee, not priced here`);
          }
        }
        if (rules.length > 0) add('WAF', id, `${rules.length} rule(s)`, rules.length, 'waf.ruleMonth');
        break;
      }
      case 'AWS::EC2::VPCEndpoint': {
        if ((p.VpcEndpointType ?? 'Gateway') === 'Gateway') break;
        if (p.VpcEndpointType !== 'Interface') throw new CostError(`${id}: a ${p.VpcEndpointType} endpoint is not priced here`);
        const zones = (p.SubnetIds ?? []).length;
        if (zones === 0) throw new CostError(`${id}: an interface endpoint without SubnetIds: cannot count its zones`);
        add('VPC endpoints', id, `interface endpoint in ${zones} zones`, zones * hours, 'vpcEndpoint.interface.azHour');
        break;
      }
      default:
        break; // known to be free (checked above)
    }
  }

  function priceService(id: string, p: any) {
    const strategy: any[] = p.CapacityProviderStrategy ?? [];
    if (strategy.some((s) => s.CapacityProvider === 'FARGATE_SPOT')) {
      throw new CostError(`${id}: Fargate Spot prices move with demand; this model prices on-demand Fargate only`);
    }
    if (!(p.LaunchType === 'FARGATE' || strategy.some((s) => s.CapacityProvider === 'FARGATE'))) {
      throw new CostError(`${id}: only Fargate services are priced (LaunchType ${p.LaunchType ?? 'unset'})`);
    }
    const taskDefId = refId(p.TaskDefinition);
    const taskDef = taskDefId ? resources[taskDefId] : undefined;
    if (!taskDef || taskDef.Type !== 'AWS::ECS::TaskDefinition') throw new CostError(`${id}: its TaskDefinition is not a task definition of this template`);
    const td = taskDef.Properties ?? {};
    const platform = td.RuntimePlatform ?? {};
    if (platform.OperatingSystemFamily && platform.OperatingSystemFamily !== 'LINUX') {
      throw new CostError(`${id}: ${platform.OperatingSystemFamily} tasks are not priced here`);
    }
    const arch = platform.CpuArchitecture === 'ARM64' ? 'arm' : 'x86';
    // The minimum: the scaling target's floor when the service scales, else its desired count (CloudFormation's default is 1).
    const target = ofType('AWS::ApplicationAutoScaling::ScalableTarget').find(([, t]) => references(t.Properties?.ResourceId, id));
    const tasks = target ? literal(target[1].Properties.MinCapacity, `${target[0]} MinCapacity`) : literal(p.DesiredCount ?? 1, `${id} DesiredCount`);
    const vcpu = literal(td.Cpu, `${taskDefId} Cpu`) / 1024;
    const gb = literal(td.Memory, `${taskDefId} Memory`) / 1024;
    add('Tasks (minimum)', id, `${tasks} task(s) × ${vcpu} vCPU (${arch})`, tasks * vcpu * hours, `fargate.linux.${arch}.vcpuHour`);
    add('Tasks (minimum)', id, `${tasks} task(s) × ${gb} GB`, tasks * gb * hours, `fargate.linux.${arch}.gbHour`);
    const storage = td.EphemeralStorage?.SizeInGiB;
    if (storage !== undefined && literal(storage, `${taskDefId} EphemeralStorage.SizeInGiB`) > 20) {
      add('Tasks (minimum)', id, `${tasks} task(s) × ${storage - 20} GB ephemeral storage above 20`, tasks * (storage - 20) * hours, 'fargate.ephemeralStorage.gbHour');
    }
    if (p.NetworkConfiguration?.AwsvpcConfiguration?.AssignPublicIp === 'ENABLED') {
      add('Public IPv4', id, `${tasks} task(s) with a public IP`, tasks * hours, 'publicIpv4.hour');
    }
  }

  function priceDbInstance(id: string, p: any) {
    const retention = p.PerformanceInsightsRetentionPeriod;
    if (p.EnablePerformanceInsights && retention !== undefined && literal(retention, `${id} PerformanceInsightsRetentionPeriod`) > 7) {
      throw new CostError(`${id}: Performance Insights kept ${retention} days is billed per vCPU; only the free 7 days are priced here`);
    }
    if (p.DBInstanceClass === 'db.serverless') {
      const clusterId = refId(p.DBClusterIdentifier);
      const cluster = clusterId ? resources[clusterId] : undefined;
      if (!cluster || cluster.Type !== 'AWS::RDS::DBCluster') throw new CostError(`${id}: a Serverless v2 instance whose cluster is not in this template`);
      const c = cluster.Properties ?? {};
      if (c.DatabaseInsightsMode === 'advanced') throw new CostError(`${clusterId}: Database Insights advanced mode is billed per ACU, not priced here`);
      const min = literal(c.ServerlessV2ScalingConfiguration?.MinCapacity, `${clusterId} ServerlessV2ScalingConfiguration.MinCapacity`);
      const storage = c.StorageType === 'aurora-iopt1' ? 'ioOptimized' : 'standard';
      // Every Serverless v2 instance bills at least the cluster's minimum; 0 pauses it (no compute while idle).
      add('Database', id, `Aurora Serverless v2 instance at its minimum ${min} ACU (${storage})`, min * hours, `aurora.serverlessV2.${storage}.acuHour`);
      return;
    }
    if (p.DBClusterIdentifier !== undefined) throw new CostError(`${id}: provisioned Aurora instances are not priced here`);
    const engine = String(p.Engine ?? '');
    if (engine !== 'postgres') throw new CostError(`${id}: engine ${engine || 'unset'} is not priced here (PostgreSQL only)`);
    const copies = p.MultiAZ === true || p.MultiAZ === 'true' ? 2 : 1;
    const az = copies === 2 ? 'Multi-AZ: primary and standby' : 'Single-AZ';
    add('Database', id, `${p.DBInstanceClass} (${az})`, copies * hours, `rds.postgres.${p.DBInstanceClass}.hour`);
    const type = p.StorageType ?? 'gp2';
    if (type !== 'gp3') throw new CostError(`${id}: ${type} storage is not priced here (gp3 only)`);
    const allocated = literal(p.AllocatedStorage, `${id} AllocatedStorage`);
    add('Database', id, `${allocated} GB gp3 allocated (${az})`, copies * allocated, 'rds.gp3.gbMonth');
  }

  const byPart = Object.fromEntries(PART_ORDER.map((part) => [part, 0])) as Record<CostPart, number>;
  for (const item of items) byPart[item.part] += item.monthly;
  const counts: Record<string, number> = {};
  for (const r of Object.values(resources)) counts[r.Type] = (counts[r.Type] ?? 0) + 1;
  return { items, byPart, total: items.reduce((s, i) => s + i.monthly, 0), counts };
}
