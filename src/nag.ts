import { AspectPriority, Aspects, CfnResource, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** The resource metadata key cdk-nag v2 reads its suppressions from. */
export const NAG_V2_METADATA_KEY = 'cdk_nag';

/** One suppression in cdk-nag v2's `rules_to_suppress` metadata. */
interface V2Rule {
  id: string;
  reason: string;
  applies_to?: string[];
}

/**
 * Acknowledges one cdk-nag finding on `scope` and every CloudFormation resource under it, for both
 * cdk-nag generations, with no runtime dependency on either:
 * - v3 (`Validations.of(app).addPlugins(...)`) reads `Validations.acknowledge` metadata;
 * - v2 (`Aspects.of(app).add(new AwsSolutionsChecks())`) reads `cdk_nag.rules_to_suppress` on each resource.
 *
 * `id` is the v3 form: a rule (`AwsSolutions-S1`) or a granular finding (`AwsSolutions-IAM5[Resource::*]`),
 * which becomes v2's `{ id: 'AwsSolutions-IAM5', applies_to: ['Resource::*'] }`.
 * v2 metadata goes on the resources present at the call, and at synthesis on those added under `scope` later.
 */
export function acknowledgeFinding(scope: IConstruct, id: string, reason: string): void {
  if (reason.length < 10) {
    // cdk-nag v2 rejects shorter reasons; a reason is for a security reviewer anyway.
    throw new Error(`acknowledgement of ${id} needs a real reason, got '${reason}'`);
  }
  // Validations.acknowledge reserves '::' as a prefix separator and rejects ids with more than one;
  // IAM findings embed ARNs like arn:<AWS::Partition>:..., recorded in the same metadata directly.
  if (id.split('::').length <= 2) {
    Validations.of(scope).acknowledge({ id, reason });
  } else {
    scope.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, { [id]: reason });
  }

  const m = /^([^[\]]+)(?:\[(.+)\])?$/.exec(id);
  if (!m) throw new Error(`not a cdk-nag rule or finding id: ${id}`);
  const rule: V2Rule = { id: m[1], reason, ...(m[2] ? { applies_to: [m[2]] } : {}) };
  for (const child of scope.node.findAll()) {
    if (CfnResource.isCfnResource(child)) addV2Rule(child, rule);
  }
  pendingV2Rules(scope).push(rule);
}

const PENDING_V2_RULES = Symbol.for('cdk-django.nag.pendingV2Rules');

/**
 * The v2 rules acknowledged on `scope`, applied again at synthesis to resources added under it after
 * the call (a role's DefaultPolicy is created by the first grant, an execution role when the image
 * binds): cdk-nag v3 covers those through the construct tree, v2 only reads each resource's own
 * metadata. The Aspect runs before v2's packs (MUTATING < DEFAULT priority) and leaves resources
 * that already carry the rule untouched.
 */
function pendingV2Rules(scope: IConstruct): V2Rule[] {
  const existing = (scope as any)[PENDING_V2_RULES] as V2Rule[] | undefined;
  if (existing) return existing;
  const rules: V2Rule[] = [];
  Object.defineProperty(scope, PENDING_V2_RULES, { value: rules, enumerable: false });
  Aspects.of(scope).add({
    visit(node: IConstruct): void {
      if (!CfnResource.isCfnResource(node)) return;
      for (const rule of rules) {
        if (!hasV2Rule(node, rule)) addV2Rule(node, rule);
      }
    },
  }, { priority: AspectPriority.MUTATING });
  return rules;
}

function v2RulesOf(resource: CfnResource): V2Rule[] {
  return resource.getMetadata(NAG_V2_METADATA_KEY)?.rules_to_suppress ?? [];
}

/** Whether the resource's v2 metadata already suppresses `rule` (the whole rule or this finding). */
function hasV2Rule(resource: CfnResource, rule: V2Rule): boolean {
  return v2RulesOf(resource).some((r) => r.id === rule.id
    && (!r.applies_to || (rule.applies_to ?? []).every((f) => r.applies_to!.includes(f))));
}

function addV2Rule(resource: CfnResource, rule: V2Rule): void {
  const existing = resource.getMetadata(NAG_V2_METADATA_KEY) ?? {};
  const rules: V2Rule[] = [...v2RulesOf(resource)];
  const same = rules.find((r) => r.id === rule.id);
  if (!same) {
    rules.push({ ...rule });
  } else if (rule.applies_to && same.applies_to) {
    // v2 matches a finding against any applies_to entry of the rule: merge granular findings.
    same.applies_to = [...new Set([...same.applies_to, ...rule.applies_to])];
  } else {
    delete same.applies_to; // one of them covers the whole rule
  }
  resource.addMetadata(NAG_V2_METADATA_KEY, { ...existing, rules_to_suppress: rules });
}
