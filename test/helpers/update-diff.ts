/**
 * How CloudFormation would plan an update from one synthesized template to another: which resources
 * it adds, removes, modifies in place and replaces, and what that means for resources that hold a
 * fixed port or a fixed name, and for resources that hold data.
 *
 * CloudFormation runs an update in this order (what the checks rely on): it creates added resources
 * and the new physical resource of every replacement first, updates in place as dependencies allow,
 * and deletes removed resources and the old physical resources of replacements last, in the cleanup
 * phase. So a new logical id that takes a port or a name an old one holds fails the update while the
 * old one still exists (DuplicateListener, AlreadyExists), and a replacement of a resource with a fixed
 * name fails the same way.
 *
 * Everything here reads plain template JSON, as CloudFormation gets it.
 */
import { referencedIds } from './graph';
import { CfnResource, CfnTemplate, STATEFUL_TYPES } from './template-checks';

/**
 * Properties whose change makes CloudFormation replace the resource ("Update requires: Replacement"
 * in the CloudFormation resource and property reference, docs.aws.amazon.com/AWSCloudFormation/latest/
 * TemplateReference/, one page per type), for the types these templates use. A property missing here
 * updates in place (no interruption or some interruption); a type missing here is treated as updatable
 * in place, except `ALWAYS_REPLACED`.
 */
export const REPLACEMENT_PROPERTIES: Record<string, readonly string[]> = {
  'AWS::ElasticLoadBalancingV2::LoadBalancer': ['Name', 'Scheme', 'Type'],
  // Port and Protocol update in place; the listener belongs to one load balancer.
  'AWS::ElasticLoadBalancingV2::Listener': ['LoadBalancerArn'],
  // Priority updates in place; the rule belongs to one listener.
  'AWS::ElasticLoadBalancingV2::ListenerRule': ['ListenerArn'],
  'AWS::ElasticLoadBalancingV2::TargetGroup': ['Name', 'Port', 'Protocol', 'ProtocolVersion', 'TargetType', 'VpcId', 'IpAddressType'],
  'AWS::RDS::DBCluster': ['DBClusterIdentifier', 'DatabaseName', 'MasterUsername', 'StorageEncrypted', 'KmsKeyId', 'DBSubnetGroupName',
    'EngineMode', 'Engine', 'SnapshotIdentifier', 'SourceDBClusterIdentifier', 'AvailabilityZones'],
  'AWS::RDS::DBInstance': ['DBInstanceIdentifier', 'DBName', 'DBClusterIdentifier', 'KmsKeyId', 'StorageEncrypted', 'MasterUsername',
    'DBSubnetGroupName', 'CharacterSetName', 'Timezone', 'SourceDBInstanceIdentifier'],
  'AWS::RDS::DBSubnetGroup': ['DBSubnetGroupName'],
  'AWS::RDS::DBProxy': ['DBProxyName', 'EngineFamily'],
  'AWS::RDS::DBProxyTargetGroup': ['DBProxyName', 'TargetGroupName'],
  'AWS::ElastiCache::ReplicationGroup': ['ReplicationGroupId', 'AtRestEncryptionEnabled', 'KmsKeyId', 'CacheSubnetGroupName', 'Port',
    'SnapshotArns', 'SnapshotName', 'GlobalReplicationGroupId', 'DataTieringEnabled'],
  'AWS::ElastiCache::SubnetGroup': ['CacheSubnetGroupName'],
  'AWS::Logs::LogGroup': ['LogGroupName'],
  'AWS::SecretsManager::Secret': ['Name'],
  'AWS::KMS::Key': ['KeySpec', 'KeyUsage', 'MultiRegion'],
  'AWS::S3::Bucket': ['BucketName', 'ObjectLockEnabled'],
  'AWS::Backup::BackupVault': ['BackupVaultName'],
  'AWS::ECS::Cluster': ['ClusterName'],
  'AWS::ECS::Service': ['ServiceName', 'Cluster', 'LaunchType', 'Role', 'SchedulingStrategy'],
  'AWS::EC2::SecurityGroup': ['GroupDescription', 'GroupName', 'VpcId'],
  'AWS::EC2::VPC': ['CidrBlock', 'InstanceTenancy'],
  'AWS::EC2::Subnet': ['AvailabilityZone', 'CidrBlock', 'VpcId'],
  'AWS::WAFv2::WebACL': ['Name', 'Scope'],
  'AWS::WAFv2::WebACLAssociation': ['ResourceArn', 'WebACLArn'],
  'AWS::WAFv2::LoggingConfiguration': ['ResourceArn'],
  'AWS::SNS::Topic': ['TopicName', 'FifoTopic'],
  'AWS::Lambda::Function': ['FunctionName'],
  'AWS::IAM::Role': ['RoleName', 'Path'],
};

/** Types every change of which is a replacement (a new revision or a new physical resource). */
export const ALWAYS_REPLACED: readonly string[] = ['AWS::ECS::TaskDefinition'];

/**
 * The physical slot a resource holds that no other resource may hold at the same time: a listener's
 * load balancer and port, a rule's listener and priority, one web ACL per resource, and every
 * literal physical name. Values are canonical JSON with references by logical id.
 */
function slotsOf(r: CfnResource): string[] {
  return slotsWithParents(r).map((s) => s.slot);
}

/** Each slot with the logical ids of the resources it lives in (the load balancer of a listener's port). */
function slotsWithParents(r: CfnResource): Array<{ slot: string; parents: Set<string> }> {
  const p = r.Properties ?? {};
  const slots: Array<{ slot: string; parents: Set<string> }> = [];
  const inside = (parent: any, slot: string) => slots.push({ slot, parents: referencedIds(parent) });
  const j = (v: any) => JSON.stringify(v);
  switch (r.Type) {
    case 'AWS::ElasticLoadBalancingV2::Listener':
      inside(p.LoadBalancerArn, `listener on ${j(p.LoadBalancerArn)} port ${p.Port}`);
      break;
    case 'AWS::ElasticLoadBalancingV2::ListenerRule':
      inside(p.ListenerArn, `rule on ${j(p.ListenerArn)} priority ${p.Priority}`);
      break;
    case 'AWS::WAFv2::WebACLAssociation':
      inside(p.ResourceArn, `web ACL of ${j(p.ResourceArn)}`);
      break;
    case 'AWS::WAFv2::LoggingConfiguration':
      inside(p.ResourceArn, `logging of ${j(p.ResourceArn)}`);
      break;
  }
  for (const name of NAME_PROPERTIES[r.Type] ?? []) {
    if (p[name] !== undefined) slots.push({ slot: `${r.Type} ${name} ${j(p[name])}`, parents: new Set() });
  }
  return slots;
}

/** The properties that give a resource its physical name (unique per account and region, or per parent). */
export const NAME_PROPERTIES: Record<string, readonly string[]> = {
  'AWS::ElasticLoadBalancingV2::LoadBalancer': ['Name'],
  'AWS::ElasticLoadBalancingV2::TargetGroup': ['Name'],
  'AWS::RDS::DBCluster': ['DBClusterIdentifier'],
  'AWS::RDS::DBInstance': ['DBInstanceIdentifier'],
  'AWS::RDS::DBSubnetGroup': ['DBSubnetGroupName'],
  'AWS::RDS::DBProxy': ['DBProxyName'],
  'AWS::ElastiCache::ReplicationGroup': ['ReplicationGroupId'],
  'AWS::ElastiCache::SubnetGroup': ['CacheSubnetGroupName'],
  'AWS::Logs::LogGroup': ['LogGroupName'],
  'AWS::SecretsManager::Secret': ['Name'],
  'AWS::S3::Bucket': ['BucketName'],
  'AWS::Backup::BackupVault': ['BackupVaultName'],
  'AWS::ECS::Cluster': ['ClusterName'],
  'AWS::ECS::Service': ['ServiceName'],
  'AWS::EC2::SecurityGroup': ['GroupName'],
  'AWS::WAFv2::WebACL': ['Name'],
  'AWS::SNS::Topic': ['TopicName'],
  'AWS::Lambda::Function': ['FunctionName'],
  'AWS::IAM::Role': ['RoleName'],
};

/** One resource present in both templates whose properties differ. */
export interface Modification {
  readonly id: string;
  readonly type: string;
  /** Top-level properties (and attributes such as DependsOn) whose value differs. */
  readonly changed: string[];
  /** Whether CloudFormation replaces it, and because of which properties (or replaced references). */
  readonly replaced: boolean;
  readonly replacedBecause: string[];
}

/** What CloudFormation would do with an update from `before` to `after`. */
export interface UpdatePlan {
  readonly added: string[];
  readonly removed: string[];
  readonly modified: Modification[];
}

const stable = (v: any) => JSON.stringify(v ?? null);

/** Plans the update: additions, removals, and each modification with whether it replaces the resource. */
export function planUpdate(before: CfnTemplate, after: CfnTemplate): UpdatePlan {
  const b = before.Resources;
  const a = after.Resources;
  const added = Object.keys(a).filter((id) => !(id in b)).sort();
  const removed = Object.keys(b).filter((id) => !(id in a)).sort();
  const common = Object.keys(a).filter((id) => id in b && a[id].Type === b[id].Type);
  // A logical id whose type changed is a removal and an addition under one name.
  for (const id of Object.keys(a).filter((x) => x in b && a[x].Type !== b[x].Type)) {
    added.push(id);
    removed.push(id);
  }

  const replaced = new Map<string, string[]>();
  const changedOf = new Map<string, string[]>();
  for (const id of common) {
    const pb = b[id].Properties ?? {};
    const pa = a[id].Properties ?? {};
    const keys = [...new Set([...Object.keys(pb), ...Object.keys(pa)])];
    const changed = keys.filter((k) => stable(pb[k]) !== stable(pa[k]));
    if (stable(b[id].DependsOn) !== stable(a[id].DependsOn)) changed.push('DependsOn');
    changedOf.set(id, changed);
    const type = a[id].Type;
    const forcing = ALWAYS_REPLACED.includes(type)
      ? changed.filter((k) => k !== 'DependsOn')
      : changed.filter((k) => (REPLACEMENT_PROPERTIES[type] ?? []).includes(k));
    if (forcing.length > 0) replaced.set(id, forcing);
  }
  // A replacement gives the resource a new physical id: replacement properties that reference it change too.
  let grew = true;
  while (grew) {
    grew = false;
    for (const id of common) {
      if (replaced.has(id)) continue;
      const type = a[id].Type;
      const props = ALWAYS_REPLACED.includes(type) ? Object.keys(a[id].Properties ?? {}) : (REPLACEMENT_PROPERTIES[type] ?? []);
      const because = props.filter((k) => [...referencedIds(a[id].Properties?.[k])].some((r) => replaced.has(r)))
        .map((k) => `${k} (references a replaced resource)`);
      if (because.length > 0) {
        replaced.set(id, because);
        grew = true;
      }
    }
  }
  const modified = common
    .filter((id) => changedOf.get(id)!.length > 0 || replaced.has(id))
    .map((id) => ({ id, type: a[id].Type, changed: changedOf.get(id)!, replaced: replaced.has(id), replacedBecause: replaced.get(id) ?? [] }))
    .sort((x, y) => x.id.localeCompare(y.id));
  return { added: added.sort(), removed: removed.sort(), modified };
}

/**
 * Every resource the update creates (added, or the new physical resource of a replacement) that takes
 * a port or a name an old resource still holds until cleanup: `NewId takes <slot> held by OldId`.
 */
export function slotCollisions(before: CfnTemplate, after: CfnTemplate, plan: UpdatePlan = planUpdate(before, after)): string[] {
  const replacedIds = new Set(plan.modified.filter((m) => m.replaced).map((m) => m.id));
  const removedIds = new Set(plan.removed);
  // A slot names its load balancer or listener by logical id; once that one is replaced, the slot is a new one.
  const slotsAfter = (id: string) => slotsWithParents(after.Resources[id])
    .filter((s) => ![...s.parents].some((r) => replacedIds.has(r))).map((s) => s.slot);
  const holders = new Map<string, string[]>();
  for (const [id, r] of Object.entries(before.Resources)) {
    for (const s of slotsOf(r)) holders.set(s, [...(holders.get(s) ?? []), id]);
  }
  const out: string[] = [];
  for (const id of [...plan.added, ...replacedIds]) {
    for (const slot of slotsAfter(id)) {
      // Whoever held the slot before still holds it while `id` is created: a removed or replaced resource
      // until cleanup, the same resource's old physical resource (a fixed name replaced) until cleanup,
      // a resource that stays until its own update, which runs in no guaranteed order.
      for (const old of holders.get(slot) ?? []) {
        const until = old === id ? 'its old physical resource is deleted at cleanup'
          : removedIds.has(old) || replacedIds.has(old) ? `${old} is deleted at cleanup` : `${old} lets go of it in its own update`;
        out.push(`${id} (${after.Resources[id].Type}) takes ${slot} before ${until}`);
      }
    }
  }
  return out.sort();
}

/** Stateful resources (data, keys, secrets, logs) the update replaces: each loses what it holds. */
export function statefulReplacements(plan: UpdatePlan): string[] {
  return plan.modified.filter((m) => m.replaced && STATEFUL_TYPES.includes(m.type))
    .map((m) => `${m.id} (${m.type}) is replaced: ${m.replacedBecause.join(', ')}`);
}

/** Stateful resources the update removes from the stack (deleted, or retained outside it, per DeletionPolicy). */
export function statefulRemovals(before: CfnTemplate, plan: UpdatePlan): string[] {
  return plan.removed.filter((id) => STATEFUL_TYPES.includes(before.Resources[id].Type))
    .map((id) => `${id} (${before.Resources[id].Type}) is removed (DeletionPolicy ${before.Resources[id].DeletionPolicy ?? 'Delete'})`);
}

/**
 * Changes CloudFormation refuses outright: a custom resource's ServiceToken cannot be modified
 * ("Modifying service token is not allowed"), so a handler that moves to another logical id fails the
 * update of every custom resource it serves.
 */
export function refusedChanges(plan: UpdatePlan): string[] {
  return plan.modified
    .filter((m) => (m.type.startsWith('Custom::') || m.type === 'AWS::CloudFormation::CustomResource') && m.changed.includes('ServiceToken'))
    .map((m) => `${m.id} (${m.type}): ServiceToken changes`);
}

/**
 * Resources the rollback of a failed first create would leave behind (DeletionPolicy Retain) that carry
 * a fixed physical name: the retry's create of the same name fails (AlreadyExists). RetainExceptOnCreate
 * deletes on that rollback and retains afterwards; Snapshot deletes the resource itself.
 */
export function fixedNamesKeptByFailedCreate(t: CfnTemplate): string[] {
  return Object.entries(t.Resources)
    .filter(([, r]) => r.DeletionPolicy === 'Retain')
    .flatMap(([id, r]) => (NAME_PROPERTIES[r.Type] ?? []).filter((p) => r.Properties?.[p] !== undefined && !mentionsStackId(r.Properties[p]))
      .map((p) => `${id} (${r.Type}) keeps ${p} ${JSON.stringify(r.Properties[p])}`));
}

/** A name made unique per stack creation by the stack's id (its UUID) cannot collide with a retained one. */
function mentionsStackId(value: any): boolean {
  return JSON.stringify(value).includes('"Ref":"AWS::StackId"');
}

/** A one-screen summary of a plan, for failure messages. */
export function describePlan(plan: UpdatePlan): string {
  return [
    ...plan.added.map((id) => `+ ${id}`),
    ...plan.removed.map((id) => `- ${id}`),
    ...plan.modified.map((m) => `${m.replaced ? '!' : '~'} ${m.id} ${m.changed.join(',')}${m.replaced ? ` [replaced: ${m.replacedBecause.join(', ')}]` : ''}`),
  ].join('\n');
}
