/**
 * Checks over a synthesized template's one-off commands: the migrations run a single-container task
 * definition that no service runs, with the service's image, settings and roles; and the RunTaskCommand
 * output names the template's own cluster, task definition, subnets and security groups. Each returns
 * offenders as `shape/LogicalId: what is wrong`; none means the check passed.
 */
import { CfnTemplate, Shape, refId, resourcesOfType } from './template-checks';

const j = (v: unknown) => JSON.stringify(v ?? null);

/** The task definitions the ECS services run, by logical id. */
function serviceTaskDefinitions(t: CfnTemplate): Map<string, any> {
  return new Map(resourcesOfType(t, 'AWS::ECS::Service').map(([, s]) => [refId(s.Properties.TaskDefinition)!, s]));
}

/** The service whose app container has the same image and environment as `container` (its origin). */
function originOf(t: CfnTemplate, container: any): [string, any] | undefined {
  for (const [tdId, service] of serviceTaskDefinitions(t)) {
    const app = t.Resources[tdId].Properties.ContainerDefinitions.find((c: any) => c.Name === container.Name);
    if (app && j(app.Image) === j(container.Image) && j(app.Environment) === j(container.Environment)) return [tdId, service];
  }
  return undefined;
}

/**
 * Each migrations run names a task definition no service runs, holding only the app container (no port,
 * no health check), with a service's image, environment, secrets and task and execution roles.
 */
export function migrationsTaskProblems(shape: Shape): string[] {
  const t = shape.template;
  const services = serviceTaskDefinitions(t);
  return resourcesOfType(t, 'Custom::DjangoMigrations').flatMap(([id, m]) => {
    const at = `${shape.name}/${id}`;
    const tdId = refId(m.Properties.TaskDefinitionArn);
    const td = tdId ? t.Resources[tdId] : undefined;
    if (!td) return [`${at}: TaskDefinitionArn names no task definition of the template`];
    if (services.has(tdId!)) return [`${at}: runs ${tdId}, the task definition of a service (with its proxy and server), not a one-off task`];
    const containers: any[] = td.Properties.ContainerDefinitions;
    const problems: string[] = [];
    if (containers.length !== 1) problems.push(`${at}: ${tdId} has ${containers.length} containers (${containers.map((c) => c.Name).join(', ')}), not the app alone`);
    const c = containers.find((x) => x.Name === m.Properties.ContainerName);
    if (!c) return [...problems, `${at}: ${tdId} has no container ${m.Properties.ContainerName}`];
    if (c.PortMappings || c.HealthCheck) problems.push(`${at}: ${tdId}/${c.Name} has a port or a health check, as a server would`);
    const origin = originOf(t, c);
    if (!origin) return [...problems, `${at}: ${tdId}/${c.Name} has the image and environment of no service's app container`];
    const web = t.Resources[origin[0]];
    const webApp = web.Properties.ContainerDefinitions.find((x: any) => x.Name === c.Name);
    if (j(webApp.Secrets) !== j(c.Secrets)) problems.push(`${at}: ${tdId}/${c.Name} has other secrets than ${origin[0]}`);
    for (const role of ['TaskRoleArn', 'ExecutionRoleArn']) {
      if (j(web.Properties[role]) !== j(td.Properties[role])) problems.push(`${at}: ${tdId} has another ${role} than ${origin[0]}`);
    }
    if (m.Properties.LogStreamPrefix !== c.LogConfiguration?.Options?.['awslogs-stream-prefix']) {
      problems.push(`${at}: LogStreamPrefix ${m.Properties.LogStreamPrefix} is not the container's stream prefix`);
    }
    return problems;
  });
}

/** The parts of an output value: one string, or the literal and reference parts of its Fn::Join. */
function joinParts(value: any): any[] {
  if (typeof value === 'string') return [value];
  const join = value?.['Fn::Join'];
  if (!Array.isArray(join) || join[0] !== '') return [value];
  return join[1];
}

/** The argument after `flag` in the parts, as the parts that make it up (up to the next ' --'). */
function argumentParts(parts: any[], flag: string): any[] | undefined {
  const out: any[] = [];
  let inside = false;
  for (const p of parts) {
    if (typeof p !== 'string') {
      if (inside) out.push(p);
      continue;
    }
    let text = p;
    if (!inside) {
      const at = text.indexOf(`${flag} `);
      if (at < 0) continue;
      inside = true;
      text = text.slice(at + flag.length + 1);
    }
    const end = text.indexOf(' --');
    if (end >= 0) {
      if (text.slice(0, end)) out.push(text.slice(0, end));
      return out;
    }
    if (text) out.push(text);
  }
  return inside ? out : undefined;
}

/** References among parts, as canonical JSON. */
const refsOf = (parts: any[] | undefined) => (parts ?? []).filter((p) => typeof p !== 'string').map(j);

/**
 * Every RunTaskCommand output runs a one-off task definition of the template on the cluster, subnets and
 * security groups of the service whose app it runs, on Fargate, with an overrides JSON that parses and names
 * that task's container.
 */
export function runTaskOutputProblems(shape: Shape): string[] {
  const t = shape.template;
  const outputs = Object.entries<any>(t.Outputs ?? {}).filter(([id]) => /RunTaskCommand/.test(id));
  return outputs.flatMap(([id, o]) => {
    const at = `${shape.name}/${id}`;
    const parts = joinParts(o.Value);
    if (typeof parts[0] !== 'string' || !parts[0].startsWith('aws ecs run-task ')) return [`${at}: is not an aws ecs run-task command`];
    const problems: string[] = [];
    const td = argumentParts(parts, '--task-definition');
    const tdId = td?.length === 1 ? refId(td[0]) : undefined;
    const taskDefinition = tdId ? t.Resources[tdId] : undefined;
    if (taskDefinition?.Type !== 'AWS::ECS::TaskDefinition') return [`${at}: --task-definition is not a reference to a task definition of the template`];
    if (serviceTaskDefinitions(t).has(tdId!)) return [`${at}: --task-definition ${tdId} is a service's task definition (with its proxy and server), not a one-off task`];
    const container = taskDefinition.Properties.ContainerDefinitions[0];
    const origin = originOf(t, container);
    if (!origin) return [`${at}: ${tdId} runs no service's app container`];
    const service = origin[1].Properties;
    const network = service.NetworkConfiguration.AwsvpcConfiguration;
    if (j(argumentParts(parts, '--cluster')) !== j([service.Cluster])) problems.push(`${at}: --cluster is not the cluster of the service (${j(service.Cluster)})`);
    const config = argumentParts(parts, '--network-configuration') ?? [];
    const text = config.map((p) => (typeof p === 'string' ? p : '<ref>')).join('');
    if (!/^'awsvpcConfiguration=\{subnets=\[[^\]]*\],securityGroups=\[[^\]]*\],assignPublicIp=DISABLED\}'$/.test(text)) {
      problems.push(`${at}: --network-configuration is not the single-quoted shorthand with subnets, securityGroups and no public IP: ${text}`);
    }
    const sgAt = config.findIndex((p) => typeof p === 'string' && p.includes('securityGroups=['));
    const subnets = refsOf(config.slice(0, sgAt));
    const groups = refsOf(config.slice(sgAt));
    if (j(subnets) !== j(network.Subnets.map(j))) problems.push(`${at}: subnets ${subnets.join(',')} are not the service's ${network.Subnets.map(j).join(',')}`);
    if (j(groups) !== j(network.SecurityGroups.map(j))) problems.push(`${at}: security groups ${groups.join(',')} are not the service's ${network.SecurityGroups.map(j).join(',')}`);
    if (j(argumentParts(parts, '--launch-type')) !== j(['FARGATE'])) problems.push(`${at}: --launch-type is not FARGATE`);
    const overrides = argumentParts(parts, '--overrides');
    const json = overrides?.length === 1 && typeof overrides[0] === 'string' ? overrides[0].replace(/^'(.*)'$/, '$1') : undefined;
    let parsed: any;
    try {
      parsed = json === undefined || json === overrides?.[0] ? undefined : JSON.parse(json);
    } catch {
      parsed = undefined;
    }
    const override = parsed?.containerOverrides?.[0];
    if (!override || override.name !== container.Name || !Array.isArray(override.command) || override.command.length === 0) {
      problems.push(`${at}: --overrides is not single-quoted JSON overriding the command of ${container.Name}: ${j(overrides)}`);
    }
    return problems;
  });
}
