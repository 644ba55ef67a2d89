/**
 * Checks of a synthesized template over its whole life in an account: that it deploys in every
 * commercial region of src/regions.ts, that a second stack (or the same stack in a second region) does
 * not collide with the first on a name, that nothing retained by `cdk destroy` blocks the next create,
 * and that vended-log groups are named the way AWS asks.
 *
 * Plain JSON in, offenders out (`LogicalId: what is wrong`), so a failure names the resource. The
 * template is evaluated per region the way CloudFormation would: conditions on `AWS::Region` are
 * decided, `Fn::If` takes its branch, `AWS::NoValue` drops the property.
 */
import { CfnTemplate, literalText, refId } from './template-checks';
import { CLOUDFRONT_STANDARD_LOGS, REGIONAL_FEATURES, RegionalFeature, commercialRegionCodes } from '../../src/regions';

/** Thrown for an intrinsic the evaluator does not know, so a check never passes by not understanding. */
class Unevaluable extends Error {}

function conditionValue(value: any, region: string): string {
  if (typeof value === 'string') return value;
  if (value?.Ref === 'AWS::Region') return region;
  throw new Unevaluable(`cannot evaluate ${JSON.stringify(value)} in a condition`);
}

/** Whether a condition (by name or expression) holds when the stack is created in `region`. */
export function conditionHolds(t: CfnTemplate, condition: any, region: string): boolean {
  if (typeof condition === 'string') {
    const expr = t.Conditions?.[condition];
    if (expr === undefined) throw new Unevaluable(`no condition ${condition}`);
    return conditionHolds(t, expr, region);
  }
  if (typeof condition?.Condition === 'string') return conditionHolds(t, condition.Condition, region);
  const [fn] = Object.keys(condition ?? {});
  const args = condition?.[fn];
  switch (fn) {
    case 'Fn::Equals': return conditionValue(args[0], region) === conditionValue(args[1], region);
    case 'Fn::Or': return (args as any[]).some((c) => conditionHolds(t, c, region));
    case 'Fn::And': return (args as any[]).every((c) => conditionHolds(t, c, region));
    case 'Fn::Not': return !conditionHolds(t, args[0], region);
    default: throw new Unevaluable(`cannot evaluate condition ${JSON.stringify(condition).slice(0, 80)}`);
  }
}

const NO_VALUE = Symbol('AWS::NoValue');

/** A value as CloudFormation sees it in `region`: every Fn::If decided, AWS::NoValue removed. */
export function inRegion(t: CfnTemplate, value: any, region: string): any {
  if (Array.isArray(value)) return value.map((v) => inRegion(t, v, region)).filter((v) => v !== NO_VALUE);
  if (value && typeof value === 'object') {
    if (value.Ref === 'AWS::NoValue') return NO_VALUE;
    if (Array.isArray(value['Fn::If']) && Object.keys(value).length === 1) {
      const [condition, whenTrue, whenFalse] = value['Fn::If'];
      return inRegion(t, conditionHolds(t, condition, region) ? whenTrue : whenFalse, region);
    }
    const out: any = {};
    for (const [k, v] of Object.entries(value)) {
      const resolved = inRegion(t, v, region);
      if (resolved !== NO_VALUE) out[k] = resolved;
    }
    return out;
  }
  return value;
}

/** One branch taken on the way to a value: the `Fn::If` condition and whether it must hold. */
interface Guard { readonly condition: any; readonly holds: boolean }

/**
 * Every object node of a value with its path and the `Fn::If` branches on the way to it, in one walk;
 * a node is there in a region when every guard agrees with the region (see `reachedIn`).
 */
function guardedNodes(value: any, path = '', guards: Guard[] = []): Array<{ node: any; path: string; guards: Guard[] }> {
  if (!value || typeof value !== 'object') return [];
  const out = [{ node: value, path, guards }];
  const iff = value['Fn::If'];
  if (Array.isArray(iff) && Object.keys(value).length === 1) {
    const [condition, whenTrue, whenFalse] = iff;
    return [...out, ...guardedNodes(whenTrue, `${path}.Fn::If[1]`, [...guards, { condition, holds: true }]),
      ...guardedNodes(whenFalse, `${path}.Fn::If[2]`, [...guards, { condition, holds: false }])];
  }
  for (const [k, v] of Object.entries(value)) {
    out.push(...guardedNodes(v, Array.isArray(value) ? `${path}[${k}]` : path ? `${path}.${k}` : k, guards));
  }
  return out;
}

/** Whether a resource (its Condition) and a node under it (its guards) exist when created in `region`. */
function reachedIn(t: CfnTemplate, resource: any, guards: Guard[], region: string): boolean {
  if (resource.Condition !== undefined && !conditionHolds(t, resource.Condition, region)) return false;
  return guards.every((g) => conditionHolds(t, g.condition, region) === g.holds);
}

/**
 * Every `Fn::FindInMap` keyed by `AWS::Region` that would fail in a commercial region: the map lacks the
 * region (or the second-level key) and no condition keeps the lookup out of that region.
 */
export function regionMapGaps(t: CfnTemplate, regions: string[] = commercialRegionCodes()): string[] {
  const offenders: string[] = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    for (const { node, path, guards } of guardedNodes(r.Properties ?? {})) {
      const find = node['Fn::FindInMap'];
      if (!Array.isArray(find) || find[1]?.Ref !== 'AWS::Region') continue;
      const [map, , key] = find;
      for (const region of regions) {
        if (reachedIn(t, r, guards, region) && t.Mappings?.[map]?.[region]?.[key] === undefined) {
          offenders.push(`${id}: ${path} looks up ${map}.${region}.${key}, which is missing: the create fails in ${region}`);
        }
      }
    }
  }
  return offenders;
}

/**
 * Every use of a resource type or feature of `features` in a region that lacks it (the Serverless
 * Application Repository; CloudFront standard logs to a bucket of the stack, in opt-in regions).
 */
export function regionalFeatureGaps(t: CfnTemplate, regions: string[] = commercialRegionCodes(),
  features: readonly RegionalFeature[] = REGIONAL_FEATURES): string[] {
  const offenders: string[] = [];
  const bucketIds = new Set(Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::S3::Bucket').map(([id]) => id));
  for (const feature of features) {
    const lacking = regions.filter((code) => !feature.availableIn.includes(code));
    for (const [id, r] of Object.entries(t.Resources)) {
      if (r.Type === feature.feature) {
        for (const region of lacking.filter((code) => reachedIn(t, r, [], code))) {
          offenders.push(`${id}: ${r.Type} is not offered in ${region} (${feature.source})`);
        }
      }
      if (feature.feature !== CLOUDFRONT_STANDARD_LOGS || r.Type !== 'AWS::CloudFront::Distribution') continue;
      for (const { node, path, guards } of guardedNodes(r.Properties?.DistributionConfig?.Logging, 'Logging')) {
        // A bucket of this stack is in the stack's region; a bucket named from outside is the user's choice.
        const bucket = refId(node.Bucket);
        if (!path.startsWith('Logging') || bucket === undefined || !bucketIds.has(bucket)) continue;
        for (const region of lacking.filter((code) => reachedIn(t, r, guards, code))) {
          offenders.push(`${id}: standard logs to ${bucket} in ${region}, where CloudFront does not deliver them (${feature.source})`);
        }
      }
    }
  }
  return offenders;
}

/** Where a resource type takes its physical name, and whether the name is account-global (not per region). */
export const NAME_PROPERTIES: Record<string, { path: string[]; global?: boolean }> = {
  'AWS::Backup::BackupVault': { path: ['BackupVaultName'] },
  'AWS::Backup::BackupPlan': { path: ['BackupPlan', 'BackupPlanName'] },
  'AWS::CloudFront::CachePolicy': { path: ['CachePolicyConfig', 'Name'], global: true },
  'AWS::CloudFront::OriginAccessControl': { path: ['OriginAccessControlConfig', 'Name'], global: true },
  'AWS::CloudFront::ResponseHeadersPolicy': { path: ['ResponseHeadersPolicyConfig', 'Name'], global: true },
  'AWS::CloudWatch::Alarm': { path: ['AlarmName'] },
  'AWS::CloudWatch::Dashboard': { path: ['DashboardName'] },
  'AWS::ECS::Cluster': { path: ['ClusterName'] },
  'AWS::ECS::Service': { path: ['ServiceName'] },
  'AWS::ElastiCache::ReplicationGroup': { path: ['ReplicationGroupId'] },
  'AWS::ElastiCache::SubnetGroup': { path: ['CacheSubnetGroupName'] },
  'AWS::ElasticLoadBalancingV2::LoadBalancer': { path: ['Name'] },
  'AWS::ElasticLoadBalancingV2::TargetGroup': { path: ['Name'] },
  'AWS::IAM::ManagedPolicy': { path: ['ManagedPolicyName'], global: true },
  'AWS::IAM::Role': { path: ['RoleName'], global: true },
  'AWS::KMS::Alias': { path: ['AliasName'] },
  'AWS::Lambda::Function': { path: ['FunctionName'] },
  'AWS::Logs::LogGroup': { path: ['LogGroupName'] },
  'AWS::RDS::DBCluster': { path: ['DBClusterIdentifier'] },
  'AWS::RDS::DBInstance': { path: ['DBInstanceIdentifier'] },
  'AWS::RDS::DBProxy': { path: ['DBProxyName'] },
  'AWS::RDS::DBSubnetGroup': { path: ['DBSubnetGroupName'] },
  'AWS::S3::Bucket': { path: ['BucketName'], global: true },
  'AWS::SecretsManager::Secret': { path: ['Name'] },
  'AWS::SNS::Topic': { path: ['TopicName'] },
  'AWS::StepFunctions::StateMachine': { path: ['StateMachineName'] },
  'AWS::WAFv2::WebACL': { path: ['Name'] },
};

function walk(value: any, visit: (node: any) => void): void {
  if (value && typeof value === 'object') {
    visit(value);
    for (const v of Object.values(value)) walk(v, visit);
  }
}

/** Whether a value references a pseudo parameter anywhere. */
function usesPseudo(value: any, name: string): boolean {
  let hit = false;
  walk(value, (node) => { if (node.Ref === name) hit = true; });
  return hit || (typeof value === 'object' && JSON.stringify(value).includes(`\${${name}}`));
}

const normalized = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * Names that collide: across stacks (neither the stack name nor a generated part), across regions for
 * account-global resources (no `AWS::Region`), and across creates for retained resources (no part of
 * `AWS::StackId`, which is new on every create: `cdk destroy` leaves them, and the next create would ask
 * for the same name). A name CloudFormation generates (the property left out) is always fine. A stack for
 * a concrete region may spell its region out instead of `AWS::Region`.
 */
export function physicalNameProblems(t: CfnTemplate, stackName: string, concreteRegion?: string): string[] {
  const offenders: string[] = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    const spec = NAME_PROPERTIES[r.Type];
    if (!spec) continue;
    const name = spec.path.reduce((v: any, k) => v?.[k], r.Properties);
    if (name === undefined) continue;
    const perCreate = usesPseudo(name, 'AWS::StackId');
    const perStack = perCreate || usesPseudo(name, 'AWS::StackName') || normalized(literalText(name)).includes(normalized(stackName));
    const perRegion = perCreate || usesPseudo(name, 'AWS::Region') || (concreteRegion !== undefined && literalText(name).includes(concreteRegion));
    const shown = JSON.stringify(name).slice(0, 80);
    if (!perStack) offenders.push(`${id}: ${r.Type} name ${shown} is the same in every stack (give it the stack name or a generated part)`);
    if (spec.global && !perRegion) offenders.push(`${id}: ${r.Type} is account-global and its name ${shown} carries no AWS::Region`);
    const retained = r.DeletionPolicy === 'Retain' || r.DeletionPolicy === 'RetainExceptOnCreate';
    if (retained && !perCreate) offenders.push(`${id}: retained ${r.Type} with the fixed name ${shown}: the next create after destroy fails with "already exists"`);
  }
  return offenders;
}

/** The name prefix AWS asks of a log group that a service delivers vended logs to. */
const VENDED_PREFIX = '/aws/vendedlogs/';
/** AWS WAF logs only to log groups named `aws-waf-logs-...`. */
const WAF_PREFIX = 'aws-waf-logs-';

/**
 * Log groups that services deliver vended logs to (Step Functions, ElastiCache, AWS WAF) with names
 * outside what AWS asks: each group outside `/aws/vendedlogs/` adds an entry to the account's single
 * CloudWatch Logs resource policy (5,120 characters), and those entries outlive the groups.
 */
export function vendedLogProblems(t: CfnTemplate): string[] {
  const offenders: string[] = [];
  const check = (id: string, what: string, destination: any, prefix: string) => {
    const groupId = refId(destination);
    const group = groupId ? t.Resources[groupId] : undefined;
    if (groupId && group?.Type !== 'AWS::Logs::LogGroup') return;
    const name = group ? group.Properties?.LogGroupName : destination;
    const text = literalText(name ?? '');
    if (!text.startsWith(prefix)) {
      offenders.push(`${id}: ${what} delivers to ${groupId ?? JSON.stringify(destination)}, named ${name === undefined ? 'by CloudFormation' : JSON.stringify(name).slice(0, 80)}, not under ${prefix}`);
    }
  };
  for (const [id, r] of Object.entries(t.Resources)) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::StepFunctions::StateMachine') {
      for (const d of p.LoggingConfiguration?.Destinations ?? []) check(id, 'state machine logging', d.CloudWatchLogsLogGroup?.LogGroupArn, VENDED_PREFIX);
    }
    if (r.Type === 'AWS::ElastiCache::ReplicationGroup' || r.Type === 'AWS::ElastiCache::CacheCluster') {
      for (const d of p.LogDeliveryConfigurations ?? []) {
        if (d.DestinationType === 'cloudwatch-logs') check(id, `${d.LogType} delivery`, d.DestinationDetails?.CloudWatchLogsDetails?.LogGroup, VENDED_PREFIX);
      }
    }
    if (r.Type === 'AWS::WAFv2::LoggingConfiguration') {
      for (const d of p.LogDestinationConfigs ?? []) check(id, 'web ACL logging', d, WAF_PREFIX);
    }
  }
  return offenders;
}

/** Every check of this file on one template, for suites that run them all. */
export function lifecycleProblems(t: CfnTemplate, stackName: string): string[] {
  return [...regionMapGaps(t), ...regionalFeatureGaps(t), ...physicalNameProblems(t, stackName), ...vendedLogProblems(t)];
}
