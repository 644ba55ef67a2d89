import { Duration, Size, SizeRoundingBehavior } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Defaults } from '../defaults';
import { Problem } from '../problems';
import { ReverseProxyKind, ReverseProxyOptions } from './reverse-proxy';
import { apacheStartScript, renderApacheConf } from '../proxy/apache';
import { nginxStartScript, renderNginxConf, StaticFilesLocation, UpstreamProtocol } from '../proxy/nginx';
import { hostMatching } from '../settings';
import { StaticFiles, StaticFilesMode } from '../static-files';

/** The stock images; the config arrives through an environment variable, nothing is built. */
export const DEFAULT_NGINX_IMAGE = 'public.ecr.aws/docker/library/nginx:1.28-alpine';
export const DEFAULT_APACHE_IMAGE = 'public.ecr.aws/docker/library/httpd:2.4-alpine';
/** Writable directory for the proxy's config, pid and temp files (an empty task volume). */
export const PROXY_RUN_DIR = '/tmp/proxy';
export const NGINX_CONF_ENV = 'CDK_DJANGO_NGINX_CONF';
export const APACHE_CONF_ENV = 'CDK_DJANGO_HTTPD_CONF';

export interface SidecarLimits {
  readonly workerTimeoutSeconds: number;
  readonly idleTimeoutSeconds: number;
  readonly taskCpu: number;
  readonly taskMemoryMiB: number;
}

/** The proxy's read timeout: the worker timeout + 5 s unless set. */
export function proxyReadTimeoutSeconds(options: ReverseProxyOptions, workerTimeoutSeconds: number): number {
  return options.readTimeout ? options.readTimeout.toMilliseconds() / 1000 : workerTimeoutSeconds + Defaults.proxyReadTimeoutMargin;
}

export function bodyLimitKiB(size: Size | undefined): number {
  return size ? size.toKibibytes({ rounding: SizeRoundingBehavior.NONE }) : Defaults.clientMaxBodySizeKiB;
}

/** nginx size syntax for a byte size: whole MiB as `Nm`, else whole KiB as `Nk`. */
export function nginxSize(size: Size | undefined): string {
  const kib = bodyLimitKiB(size);
  return kib % 1024 === 0 ? `${kib / 1024}m` : `${kib}k`;
}

export function proxySidecarProblems(options: ReverseProxyOptions, t: SidecarLimits): Problem[] {
  const problems: Problem[] = [];
  const read = proxyReadTimeoutSeconds(options, t.workerTimeoutSeconds);
  if (!Number.isInteger(read) || read <= t.workerTimeoutSeconds || read >= t.idleTimeoutSeconds) {
    problems.push({
      prop: 'reverseProxy.readTimeout',
      message: `(${read} s) must be a whole number of seconds longer than workerTimeout (${t.workerTimeoutSeconds} s) and shorter than the load balancer idle timeout (${t.idleTimeoutSeconds} s)`,
    });
  }
  if (options.clientMaxBodySize) {
    let kib: number | undefined;
    try {
      kib = bodyLimitKiB(options.clientMaxBodySize);
    } catch {
      kib = undefined;
    }
    if (kib === undefined || !Number.isInteger(kib) || kib < 1) {
      problems.push({ prop: 'reverseProxy.clientMaxBodySize', message: 'must be a whole number of KiB >= 1, e.g. Size.mebibytes(10)' });
    }
  }
  const cpu = options.cpu ?? 128;
  if (!Number.isInteger(cpu) || cpu < 0 || cpu >= t.taskCpu) {
    problems.push({ prop: 'reverseProxy.cpu', message: `must be a whole number of CPU units below the task's ${t.taskCpu}, got ${cpu}` });
  }
  const mem = options.memoryReservationMiB ?? 128;
  if (!Number.isInteger(mem) || mem < 6 || mem >= t.taskMemoryMiB) {
    problems.push({ prop: 'reverseProxy.memoryReservationMiB', message: `must be a whole number of MiB from 6 to below the task's ${t.taskMemoryMiB}, got ${mem}` });
  }
  if (read + 5 > Defaults.maxStopTimeout) {
    problems.push({ prop: 'reverseProxy.readTimeout', message: `the proxy needs readTimeout + 5 s to stop gracefully and ECS allows at most ${Defaults.maxStopTimeout} s; lower readTimeout` });
  }
  return problems;
}

export interface ProxySidecarProps {
  readonly kind: ReverseProxyKind;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly appContainer: ecs.ContainerDefinition;
  readonly appImage: ecs.ContainerImage;
  readonly options: ReverseProxyOptions;
  readonly logGroup: logs.ILogGroup;
  readonly appAddress: string;
  readonly upstreamProtocol: UpstreamProtocol;
  /** How long the server keeps an idle connection from the proxy open; undefined: one connection per request. */
  readonly upstreamKeepAliveSeconds?: number;
  readonly websocketPaths: readonly string[];
  readonly websocketReadTimeoutSeconds: number;
  readonly serverNames: string[];
  readonly healthCheckPath: string;
  readonly idleTimeoutSeconds: number;
  readonly workerTimeoutSeconds: number;
  readonly staticFiles: StaticFiles;
}

export interface ProxySidecar {
  readonly container: ecs.ContainerDefinition;
  readonly port: number;
  readonly config: string;
}

/** Renders the proxy config and its start script for the chosen proxy. */
function renderProxy(p: ProxySidecarProps, staticFiles: StaticFilesLocation | undefined) {
  // What both proxies share: the same policy, rendered in each one's syntax.
  const common = {
    listenPort: Defaults.proxyPort,
    upstreamProtocol: p.upstreamProtocol,
    upstreamAddress: p.appAddress,
    websocketPaths: p.websocketPaths,
    websocketReadTimeoutSeconds: p.websocketReadTimeoutSeconds,
    serverNames: p.serverNames,
    healthCheckHost: hostMatching(p.serverNames[0]),
    healthCheckPath: p.healthCheckPath,
    keepAliveTimeoutSeconds: p.idleTimeoutSeconds + Defaults.proxyKeepAliveMargin,
    readTimeoutSeconds: proxyReadTimeoutSeconds(p.options, p.workerTimeoutSeconds),
    staticFiles,
    runDir: PROXY_RUN_DIR,
  };
  if (p.kind === ReverseProxyKind.APACHE) {
    return {
      image: DEFAULT_APACHE_IMAGE,
      envVar: APACHE_CONF_ENV,
      script: apacheStartScript(APACHE_CONF_ENV, PROXY_RUN_DIR),
      config: renderApacheConf({ ...common, clientMaxBodyBytes: bodyLimitKiB(p.options.clientMaxBodySize) * 1024 }),
    };
  }
  return {
    image: DEFAULT_NGINX_IMAGE,
    envVar: NGINX_CONF_ENV,
    script: nginxStartScript(NGINX_CONF_ENV, PROXY_RUN_DIR),
    config: renderNginxConf({ ...common, upstreamKeepAliveSeconds: p.upstreamKeepAliveSeconds, clientMaxBodySize: nginxSize(p.options.clientMaxBodySize), mimeTypesPath: '/etc/nginx/mime.types' }),
  };
}

/**
 * Adds the proxy sidecar (and, for StaticFiles.fromImage, the init container that copies the
 * collected static files from the app image into a shared volume).
 */
export function addProxySidecar(p: ProxySidecarProps): ProxySidecar {
  const read = proxyReadTimeoutSeconds(p.options, p.workerTimeoutSeconds);
  const fromImage = p.staticFiles.mode === StaticFilesMode.FROM_IMAGE;
  const rendered = renderProxy(p, fromImage ? {
    urlPath: p.staticFiles.urlPath!,
    root: Defaults.staticMountPath,
    maxAgeSeconds: p.staticFiles.maxAge!.toSeconds(),
  } : undefined);

  p.taskDefinition.addVolume({ name: 'proxy-run' });
  const name = p.kind === ReverseProxyKind.APACHE ? 'apache' : 'nginx';
  const container = p.taskDefinition.addContainer(name, {
    image: p.options.image ?? ecs.ContainerImage.fromRegistry(rendered.image),
    entryPoint: ['sh', '-c'],
    command: [rendered.script],
    environment: { [rendered.envVar]: rendered.config },
    essential: true,
    cpu: p.options.cpu ?? 128,
    memoryReservationMiB: p.options.memoryReservationMiB ?? 128,
    portMappings: [{ containerPort: Defaults.proxyPort, name: 'http' }],
    logging: ecs.LogDrivers.awsLogs({ logGroup: p.logGroup, streamPrefix: name }),
    readonlyRootFilesystem: true,
    // In-flight requests may take the full read timeout to finish after the graceful stop.
    stopTimeout: Duration.seconds(read + 5),
  });
  container.addMountPoints({ sourceVolume: 'proxy-run', containerPath: PROXY_RUN_DIR, readOnly: false });
  // Start only once Django answers its health check; ECS stops containers in reverse order, so
  // the proxy drains before the app server gets its stop signal.
  container.addContainerDependencies({ container: p.appContainer, condition: ecs.ContainerDependencyCondition.HEALTHY });

  if (fromImage) {
    p.taskDefinition.addVolume({ name: 'static' });
    const init = p.taskDefinition.addContainer('static-init', {
      image: p.appImage,
      essential: false,
      entryPoint: ['python3', '-c'],
      command: [renderStaticCopyScript(p.staticFiles.directory!, Defaults.staticMountPath)],
      logging: ecs.LogDrivers.awsLogs({ logGroup: p.logGroup, streamPrefix: 'static-init' }),
      readonlyRootFilesystem: true,
    });
    init.addMountPoints({ sourceVolume: 'static', containerPath: Defaults.staticMountPath, readOnly: false });
    container.addMountPoints({ sourceVolume: 'static', containerPath: Defaults.staticMountPath, readOnly: true });
    container.addContainerDependencies({ container: init, condition: ecs.ContainerDependencyCondition.SUCCESS });
  }

  return { container, port: Defaults.proxyPort, config: rendered.config };
}

/**
 * Python (present in every Django image; `cp` may not be) that copies STATIC_ROOT into the shared
 * volume, failing loudly when the directory is missing (collectstatic did not run in the image).
 */
export function renderStaticCopyScript(source: string, target: string): string {
  return [
    'import os,shutil,sys',
    `s=${JSON.stringify(source)}`,
    'os.path.isdir(s) or sys.exit("static files: %s is not a directory in the image; run collectstatic in the Dockerfile" % s)',
    `shutil.copytree(s,${JSON.stringify(target)},dirs_exist_ok=True)`,
  ].join(';');
}
