import { Token } from 'aws-cdk-lib';
import { Defaults } from '../defaults';
import { Problem } from '../errors';
import { defaultAppModule } from '../project/checks';
import { ProjectLayout } from '../project/layout';
import { Proxy, ProxyKind } from '../proxy/proxy';
import { proxySidecarProblems } from '../proxy/sidecar';
import { MANAGED_ENV_NAMES, SettingsEnv } from '../settings';
import { StaticFiles, StaticFilesMode } from '../static-files';
import { AppServerSpec, DjangoServiceBaseProps, LeafDefaults, ServerContext } from './service-props';
import { fargateSizeProblems, secondsOf, wholeSecondsProblem } from './validation';

/** The base props with every default applied, in plain numbers. */
export interface ResolvedService {
  readonly proxy: Proxy;
  readonly hasProxy: boolean;
  readonly staticFiles: StaticFiles;
  readonly cpu: number;
  readonly memoryLimitMiB: number;
  readonly idleTimeoutSeconds: number;
  readonly workerTimeoutSeconds: number;
  readonly healthCheckPath: string;
  readonly healthIntervalSeconds: number;
  readonly healthTimeoutSeconds: number;
  readonly gracePeriodSeconds: number;
  readonly deregistrationDelaySeconds: number;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly targetCpuUtilization: number;
  readonly appPort: number;
}

export function resolveService(props: DjangoServiceBaseProps, defaults: LeafDefaults): ResolvedService {
  const proxy = props.proxy ?? Proxy.nginx();
  const minCapacity = props.minCapacity ?? defaults.minCapacity;
  return {
    proxy,
    hasProxy: proxy.kind !== ProxyKind.NONE,
    staticFiles: props.staticFiles ?? StaticFiles.appServed(),
    cpu: props.cpu ?? 512,
    memoryLimitMiB: props.memoryLimitMiB ?? 1024,
    idleTimeoutSeconds: secondsOf(props.idleTimeout, defaults.idleTimeoutSeconds),
    workerTimeoutSeconds: secondsOf(props.workerTimeout, Defaults.workerTimeout),
    healthCheckPath: props.healthCheckPath ?? Defaults.healthCheckPath,
    healthIntervalSeconds: secondsOf(props.healthCheckInterval, 15),
    healthTimeoutSeconds: secondsOf(props.healthCheckTimeout, 5),
    gracePeriodSeconds: secondsOf(props.healthCheckGracePeriod, 60),
    deregistrationDelaySeconds: secondsOf(props.deregistrationDelay, Defaults.deregistrationDelay),
    minCapacity,
    maxCapacity: props.maxCapacity ?? (props.minCapacity === undefined ? defaults.maxCapacity : undefined) ?? 4 * minCapacity,
    targetCpuUtilization: props.targetCpuUtilization ?? 60,
    appPort: Defaults.appPort,
  };
}

/** What the server leaf is told about where it runs. */
export function serverContextOf(r: ResolvedService, project?: ProjectLayout): ServerContext {
  return {
    defaultWsgiModule: defaultAppModule('wsgi', project),
    defaultAsgiModule: defaultAppModule('asgi', project),
    vcpu: r.cpu / 1024,
    memoryLimitMiB: r.memoryLimitMiB,
    proxyKind: r.proxy.kind,
    facingLoadBalancer: !r.hasProxy,
    // Behind the proxy only the task itself reaches the app server.
    bindHost: r.hasProxy ? '127.0.0.1' : '0.0.0.0',
    port: r.appPort,
    idleTimeoutSeconds: r.idleTimeoutSeconds,
    workerTimeoutSeconds: r.workerTimeoutSeconds,
  };
}

/** The app container's stop timeout: the server's graceful timeout plus time to exit. */
export function appStopTimeoutSeconds(props: DjangoServiceBaseProps, server: AppServerSpec): number {
  return secondsOf(props.stopTimeout, server.gracefulStopSeconds + 10);
}

const VALID_ALLOWED_HOST = /^(\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|\d{1,3}(\.\d{1,3}){3})$/;

function listenerProblems(props: DjangoServiceBaseProps): Problem[] {
  const problems: Problem[] = [];
  const priority = props.listenerRulePriority;
  if (props.listener && props.loadBalancer) {
    problems.push({ prop: 'listener', message: 'give either an existing listener or an existing loadBalancer, not both' });
  }
  if (props.waf && props.webAclArn !== undefined) {
    problems.push({ prop: 'webAclArn', message: 'give either waf: true (a new web ACL) or webAclArn (an existing one), not both' });
  }
  const acl = props.webAclArn;
  if (acl !== undefined && !Token.isUnresolved(acl) && !/^arn:aws[\w-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/[\w-]+\/[\w-]+$/.test(acl)) {
    problems.push({ prop: 'webAclArn', message: `'${acl}' is not the ARN of a regional WAFv2 web ACL (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>); a load balancer takes only a REGIONAL one` });
  }
  for (const prop of ['waf', 'webAclArn'] as const) {
    if ((prop === 'waf' ? props.waf : props.webAclArn !== undefined) && (props.listener || props.loadBalancer)) {
      problems.push({ prop, message: `applies to the load balancer created here; with an existing ${props.listener ? 'listener' : 'loadBalancer'}, associate the web ACL with that load balancer where it is defined` });
    }
  }
  if (props.listener && props.certificate) {
    problems.push({ prop: 'certificate', message: 'an existing listener already has its certificates; remove certificate or give loadBalancer instead of listener' });
  }
  if (props.listener && (props.domainNames ?? []).length === 0) {
    problems.push({ prop: 'domainNames', message: 'an existing listener is shared, so the service needs host names for its host-header rule' });
  }
  if (props.listener && priority === undefined) {
    problems.push({ prop: 'listenerRulePriority', message: 'required with an existing listener: pick a priority (1-50000) no other rule on it uses' });
  }
  if (priority !== undefined && !props.listener) {
    problems.push({ prop: 'listenerRulePriority', message: 'only applies to an existing listener; remove it or give listener' });
  }
  const paths = props.listenerPathPatterns;
  if (paths !== undefined && !props.listener) {
    problems.push({ prop: 'listenerPathPatterns', message: 'only applies to an existing listener; remove it or give listener' });
  }
  for (const p of paths ?? []) {
    if (!/^\/[\w.~!$&*+,;=:@/?-]*$/.test(p) || p.length > 128) {
      problems.push({ prop: 'listenerPathPatterns', message: `must be ALB path patterns like '/ws/*' (up to 128 characters), got '${p}'` });
    }
  }
  // An ALB rule evaluates at most 5 condition values (host names and paths together).
  const values = (props.domainNames ?? []).length + (paths ?? []).length;
  if (props.listener && values > 5) {
    problems.push({ prop: 'listenerPathPatterns', message: `a listener rule matches at most 5 host names and path patterns together, got ${values}; use fewer, or a wildcard name like '.example.com'` });
  }
  if (priority !== undefined && (!Number.isInteger(priority) || priority < 1 || priority > 50000)) {
    problems.push({ prop: 'listenerRulePriority', message: `must be a whole number from 1 to 50000, got ${priority}` });
  }
  return problems;
}

export function settingsProblems(props: Pick<DjangoServiceBaseProps, 'domainNames' | 'environment' | 'secrets'>): Problem[] {
  const problems: Problem[] = [];
  for (const d of props.domainNames ?? []) {
    if (!Token.isUnresolved(d) && !VALID_ALLOWED_HOST.test(d)) {
      problems.push({ prop: 'domainNames', message: `'${d}' is not a host name Django's ALLOWED_HOSTS and the proxy can both match (use 'example.com' or '.example.com'; '*' would disable Host validation)` });
    }
  }
  for (const name of [...Object.keys(props.environment ?? {}), ...Object.keys(props.secrets ?? {})]) {
    if (name === SettingsEnv.DEBUG) {
      problems.push({ prop: props.secrets?.[name] ? 'secrets' : 'environment', message: `${name} is set by the construct, always to false: a deployed site never runs with DEBUG on; remove it` });
    } else if (MANAGED_ENV_NAMES.includes(name)) {
      problems.push({ prop: props.secrets?.[name] ? 'secrets' : 'environment', message: `${name} is set by the construct; use the matching prop (settingsModule, domainNames, secretKey, staticFiles) instead` });
    }
  }
  for (const name of Object.keys(props.environment ?? {})) {
    if (props.secrets?.[name]) {
      problems.push({ prop: 'environment', message: `${name} is in both environment and secrets; keep it in one` });
    }
  }
  return problems;
}

function healthAndDeployProblems(props: DjangoServiceBaseProps, r: ResolvedService, server: AppServerSpec): Problem[] {
  const problems: Problem[] = [
    ...wholeSecondsProblem('healthCheckInterval', r.healthIntervalSeconds, 5, 300),
    ...wholeSecondsProblem('healthCheckTimeout', r.healthTimeoutSeconds, 2, 120),
    ...wholeSecondsProblem('healthCheckGracePeriod', r.gracePeriodSeconds, 0, 2147483647),
    ...wholeSecondsProblem('deregistrationDelay', r.deregistrationDelaySeconds, 0, 3600),
  ];
  if (!/^\/[^\s;{}?#'"]*$/.test(r.healthCheckPath)) {
    problems.push({ prop: 'healthCheckPath', message: `must be a URL path starting with '/', got '${r.healthCheckPath}'` });
  }
  if (r.healthTimeoutSeconds >= r.healthIntervalSeconds) {
    problems.push({ prop: 'healthCheckTimeout', message: `(${r.healthTimeoutSeconds} s) must be shorter than healthCheckInterval (${r.healthIntervalSeconds} s)` });
  }
  const stop = appStopTimeoutSeconds(props, server);
  problems.push(...wholeSecondsProblem('stopTimeout', stop, 2, Defaults.maxStopTimeout).map((p) => ({
    ...p, message: `${p.message} (ECS allows at most ${Defaults.maxStopTimeout})`,
  })));
  if (stop <= server.gracefulStopSeconds) {
    problems.push({ prop: 'stopTimeout', message: `(${stop} s) must be longer than the server's graceful timeout (${server.gracefulStopSeconds} s), or ECS kills requests still being served` });
  }
  if (!Number.isInteger(r.minCapacity) || r.minCapacity < 1) {
    problems.push({ prop: 'minCapacity', message: `must be a whole number >= 1, got ${r.minCapacity}` });
  }
  if (!Number.isInteger(r.maxCapacity) || r.maxCapacity < r.minCapacity) {
    problems.push({ prop: 'maxCapacity', message: `must be a whole number >= minCapacity (${r.minCapacity}), got ${r.maxCapacity}` });
  }
  if (!(r.targetCpuUtilization >= 10 && r.targetCpuUtilization <= 90)) {
    problems.push({ prop: 'targetCpuUtilization', message: `must be 10-90 percent, got ${r.targetCpuUtilization}` });
  }
  return problems;
}

function timeoutProblems(r: ResolvedService, server: AppServerSpec): Problem[] {
  const problems: Problem[] = [
    ...wholeSecondsProblem('idleTimeout', r.idleTimeoutSeconds, 1, 4000),
    ...wholeSecondsProblem('workerTimeout', r.workerTimeoutSeconds, 1, 3600),
  ];
  if (r.workerTimeoutSeconds >= r.idleTimeoutSeconds) {
    problems.push({ prop: 'workerTimeout', message: `(${r.workerTimeoutSeconds} s) must be shorter than the load balancer idle timeout (${r.idleTimeoutSeconds} s), or the ALB gives up first and answers 504` });
  }
  if (server.keepAliveSeconds !== undefined && !r.hasProxy && server.keepAliveSeconds <= r.idleTimeoutSeconds) {
    problems.push({ prop: server.keepAliveProp ?? 'keepAlive', message: `(${server.keepAliveSeconds} s) must be longer than the load balancer idle timeout (${r.idleTimeoutSeconds} s) when the server faces the ALB, or the ALB reuses connections the server has closed (random 502s)` });
  }
  return problems;
}

function frontendProblems(r: ResolvedService): Problem[] {
  const problems: Problem[] = [];
  if (!r.hasProxy && r.staticFiles.mode === StaticFilesMode.FROM_IMAGE) {
    problems.push({ prop: 'staticFiles', message: 'StaticFiles.fromImage() needs a proxy to serve the files; use Proxy.nginx() or StaticFiles.appServed() (WhiteNoise)' });
  }
  const url = r.staticFiles.urlPath;
  if (r.staticFiles.mode === StaticFilesMode.EXTERNAL && !Token.isUnresolved(url) && !/^https?:\/\/[^\s/]+\/(\S*\/)?$/.test(url!)) {
    problems.push({ prop: 'staticFiles', message: `StaticFiles.fromUrl() needs a full URL ending in '/', like 'https://cdn.example.com/static/', got '${url}'` });
  }
  const dir = r.staticFiles.directory;
  if (dir !== undefined && !/^\/[^\s'"]*$/.test(dir)) {
    problems.push({ prop: 'staticFiles', message: `the directory must be an absolute path in the image (STATIC_ROOT), got '${dir}'` });
  }
  if (r.hasProxy) {
    problems.push(...proxySidecarProblems(r.proxy.options, {
      workerTimeoutSeconds: r.workerTimeoutSeconds,
      idleTimeoutSeconds: r.idleTimeoutSeconds,
      taskCpu: r.cpu,
      taskMemoryMiB: r.memoryLimitMiB,
    }));
  }
  return problems;
}

function websocketProblems(server: AppServerSpec): Problem[] {
  return (server.websocketPaths ?? [])
    .filter((path) => !/^\/[^\s;{}'"<>]*$/.test(path))
    .map((path) => ({ prop: 'websocketPaths', message: `must be URL paths starting with '/', like '/ws/', got '${path}'` }));
}

/** Every problem with the props, each naming its prop; empty when the service can be built. */
export function serviceProblems(props: DjangoServiceBaseProps, r: ResolvedService, server: AppServerSpec): Problem[] {
  return [
    ...websocketProblems(server),
    ...server.problems,
    ...fargateSizeProblems(r.cpu, r.memoryLimitMiB),
    ...listenerProblems(props),
    ...settingsProblems(props),
    ...timeoutProblems(r, server),
    ...healthAndDeployProblems(props, r, server),
    ...frontendProblems(r),
  ];
}
