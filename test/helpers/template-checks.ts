/**
 * Plain-JSON views over synthesized CloudFormation templates, for the checks in
 * test/template-checks.test.ts that cdk-nag and cfn-lint do not make (timing nesting across
 * resources, secrets by name and by shape, Security Hub ECS controls, deletion policies).
 *
 * Everything here works on `Template.fromStack(stack).toJSON()`: no CDK objects, so a check reads
 * exactly what CloudFormation would get.
 */

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: any;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly [key: string]: any;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly [section: string]: any;
}

/** A synthesized template with the name of the shape it was built from, for failure messages. */
export interface Shape {
  readonly name: string;
  readonly template: CfnTemplate;
}

/** Logical IDs and resources of one type. */
export function resourcesOfType(t: CfnTemplate, type: string): Array<[string, CfnResource]> {
  return Object.entries(t.Resources).filter(([, r]) => r.Type === type);
}

/** The logical ID a `{ Ref }` or `{ Fn::GetAtt }` points at, if it is one. */
export function refId(value: any): string | undefined {
  if (typeof value?.Ref === 'string') return value.Ref;
  const att = value?.['Fn::GetAtt'];
  if (Array.isArray(att) && typeof att[0] === 'string') return att[0];
  return undefined;
}

/**
 * The literal text of a template string value: plain strings as they are, `Fn::Join` with its string
 * parts joined and every token (Ref, GetAtt, ...) left out. Good for parsing numbers out of rendered
 * configs, whose tokens are host names and ARNs, never the timeouts.
 */
export function literalText(value: any): string {
  if (typeof value === 'string') return value;
  const join = value?.['Fn::Join'];
  if (Array.isArray(join)) return (join[1] as any[]).map((p) => (typeof p === 'string' ? p : '')).join(join[0]);
  return '';
}

/** True for a value CloudFormation resolves at deploy time (an intrinsic or a dynamic reference). */
export function isResolvedAtDeploy(value: any): boolean {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
      // A join of only literals is still a literal: it must contain a dynamic reference or a token.
      const join = value['Fn::Join'];
      if (Array.isArray(join)) {
        const parts = join[1] as any[];
        return parts.some((p) => typeof p !== 'string') || /\{\{resolve:(secretsmanager|ssm-secure):/.test(parts.join(''));
      }
      return true;
    }
  }
  return typeof value === 'string' && /^\{\{resolve:(secretsmanager|ssm-secure):[^}]+\}\}$/.test(value);
}

/** A container's Environment as name -> raw template value. */
export function envOf(container: any): Record<string, any> {
  return Object.fromEntries((container.Environment ?? []).map((e: any) => [e.Name, e.Value]));
}

/** A `--name=value` flag of an argv, as a number. */
export function flagNumber(argv: string[] | undefined, name: string): number | undefined {
  const hit = (argv ?? []).find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? undefined : Number(hit.slice(name.length + 3));
}

/** A `--name value` option of an argv (Daphne's style), as a number. */
export function optionNumber(argv: string[] | undefined, name: string): number | undefined {
  const i = (argv ?? []).indexOf(`--${name}`);
  return i < 0 ? undefined : Number(argv![i + 1]);
}

/** The first `directive <n>` (optionally with an `s` unit) in a rendered config, as a number. */
export function directiveNumber(conf: string, pattern: RegExp): number | undefined {
  const m = conf.match(pattern);
  return m ? Number(m[1]) : undefined;
}

/** One ECS service with everything its timing depends on, resolved through the template's references. */
export interface ServiceView {
  readonly shape: string;
  /** `shape/ServiceLogicalId`, the name failure messages use. */
  readonly name: string;
  readonly serviceId: string;
  readonly service: any;
  readonly taskDefinitionId: string;
  readonly containers: any[];
  /** The app server container (always named `app`). */
  readonly app: any;
  /** The proxy sidecar (`nginx` or `apache`) when there is one. */
  readonly proxy?: any;
  readonly targetGroupId: string;
  readonly targetGroup: any;
  readonly loadBalancerId: string;
  readonly loadBalancer: any;
}

function attribute(attrs: any[] | undefined, key: string): string | undefined {
  return (attrs ?? []).find((a) => a.Key === key)?.Value;
}

export function loadBalancerIdleTimeout(v: ServiceView): number {
  return Number(attribute(v.loadBalancer.LoadBalancerAttributes, 'idle_timeout.timeout_seconds') ?? 60);
}

export function deregistrationDelay(v: ServiceView): number {
  return Number(attribute(v.targetGroup.TargetGroupAttributes, 'deregistration_delay.timeout_seconds') ?? 300);
}

/** The load balancer whose listener (default action or rule) forwards to a target group. */
function loadBalancerOf(t: CfnTemplate, targetGroupId: string): string {
  const forwards = (actions: any[] | undefined) => (actions ?? []).some((a) => refId(a.TargetGroupArn) === targetGroupId
    || (a.ForwardConfig?.TargetGroups ?? []).some((g: any) => refId(g.TargetGroupArn) === targetGroupId));
  const listenerIds = resourcesOfType(t, 'AWS::ElasticLoadBalancingV2::Listener')
    .filter(([, l]) => forwards(l.Properties.DefaultActions)).map(([id]) => id);
  for (const [, rule] of resourcesOfType(t, 'AWS::ElasticLoadBalancingV2::ListenerRule')) {
    if (forwards(rule.Properties.Actions)) listenerIds.push(refId(rule.Properties.ListenerArn)!);
  }
  const lbs = new Set(listenerIds.map((id) => refId(t.Resources[id]?.Properties.LoadBalancerArn)));
  if (lbs.size !== 1 || lbs.has(undefined)) throw new Error(`target group ${targetGroupId}: expected one load balancer, found ${[...lbs].join(', ')}`);
  return [...lbs][0]!;
}

/** Every ECS service in a template, with its task definition, target group and load balancer. */
export function ecsServices(shape: Shape): ServiceView[] {
  const t = shape.template;
  return resourcesOfType(t, 'AWS::ECS::Service').map(([serviceId, r]) => {
    const service = r.Properties;
    const taskDefinitionId = refId(service.TaskDefinition)!;
    const containers: any[] = t.Resources[taskDefinitionId].Properties.ContainerDefinitions;
    const lbs: any[] = service.LoadBalancers ?? [];
    if (lbs.length !== 1) throw new Error(`${shape.name}/${serviceId}: expected one load balancer target, found ${lbs.length}`);
    const targetGroupId = refId(lbs[0].TargetGroupArn)!;
    const loadBalancerId = loadBalancerOf(t, targetGroupId);
    return {
      shape: shape.name,
      name: `${shape.name}/${serviceId}`,
      serviceId,
      service,
      taskDefinitionId,
      containers,
      app: containers.find((c) => c.Name === 'app'),
      proxy: containers.find((c) => c.Name === 'nginx' || c.Name === 'apache'),
      targetGroupId,
      targetGroup: t.Resources[targetGroupId].Properties,
      loadBalancerId,
      loadBalancer: t.Resources[loadBalancerId].Properties,
    };
  });
}

/** Every container definition of every task definition, named `shape/TaskDefinitionId/container`. */
export function allContainers(shapes: Shape[]): Array<{ name: string; container: any }> {
  return shapes.flatMap((s) => resourcesOfType(s.template, 'AWS::ECS::TaskDefinition').flatMap(([id, td]) =>
    (td.Properties.ContainerDefinitions as any[]).map((c) => ({ name: `${s.name}/${id}/${c.Name}`, container: c }))));
}

/** The uWSGI ini the app container writes from its environment, or ''. */
export function uwsgiIni(app: any): string {
  return literalText(envOf(app).CDK_DJANGO_UWSGI_INI ?? '');
}

/** The rendered proxy config (nginx.conf or httpd.conf) of a proxy container, tokens left out. */
export function proxyConf(proxy: any): string {
  const env = envOf(proxy);
  return literalText(env.CDK_DJANGO_NGINX_CONF ?? env.CDK_DJANGO_HTTPD_CONF ?? '');
}

/** One statement of an identity policy (AWS::IAM::Policy, AWS::IAM::ManagedPolicy, or inline in AWS::IAM::Role). */
export interface IdentityStatement {
  /** `shape/PolicyLogicalId[i]` */
  readonly name: string;
  readonly statement: any;
  readonly actions: string[];
  readonly resources: any[];
}

export function identityStatements(shapes: Shape[]): IdentityStatement[] {
  const out: IdentityStatement[] = [];
  const add = (name: string, doc: any) => {
    const statements: any[] = Array.isArray(doc?.Statement) ? doc.Statement : doc?.Statement ? [doc.Statement] : [];
    statements.forEach((s, i) => out.push({
      name: `${name}[${i}]`,
      statement: s,
      actions: ([] as string[]).concat(s.Action ?? []),
      resources: ([] as any[]).concat(s.Resource ?? []),
    }));
  };
  for (const s of shapes) {
    for (const [id, r] of Object.entries(s.template.Resources)) {
      if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') add(`${s.name}/${id}`, r.Properties.PolicyDocument);
      if (r.Type === 'AWS::IAM::Role') {
        for (const p of r.Properties.Policies ?? []) add(`${s.name}/${id}/${p.PolicyName}`, p.PolicyDocument);
      }
    }
  }
  return out;
}

/** Every string in a JSON value (keys excluded) with its path, e.g. `Resources.X.Properties.Code.S3Key`. */
export function stringsIn(value: any, path = ''): Array<{ path: string; value: string }> {
  if (typeof value === 'string') return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsIn(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => stringsIn(v, path ? `${path}.${k}` : k));
  return [];
}

/** Every property (at any depth) with its path, for checks by property name. */
export function propertiesIn(value: any, path = ''): Array<{ path: string; key: string; value: any }> {
  if (Array.isArray(value)) return value.flatMap((v, i) => propertiesIn(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => {
      const p = path ? `${path}.${k}` : k;
      return [{ path: p, key: k, value: v }, ...propertiesIn(v, p)];
    });
  }
  return [];
}

/**
 * Whether a run of 32+ letters and digits reads like a generated secret rather than an identifier.
 * Identifiers in templates are made of words (`AWSServiceRoleForApplicationAutoScaling`,
 * `fullSiteWebServiceTaskCountTargetCpu8BE1494F`: a construct path plus CDK's 8-hex-digit hash):
 * most of their characters sit in runs of 3+ lowercase letters. In a random string over
 * [A-Za-z0-9] such runs are rare (a run of 3 has probability (26/62)^3, about 7 %), so under half of
 * the characters in word-like runs means "looks generated".
 */
export function looksGenerated(run: string): boolean {
  const wordy = (run.match(/[a-z]{3,}/g) ?? []).reduce((n, w) => n + w.length, 0);
  return wordy / run.length < 0.5;
}

/** The stateful resource types whose DeletionPolicy decides whether data survives. */
export const STATEFUL_TYPES = [
  'AWS::RDS::DBCluster',
  'AWS::RDS::DBInstance',
  'AWS::ElastiCache::ReplicationGroup',
  'AWS::S3::Bucket',
  'AWS::Logs::LogGroup',
  'AWS::SecretsManager::Secret',
  'AWS::KMS::Key',
  // holds the recovery points of the database's AWS Backup plan
  'AWS::Backup::BackupVault',
];

/** A logical ID without CDK's trailing 8-hex-digit hash: the construct path, stable across stacks. */
export function role(logicalId: string): string {
  return logicalId.replace(/[0-9A-F]{8}$/, '');
}

/**
 * `{ '<role> <type>': '<DeletionPolicy>/<UpdateReplacePolicy>' }` for every stateful resource of a
 * template ('-' when a policy is absent, which CloudFormation treats as Delete).
 */
export function statefulTable(t: CfnTemplate): Record<string, string> {
  const rows = Object.entries(t.Resources)
    .filter(([, r]) => STATEFUL_TYPES.includes(r.Type))
    .map(([id, r]) => [`${role(id)} ${r.Type}`, `${r.DeletionPolicy ?? '-'}/${r.UpdateReplacePolicy ?? '-'}`] as const)
    .sort(([a], [b]) => a.localeCompare(b));
  return Object.fromEntries(rows);
}

/** A value rendered to text with each token as `<Ref=Id>` or `<GetAtt=Id.Attr>` (no colon: ARN-like texts split on it). */
export function renderTokens(value: any): string | undefined {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  const join = value?.['Fn::Join'];
  if (Array.isArray(join)) {
    const parts = (join[1] as any[]).map(renderTokens);
    return parts.some((p) => p === undefined) ? undefined : parts.join(join[0]);
  }
  if (typeof value?.Ref === 'string') return `<Ref=${value.Ref}>`;
  const att = value?.['Fn::GetAtt'];
  if (Array.isArray(att)) return `<GetAtt=${att.join('.')}>`;
  return undefined;
}

/** One read of a Secrets Manager secret by the template: the secret's logical id and the version it names. */
export interface SecretRead {
  /** `Type/LogicalId` of the reader (a resource property, or a task definition container). */
  readonly reader: string;
  readonly secret: string;
  /** `stage:versionId` as written; `:` when no version is named (AWSCURRENT at each read). */
  readonly version: string;
}

const DYNAMIC_REFERENCE = /\{\{resolve:secretsmanager:<Ref=([^>]+)>((?::[^:}]*)*)\}\}/g;

/**
 * Every read of a secret of this template: `{{resolve:secretsmanager:...}}` dynamic references in any
 * resource property, and the `Secrets` of ECS task definition containers (`arn:json-key:stage:version-id`).
 */
export function secretReads(t: CfnTemplate): SecretRead[] {
  const reads: SecretRead[] = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    if (r.Type === 'AWS::ECS::TaskDefinition') {
      for (const c of r.Properties?.ContainerDefinitions ?? []) {
        for (const s of c.Secrets ?? []) {
          const text = renderTokens(s.ValueFrom) ?? '';
          const m = /^<Ref=([^>]+)>(.*)$/.exec(text);
          if (!m || t.Resources[m[1]]?.Type !== 'AWS::SecretsManager::Secret') continue;
          const [, , stage = '', version = ''] = m[2].split(':'); // '', json-key, stage, version
          reads.push({ reader: `task ${id}/${c.Name} ${s.Name}`, secret: m[1], version: `${stage}:${version}` });
        }
      }
      continue;
    }
    for (const { value } of stringsInTokens(r.Properties)) {
      for (const m of value.matchAll(DYNAMIC_REFERENCE)) {
        const [, , stage = '', version = ''] = m[2].split(':').slice(1); // SecretString, json-key, stage, version
        reads.push({ reader: `${r.Type} ${id}`, secret: m[1], version: `${stage}:${version}` });
      }
    }
  }
  return reads;
}

/** Every string (joins rendered with their tokens) under a value. */
function stringsInTokens(value: any): Array<{ value: string }> {
  if (value === null || value === undefined) return [];
  if (value['Fn::Join']) {
    const text = renderTokens(value);
    if (text !== undefined) return [{ value: text }];
  }
  if (typeof value === 'string') return [{ value }];
  if (typeof value !== 'object') return [];
  return Object.values(value).flatMap(stringsInTokens);
}

/**
 * Secrets read both by a resource property (a dynamic reference, resolved when that resource deploys) and by
 * tasks (resolved when each task starts) must name one and the same version on every side: otherwise a
 * changed secret reaches new tasks and not the resource (or the reverse), and they disagree.
 */
export function unpinnedSharedSecrets(t: CfnTemplate): string[] {
  const reads = secretReads(t);
  const offenders: string[] = [];
  for (const secret of new Set(reads.map((r) => r.secret))) {
    const all = reads.filter((r) => r.secret === secret);
    if (!all.some((r) => r.reader.startsWith('task ')) || all.every((r) => r.reader.startsWith('task '))) continue;
    const versions = new Set(all.map((r) => r.version));
    for (const r of all) {
      if (r.version === ':') offenders.push(`${secret}: ${r.reader} names no version (reads AWSCURRENT whenever it resolves)`);
    }
    if (versions.size > 1) offenders.push(`${secret}: readers name different versions (${[...versions].sort().join(' / ')})`);
  }
  return offenders;
}

/**
 * What is wrong with the deletion protection of a resource (a database or a load balancer): in the
 * template it turns the rollback of a failed first create into ROLLBACK_FAILED, so it must be left out
 * and switched on by a Custom::DjangoDeletionProtection with Enabled 'true' that targets the resource.
 */
export function deletionProtectionProblems(t: CfnTemplate, logicalId: string): string[] {
  const r = t.Resources[logicalId];
  const inTemplate = r.Type === 'AWS::ElasticLoadBalancingV2::LoadBalancer'
    ? (r.Properties?.LoadBalancerAttributes ?? []).some((a: any) => a.Key === 'deletion_protection.enabled')
    : r.Properties?.DeletionProtection !== undefined;
  const switchedOn = resourcesOfType(t, 'Custom::DjangoDeletionProtection')
    .some(([, p]) => refId(p.Properties.Target) === logicalId && p.Properties.Enabled === 'true');
  return [
    ...(inTemplate ? ['deletion protection in the template (a failed first create could not roll back)'] : []),
    ...(switchedOn ? [] : ['no Custom::DjangoDeletionProtection switches deletion protection on']),
  ];
}
