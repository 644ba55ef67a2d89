/**
 * What a native ECS traffic shift (BLUE_GREEN, LINEAR, CANARY) needs in a template, read from plain
 * template JSON: each check returns what is missing, so the tests can show it empty for a good template
 * and naming the fault for a deliberately broken copy.
 */
import { CfnResource, CfnTemplate, refId, resourcesOfType } from './template-checks';

const TG = 'AWS::ElasticLoadBalancingV2::TargetGroup';
const RULE = 'AWS::ElasticLoadBalancingV2::ListenerRule';
const LISTENER = 'AWS::ElasticLoadBalancingV2::Listener';
const INFRA_POLICY = 'AmazonECSInfrastructureRolePolicyForLoadBalancers';

/** The one ECS service with a load balancer. */
function serviceOf(t: CfnTemplate): CfnResource {
  const services = resourcesOfType(t, 'AWS::ECS::Service').filter(([, s]) => s.Properties.LoadBalancers);
  if (services.length !== 1) throw new Error(`expected one load-balanced service, found ${services.length}`);
  return services[0][1];
}

/** Forward weights of a rule by target group logical id. */
function weights(rule: CfnResource): Record<string, number> {
  const groups = rule.Properties.Actions?.[0]?.ForwardConfig?.TargetGroups ?? [];
  return Object.fromEntries(groups.map((g: any) => [refId(g.TargetGroupArn), g.Weight]));
}

/** Problems of the two target groups and the rules ECS shifts: primary 100, alternate 0, on the right listeners. */
export function trafficShiftProblems(t: CfnTemplate): string[] {
  const problems: string[] = [];
  const service = serviceOf(t);
  const strategy = service.Properties.DeploymentConfiguration?.Strategy;
  if (!['BLUE_GREEN', 'LINEAR', 'CANARY'].includes(strategy)) problems.push(`strategy is ${strategy}, not a traffic shift`);
  const lb = service.Properties.LoadBalancers[0];
  const advanced = lb.AdvancedConfiguration;
  if (!advanced) return [...problems, 'the service has no AdvancedConfiguration'];
  const primary = refId(lb.TargetGroupArn)!;
  const alternate = refId(advanced.AlternateTargetGroupArn);
  if (!alternate || alternate === primary || t.Resources[alternate]?.Type !== TG) {problems.push('no second target group');} else {
    const { Name: _a, ...p } = t.Resources[primary].Properties;
    const { Name: _b, ...a } = t.Resources[alternate].Properties;
    if (JSON.stringify(p) !== JSON.stringify(a)) problems.push('the two target groups differ (port or health check)');
  }
  for (const [key, wantListener] of [['ProductionListenerRule', 'production'], ['TestListenerRule', 'test']] as const) {
    const ruleId = refId(advanced[key]);
    const rule = ruleId ? t.Resources[ruleId] : undefined;
    if (!rule || rule.Type !== RULE) {
      problems.push(`${key} is not a listener rule of this template`);
      continue;
    }
    const w = weights(rule);
    if (w[primary] !== 100 || w[alternate!] !== 0 || Object.keys(w).length !== 2) {
      problems.push(`${key} forwards ${JSON.stringify(w)}, not 100 to the primary and 0 to the alternate group`);
    }
    const listener = t.Resources[refId(rule.Properties.ListenerArn)!];
    const defaults = listener?.Properties.DefaultActions ?? [];
    if (defaults.length !== 1 || defaults[0].Type !== 'forward' || refId(defaults[0].TargetGroupArn) !== primary) {
      problems.push(`the ${wantListener} listener's default action is not a forward to the primary group`);
    }
    const paths = rule.Properties.Conditions?.find((c: any) => c.Field === 'path-pattern')?.PathPatternConfig?.Values;
    if (JSON.stringify(paths) !== JSON.stringify(['/*'])) problems.push(`${key} does not match every path`);
  }
  const testRule = t.Resources[refId(advanced.TestListenerRule) ?? ''];
  const prodRule = t.Resources[refId(advanced.ProductionListenerRule) ?? ''];
  if (testRule && prodRule && refId(testRule.Properties.ListenerArn) === refId(prodRule.Properties.ListenerArn)) {
    problems.push('the test rule is on the production listener');
  }
  return problems;
}

/** Problems of the role ECS shifts traffic with. */
export function infrastructureRoleProblems(t: CfnTemplate): string[] {
  const advanced = serviceOf(t).Properties.LoadBalancers[0].AdvancedConfiguration;
  const role = t.Resources[refId(advanced?.RoleArn) ?? ''];
  if (!role || role.Type !== 'AWS::IAM::Role') return ['AdvancedConfiguration.RoleArn is not a role of this template'];
  const problems: string[] = [];
  const principals = role.Properties.AssumeRolePolicyDocument.Statement.map((s: any) => s.Principal?.Service);
  if (JSON.stringify(principals) !== JSON.stringify(['ecs.amazonaws.com'])) problems.push(`the role trusts ${JSON.stringify(principals)}, not ecs.amazonaws.com alone`);
  const managed = JSON.stringify(role.Properties.ManagedPolicyArns ?? []);
  if (!managed.includes(`:iam::aws:policy/${INFRA_POLICY}"`)) problems.push(`the role lacks ${INFRA_POLICY}`);
  return problems;
}

/** Problems of the test listener: its port, and that nobody but the given sources reaches it. */
export function testListenerProblems(t: CfnTemplate, port: number, allowedCidrs: string[] = []): string[] {
  const listeners = resourcesOfType(t, LISTENER).filter(([, l]) => l.Properties.Port === port);
  if (listeners.length !== 1) return [`no listener on port ${port}`];
  const problems: string[] = [];
  const ingress = [
    ...resourcesOfType(t, 'AWS::EC2::SecurityGroup').flatMap(([, g]) => g.Properties.SecurityGroupIngress ?? []),
    ...resourcesOfType(t, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties),
  ].filter((r: any) => r.FromPort <= port && r.ToPort >= port);
  for (const rule of ingress) {
    if (rule.CidrIp !== undefined && !allowedCidrs.includes(rule.CidrIp)) problems.push(`port ${port} is open to ${rule.CidrIp}`);
    if (rule.CidrIpv6 !== undefined) problems.push(`port ${port} is open to ${rule.CidrIpv6}`);
  }
  return problems;
}

/**
 * Problems of the alarm rollback: the deployment alarms are on with rollback, and each names an alarm
 * whose metrics cover every target group the service serves from.
 */
export function alarmRollbackProblems(t: CfnTemplate): string[] {
  const service = serviceOf(t);
  const alarms = service.Properties.DeploymentConfiguration?.Alarms;
  if (!alarms || alarms.Enable !== true || alarms.Rollback !== true) return [`deployment alarms are ${JSON.stringify(alarms)}, not enabled with rollback`];
  const lb = service.Properties.LoadBalancers[0];
  const groups = [refId(lb.TargetGroupArn), refId(lb.AdvancedConfiguration?.AlternateTargetGroupArn)].filter((g): g is string => g !== undefined);
  const problems: string[] = [];
  if (alarms.AlarmNames.length === 0) problems.push('no deployment alarm');
  for (const name of alarms.AlarmNames) {
    const alarm = t.Resources[refId(name) ?? ''];
    if (alarm?.Type !== 'AWS::CloudWatch::Alarm') {
      problems.push(`deployment alarm ${JSON.stringify(name)} is not an alarm of this template`);
      continue;
    }
    const text = JSON.stringify(alarm.Properties.Metrics ?? alarm.Properties);
    for (const g of groups) {
      if (!text.includes(`"${g}"`)) problems.push(`deployment alarm ${refId(name)} does not count target group ${g}`);
    }
  }
  return problems;
}
