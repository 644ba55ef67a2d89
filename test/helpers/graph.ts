/**
 * The dependency graph of a synthesized CloudFormation template, as CloudFormation builds it: a resource
 * waits for every resource it names in `DependsOn`, `Ref`, `Fn::GetAtt` or `Fn::Sub` (`${Id}`,
 * `${Id.Attribute}`). On create, each resource starts as soon as all of those are complete, in parallel
 * with everything else that is ready.
 *
 * Plain JSON in, plain JSON out (no CDK objects), so checks read exactly what CloudFormation would get.
 */
import { CfnTemplate } from './template-checks';

/**
 * Every name a value references: Ref, Fn::GetAtt (both forms) and the `${Name}` / `${Name.Attr}` of
 * Fn::Sub (not its local variables). Pseudo parameters and parameters are included; callers keep the
 * names they care about (resources).
 */
export function referencedIds(value: any, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    value.forEach((v) => referencedIds(v, out));
    return out;
  }
  if (!value || typeof value !== 'object') return out;
  for (const [k, x] of Object.entries(value)) {
    if (k === 'Ref' && typeof x === 'string') {
      out.add(x);
    } else if (k === 'Fn::GetAtt') {
      if (Array.isArray(x) && typeof x[0] === 'string') out.add(x[0]);
      else if (typeof x === 'string') out.add(x.split('.')[0]);
      else referencedIds(x, out);
    } else if (k === 'Fn::Sub') {
      const [text, vars] = Array.isArray(x) ? x : [x, {}];
      const local = new Set(Object.keys(vars ?? {}));
      for (const m of String(text).matchAll(/\$\{([^!}][^}]*)\}/g)) {
        const name = m[1].split('.')[0];
        if (!local.has(name)) out.add(name);
      }
      referencedIds(vars, out);
    } else {
      referencedIds(x, out);
    }
  }
  return out;
}

/** The logical IDs a resource waits for, directly: DependsOn, Ref, GetAtt and Fn::Sub references to other resources. */
export function directDependencies(t: CfnTemplate, id: string): Set<string> {
  const r = t.Resources[id];
  if (!r) throw new Error(`no resource ${id}`);
  // Metadata, Condition and UpdatePolicy are not creation dependencies.
  const targets = [...([] as string[]).concat(r.DependsOn ?? []), ...referencedIds(r.Properties)];
  return new Set(targets.filter((target) => target !== id && target in t.Resources));
}

/** Every resource's direct dependencies. */
export function dependencyGraph(t: CfnTemplate): Map<string, Set<string>> {
  return new Map(Object.keys(t.Resources).map((id) => [id, directDependencies(t, id)]));
}

/** Everything `id` waits for, transitively (not including itself). */
export function dependencyClosure(t: CfnTemplate, id: string, graph: Map<string, Set<string>> = dependencyGraph(t)): Set<string> {
  const seen = new Set<string>();
  const stack = [...(graph.get(id) ?? [])];
  while (stack.length) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(graph.get(next) ?? []));
  }
  return seen;
}

/** Whether `id` waits for `target` (directly or through others). */
export function dependsOn(t: CfnTemplate, id: string, target: string, graph?: Map<string, Set<string>>): boolean {
  return dependencyClosure(t, id, graph).has(target);
}

/** When a resource starts and completes in a simulated first create, in abstract time units. */
export interface ScheduledResource {
  readonly id: string;
  readonly type: string;
  readonly start: number;
  readonly end: number;
  /** The dependency that completed last: what this resource waited on. */
  readonly waitedOn?: string;
}

/**
 * How long creating a resource takes, roughly as on AWS (minutes): long for databases, caches, CloudFront
 * and the proxy, so that what runs in parallel with them shows in a schedule.
 */
export function typicalCreateMinutes(type: string): number {
  switch (type) {
    case 'AWS::RDS::DBInstance': return 10;
    case 'AWS::RDS::DBCluster': return 5;
    case 'AWS::RDS::DBProxy': return 8;
    case 'AWS::RDS::DBProxyTargetGroup': return 3;
    case 'AWS::ElastiCache::ReplicationGroup': return 12;
    case 'AWS::CloudFront::Distribution': return 6;
    case 'AWS::EC2::NatGateway': return 2;
    case 'AWS::ElasticLoadBalancingV2::LoadBalancer': return 3;
    case 'AWS::ECS::Service': return 4;
    case 'Custom::DjangoMigrations': return 2;
    default: return 0.1;
  }
}

/**
 * CloudFormation's create order: every resource starts as soon as its dependencies have completed and
 * takes `minutes(type, id)`. Returns the resources by start time (ties by logical ID). Throws on a cycle,
 * which CloudFormation refuses too.
 */
export function createSchedule(
  t: CfnTemplate,
  minutes: (type: string, id: string) => number = (type) => typicalCreateMinutes(type),
): ScheduledResource[] {
  const graph = dependencyGraph(t);
  const done = new Map<string, ScheduledResource>();
  const pending = new Set(graph.keys());
  while (pending.size) {
    const ready = [...pending].filter((id) => [...graph.get(id)!].every((d) => done.has(d)));
    if (ready.length === 0) throw new Error(`dependency cycle among: ${[...pending].sort().join(', ')}`);
    for (const id of ready) {
      const deps = [...graph.get(id)!].map((d) => done.get(d)!);
      const last = deps.reduce<ScheduledResource | undefined>((a, b) => (!a || b.end > a.end ? b : a), undefined);
      const start = last?.end ?? 0;
      const type = t.Resources[id].Type;
      done.set(id, { id, type, start, end: start + minutes(type, id), waitedOn: last?.id });
      pending.delete(id);
    }
  }
  return [...done.values()].sort((a, b) => a.start - b.start || a.id.localeCompare(b.id));
}

/** One shortest chain of dependencies from `from` to `to` (both included), or undefined when `from` does not wait for `to`. */
export function dependencyPath(t: CfnTemplate, from: string, to: string, graph: Map<string, Set<string>> = dependencyGraph(t)): string[] | undefined {
  const parent = new Map<string, string>([[from, from]]);
  const queue = [from];
  while (queue.length) {
    const id = queue.shift()!;
    if (id === to) {
      const path = [to];
      while (path[0] !== from) path.unshift(parent.get(path[0])!);
      return path;
    }
    for (const d of graph.get(id) ?? []) {
      if (!parent.has(d)) {
        parent.set(d, id);
        queue.push(d);
      }
    }
  }
  return undefined;
}
