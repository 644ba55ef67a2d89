/**
 * First-create checks over a synthesized template's dependency graph (test/helpers/graph.ts): anything
 * that runs code against a resource waits until that resource is usable, and every alarm action can be
 * delivered. Each returns offenders as `shape/LogicalId: what is wrong`; none means the check passed.
 */
import { createSchedule, dependencyClosure, dependencyGraph } from './graph';
import { CfnTemplate, Shape, refId, resourcesOfType } from './template-checks';

/** What a client of the database must wait for: every DB instance (Aurora writer and readers, or RDS) and proxy target group. */
export function databaseReadiness(t: CfnTemplate): string[] {
  return [
    ...resourcesOfType(t, 'AWS::RDS::DBInstance'),
    ...resourcesOfType(t, 'AWS::RDS::DBProxyTargetGroup'),
  ].map(([id]) => id).sort();
}

/** Every migrations run waits for every database instance and the RDS Proxy's target group. */
export function migrationsWaitProblems(shape: Shape): string[] {
  const t = shape.template;
  const graph = dependencyGraph(t);
  const ready = databaseReadiness(t);
  return resourcesOfType(t, 'Custom::DjangoMigrations').flatMap(([id]) => {
    const closure = dependencyClosure(t, id, graph);
    return ready.filter((r) => !closure.has(r)).map((r) => `${shape.name}/${id}: starts before ${t.Resources[r].Type} ${r} is created (migrate cannot connect)`);
  });
}

/**
 * Every migrations run waits for each IAM policy of the roles its task definition runs with (the execution
 * role's reads the secrets, the task role's grants what the command does): a one-off task shares the
 * service's roles, whose policies are no part of it.
 */
export function migrationsPolicyWaitProblems(shape: Shape): string[] {
  const t = shape.template;
  const graph = dependencyGraph(t);
  return resourcesOfType(t, 'Custom::DjangoMigrations').flatMap(([id, m]) => {
    const td = t.Resources[refId(m.Properties.TaskDefinitionArn) ?? '']?.Properties ?? {};
    const roles = new Set([refId(td.TaskRoleArn), refId(td.ExecutionRoleArn)].filter((r): r is string => r !== undefined));
    const policies = resourcesOfType(t, 'AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles ?? []).some((r: any) => roles.has(refId(r) ?? '')))
      .map(([pid]) => pid);
    const closure = dependencyClosure(t, id, graph);
    return policies.filter((p) => !closure.has(p)).map((p) => `${shape.name}/${id}: starts before the policy ${p} of its task's roles exists (the task cannot read its secrets)`);
  });
}

/** Whether a service's task gets database settings (it connects to the database). */
function usesDatabase(t: CfnTemplate, service: any): boolean {
  const td = t.Resources[refId(service.Properties.TaskDefinition)!];
  return (td?.Properties.ContainerDefinitions ?? []).some((c: any) => (c.Environment ?? []).some((e: any) => e.Name === 'DATABASE_HOST'));
}

/**
 * Every ECS service whose tasks use the database waits for the migrations (when the template has any),
 * and in any case for every database instance and proxy target group.
 */
export function servicesWaitProblems(shape: Shape): string[] {
  const t = shape.template;
  const graph = dependencyGraph(t);
  const migrations = resourcesOfType(t, 'Custom::DjangoMigrations').map(([id]) => id);
  const ready = databaseReadiness(t);
  return resourcesOfType(t, 'AWS::ECS::Service').filter(([, s]) => usesDatabase(t, s)).flatMap(([id]) => {
    const closure = dependencyClosure(t, id, graph);
    return [
      ...migrations.filter((m) => !closure.has(m)).map((m) => `${shape.name}/${id}: uses the database but does not wait for the migrations ${m}`),
      ...ready.filter((r) => !closure.has(r)).map((r) => `${shape.name}/${id}: uses the database but starts before ${t.Resources[r].Type} ${r} is created`),
    ];
  });
}

const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Whether an action pattern (`sns:Publish`, `sns:*`, `kms:GenerateDataKey*`, `*`) covers `action`. */
function covers(pattern: string, action: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return re.test(action);
}

/** Whether a policy document has an Allow for the CloudWatch service principal covering every action. */
function admitsCloudWatch(doc: any, actions: string[]): boolean {
  return asList<any>(doc?.Statement).some((s) => s.Effect === 'Allow'
    && asList<string>(s.Principal?.Service).includes('cloudwatch.amazonaws.com')
    && actions.every((a) => asList<string>(s.Action).some((p) => covers(p, a))));
}

/**
 * Every alarm action's topic of this template lets CloudWatch publish: a topic policy (which replaces the
 * default policy) admits cloudwatch.amazonaws.com to sns:Publish, and a KMS-encrypted topic's key policy
 * admits it to kms:Decrypt and kms:GenerateDataKey*. A topic under the AWS-managed alias/aws/sns key
 * can never get alarm notifications. Topics outside the template (an ARN) are the owner's business.
 */
export function alarmDeliveryProblems(shape: Shape): string[] {
  const t = shape.template;
  const policies = resourcesOfType(t, 'AWS::SNS::TopicPolicy');
  const topicIds = new Set(resourcesOfType(t, 'AWS::CloudWatch::Alarm').flatMap(([, a]) =>
    [...asList(a.Properties.AlarmActions), ...asList(a.Properties.OKActions), ...asList(a.Properties.InsufficientDataActions)]
      .map(refId).filter((id): id is string => id !== undefined && t.Resources[id]?.Type === 'AWS::SNS::Topic')));
  return [...topicIds].sort().flatMap((topicId) => {
    const problems: string[] = [];
    const own = policies.filter(([, p]) => asList<any>(p.Properties.Topics).some((x) => refId(x) === topicId));
    if (own.length > 0 && !own.some(([, p]) => admitsCloudWatch(p.Properties.PolicyDocument, ['sns:Publish']))) {
      problems.push(`${shape.name}/${topicId}: its topic policy (${own.map(([id]) => id).join(', ')}) does not admit cloudwatch.amazonaws.com to sns:Publish; alarm notifications are refused`);
    }
    const keyRef = t.Resources[topicId].Properties?.KmsMasterKeyId;
    if (typeof keyRef === 'string' && /alias\/aws\/sns$/.test(keyRef)) {
      problems.push(`${shape.name}/${topicId}: encrypted with the AWS-managed alias/aws/sns key, whose policy cannot admit CloudWatch`);
    }
    const keyId = refId(keyRef);
    const key = keyId ? t.Resources[keyId] : undefined;
    if (key?.Type === 'AWS::KMS::Key' && !admitsCloudWatch(key.Properties.KeyPolicy, ['kms:Decrypt', 'kms:GenerateDataKey'])) {
      problems.push(`${shape.name}/${topicId}: its key ${keyId} does not admit cloudwatch.amazonaws.com to kms:Decrypt and kms:GenerateDataKey*; notifications fail to encrypt`);
    }
    return problems;
  });
}

/** CloudFormation refuses a template whose resources wait for each other in a circle. */
export function cycleProblems(shape: Shape): string[] {
  try {
    createSchedule(shape.template);
    return [];
  } catch (e: any) {
    return [`${shape.name}: ${e.message}`];
  }
}

/** The containers of a service's task definition. */
function containersOf(t: CfnTemplate, service: any): any[] {
  return t.Resources[refId(service.Properties.TaskDefinition)!]?.Properties.ContainerDefinitions ?? [];
}

/** Whether a service runs Celery beat (`celery ... beat`), which must never run twice. */
function runsBeat(t: CfnTemplate, service: any): boolean {
  return containersOf(t, service).some((c: any) => Array.isArray(c.Command) && c.Command[0] === 'celery' && c.Command.includes('beat'));
}

/**
 * Celery beat runs exactly once, also during a deploy: one desired task, a deployment that stops the old
 * task before it starts the new one (maximum 100 %), and no autoscaling target that could add a second.
 */
export function singletonProblems(shape: Shape): string[] {
  const t = shape.template;
  const scaled = new Set(resourcesOfType(t, 'AWS::ApplicationAutoScaling::ScalableTarget')
    .flatMap(([, st]) => JSON.stringify(st.Properties.ResourceId).match(/"(?:Ref|Fn::GetAtt)":\s*\[?"(\w+)"/g) ?? [])
    .map((m) => m.replace(/.*"(\w+)"$/, '$1')));
  return resourcesOfType(t, 'AWS::ECS::Service').filter(([, s]) => runsBeat(t, s)).flatMap(([id, s]) => {
    const p = s.Properties;
    const problems: string[] = [];
    if (p.DesiredCount !== 1) problems.push(`${shape.name}/${id}: runs Celery beat with DesiredCount ${p.DesiredCount}, not 1 (every periodic task would be sent more than once)`);
    if (p.DeploymentConfiguration?.MaximumPercent !== 100) {
      problems.push(`${shape.name}/${id}: runs Celery beat with a deployment maximum of ${p.DeploymentConfiguration?.MaximumPercent ?? 200} %: a deploy starts the new beat before it stops the old one`);
    }
    if (scaled.has(id)) problems.push(`${shape.name}/${id}: runs Celery beat under an autoscaling target, which could start a second one`);
    return problems;
  });
}

/**
 * A cache token generation retires the previous token only after every service holding the token rolled
 * out: each ECS service with a REDIS_PASSWORD secret (web and workers alike) is a dependency of the retire step.
 */
export function tokenRetireProblems(shape: Shape): string[] {
  const t = shape.template;
  const graph = dependencyGraph(t);
  return resourcesOfType(t, 'Custom::DjangoCacheRetireAuthToken').flatMap(([retire]) => {
    const closure = dependencyClosure(t, retire, graph);
    return resourcesOfType(t, 'AWS::ECS::Service')
      .filter(([, s]) => containersOf(t, s).some((c: any) => (c.Secrets ?? []).some((x: any) => x.Name === 'REDIS_PASSWORD')))
      .filter(([id]) => !closure.has(id))
      .map(([id]) => `${shape.name}/${id}: holds the cache token, but ${retire} may retire the previous token before this service rolled out`);
  });
}

/** Every first-create graph check of one template. */
export function deployGraphProblems(shape: Shape): string[] {
  return [
    ...cycleProblems(shape), ...migrationsWaitProblems(shape), ...servicesWaitProblems(shape), ...alarmDeliveryProblems(shape),
    ...singletonProblems(shape), ...tokenRetireProblems(shape),
  ];
}
