/**
 * Checks over synthesized templates that cdk-nag and cfn-lint do not make: they relate values across
 * resources (container timeouts to target groups to the load balancer), read rendered configs out of
 * container environments, and compare deletion policies with the role of each resource.
 *
 * Every check collects offenders as `shape/LogicalId[/container]: what is wrong` and expects none, so
 * a failure names the resource. Stacks are built once, here at module scope (each synth costs seconds).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { DatabaseEngineKind, DjangoApp, DjangoAppProps, DjangoDaphneService, DjangoGunicornService, DjangoUwsgiService, Proxy } from '../src';
import { COMMERCIAL_REGIONS, REGIONS_CHECKED, commercialRegionCodes, elbAccounts, regionFacts } from '../src/regions';
import { deployGraphProblems } from './helpers/lifecycle-checks';
import { NAME_PROPERTIES, inRegion, physicalNameProblems, regionMapGaps, regionalFeatureGaps, vendedLogProblems } from './helpers/region-checks';
import {
  CfnTemplate, STATEFUL_TYPES, ServiceView, Shape, allContainers, deregistrationDelay, directiveNumber, ecsServices, envOf,
  flagNumber, identityStatements, isResolvedAtDeploy, literalText, loadBalancerIdleTimeout, looksGenerated, optionNumber,
  propertiesIn, proxyConf, resourcesOfType, role, secretReads, statefulTable, stringsIn, unpinnedSharedSecrets, uwsgiIni, deletionProtectionProblems,
} from './helpers/template-checks';

const IMAGE = ecs.ContainerImage.fromRegistry('example/mysite:1');

type Server = 'gunicorn' | 'uwsgi' | 'daphne';
type Frontend = 'nginx' | 'apache' | 'none';

function synth(name: string, build: (stack: Stack) => void): Shape {
  const stack = new Stack(new App(), name);
  build(stack);
  return { name, template: Template.fromStack(stack).toJSON() as CfnTemplate };
}

function service(server: Server, frontend: Frontend, image: ecs.ContainerImage = IMAGE) {
  return (stack: Stack) => {
    const proxy = frontend === 'nginx' ? Proxy.nginx() : frontend === 'apache' ? Proxy.apache() : Proxy.none();
    const props = { image, proxy, domainNames: ['example.com'] };
    switch (server) {
      case 'gunicorn': return new DjangoGunicornService(stack, 'Web', props);
      case 'uwsgi': return new DjangoUwsgiService(stack, 'Web', props);
      // A channel layer lets Daphne run more than one task, as in production.
      case 'daphne': return new DjangoDaphneService(stack, 'Web', { ...props, channelLayer: { redisUrl: 'rediss://r.example:6380/0' } });
    }
  };
}

function app(props: Partial<DjangoAppProps> = {}) {
  return (stack: Stack) => new DjangoApp(stack, 'Site', { image: IMAGE, ...props });
}

const SERVICE_SHAPES: Shape[] = [];
for (const s of ['gunicorn', 'uwsgi', 'daphne'] as Server[]) {
  for (const f of ['nginx', 'apache', 'none'] as Frontend[]) SERVICE_SHAPES.push(synth(`${s}-${f}`, service(s, f)));
}
const APP_SHAPES: Shape[] = [
  synth('app-simple', app()),
  synth('app-websockets', app({ requirements: { websockets: true } })),
  synth('app-full', (stack) => app({
    requirements: { websockets: true },
    database: {},
    staticSite: { media: true },
    alarms: { createTopic: true },
    certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:111111111111:certificate/abc'),
    domainNames: ['example.com', 'www.example.com'],
  })(stack)),
];
// An image from ECR: the execution role then needs ecr:GetAuthorizationToken, which has no resource.
const ECR_SHAPE = synth('gunicorn-ecr', (stack) => service('gunicorn', 'nginx',
  ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(stack, 'Repo', 'mysite'), '1.2.3'))(stack));
const SHAPES: Shape[] = [...SERVICE_SHAPES, ...APP_SHAPES, ECR_SHAPE];
const SERVICES: ServiceView[] = SHAPES.flatMap(ecsServices);

/** Offenders of a per-service check, each naming the service. */
function perService(check: (v: ServiceView) => Array<string | false | undefined>): string[] {
  return SERVICES.flatMap((v) => check(v).filter((p): p is string => typeof p === 'string').map((p) => `${v.name}: ${p}`));
}

test('the shapes cover every server x frontend and the DjangoApp shapes (guards the checks against vacuous passes)', () => {
  expect(SHAPES).toHaveLength(13);
  // 9 services, 1 + 2 + 2 in the apps, 1 with the ECR image.
  expect(SERVICES).toHaveLength(15);
  expect(SERVICES.filter((v) => v.proxy).map((v) => v.proxy.Name).sort()).toEqual([...Array(3).fill('apache'), ...Array(9).fill('nginx')]);
});

// ---------------------------------------------------------------------------------------------------
// 1. Timing nesting per ECS service
//
// The stop sequence of a task in a deploy or scale-in is: the target deregisters (the ALB sends no new
// requests and gives in-flight ones up to the deregistration delay), THEN ECS sends SIGTERM, stopping
// containers in reverse dependency order (the proxy, which depends on the app being HEALTHY, first),
// and SIGKILLs a container after its stopTimeout. Deregistration and stopTimeout are sequential, not
// nested, so no inequality between them is right: the stopTimeout must cover the server's own graceful
// shutdown after SIGTERM, and the deregistration delay must cover a request in flight when it starts.
// README "Production defaults": worker 30 s < proxy read 35 s < ALB idle 60 s; Nginx keepalive 65 s >
// ALB 60 s; Gunicorn --keep-alive 75 s facing the ALB; graceful 25 s / stopTimeout 35 s (Nginx 40 s),
// at most 120 s; deregistration delay 30 s; container health check timeout < interval.
// ---------------------------------------------------------------------------------------------------

/** ECS's ceiling for a container stopTimeout. */
const MAX_STOP_TIMEOUT = 120;
/** ECS's stopTimeout when a container does not set one. */
const ECS_DEFAULT_STOP_TIMEOUT = 30;
/** README: "target group deregistration delay | 30 s". */
const DOCUMENTED_DEREGISTRATION_DELAY = 30;
/** Daphne (Twisted) closes idle HTTP keep-alive connections after a fixed 60 s; not in the template. */
const DAPHNE_IDLE_CLOSE_SECONDS = 60;
/** Daphne checks for due pings every ~2 s, so a ping can come up to 2 s late. */
const DAPHNE_PING_LATENESS_SECONDS = 2;

function serverOf(v: ServiceView): Server {
  const argv0 = v.app.Command?.[0];
  if (argv0 === 'gunicorn' || argv0 === 'daphne') return argv0;
  if (uwsgiIni(v.app).includes('[uwsgi]')) return 'uwsgi';
  throw new Error(`${v.name}: cannot tell the app server from ${JSON.stringify(v.app.Command)}`);
}

function stopTimeout(container: any): number {
  return container.StopTimeout ?? ECS_DEFAULT_STOP_TIMEOUT;
}

/** How long the app server may take after SIGTERM before it has exited, read from its rendered config. */
function appGracefulSeconds(v: ServiceView): number | undefined {
  switch (serverOf(v)) {
    case 'gunicorn': return flagNumber(v.app.Command, 'graceful-timeout');
    // The master waits worker-reload-mercy for workers to finish their requests (die-on-term + gracefully_kill_them_all).
    case 'uwsgi': return directiveNumber(uwsgiIni(v.app), /^worker-reload-mercy = (\d+)$/m);
    // Daphne drops in-flight requests within ~2 s of SIGTERM (README), but waits up to
    // --application-close-timeout for application instances to exit: the stop must outlast that.
    case 'daphne': return optionNumber(v.app.Command, 'application-close-timeout');
  }
}

/** The longest a request runs in the app server before the server gives up (undefined: no limit). */
function workerTimeoutSeconds(v: ServiceView): number | undefined {
  switch (serverOf(v)) {
    case 'gunicorn': return flagNumber(v.app.Command, 'timeout');
    case 'uwsgi': return directiveNumber(uwsgiIni(v.app), /^harakiri = (\d+)$/m);
    case 'daphne': return optionNumber(v.app.Command, 'http-timeout');
  }
}

/** The proxy's read timeout towards the app for plain HTTP (the http-level directive, not WebSocket locations). */
function proxyReadTimeout(proxy: any): number | undefined {
  const conf = proxyConf(proxy);
  return proxy.Name === 'nginx' ? directiveNumber(conf, /^ {4}proxy_read_timeout (\d+)s;$/m) : directiveNumber(conf, /^ProxyTimeout (\d+)$/m);
}

function proxyGracefulSeconds(proxy: any): number | undefined {
  const conf = proxyConf(proxy);
  return proxy.Name === 'nginx' ? directiveNumber(conf, /^worker_shutdown_timeout (\d+)s;$/m) : directiveNumber(conf, /^GracefulShutdownTimeout (\d+)$/m);
}

function proxyKeepAlive(proxy: any): number | undefined {
  const conf = proxyConf(proxy);
  return proxy.Name === 'nginx' ? directiveNumber(conf, /^ {4}keepalive_timeout (\d+)s;$/m) : directiveNumber(conf, /^KeepAliveTimeout (\d+)$/m);
}

/** Read timeouts of the proxy's WebSocket routes (nginx locations, Apache `upgrade=websocket` ProxyPass). */
function proxyWebSocketReadTimeouts(proxy: any): number[] {
  const conf = proxyConf(proxy);
  const re = proxy.Name === 'nginx' ? /^ {12}proxy_read_timeout (\d+)s;$/gm : /^ {4}ProxyPass .* timeout=(\d+) upgrade=websocket$/gm;
  return [...conf.matchAll(re)].map((m) => Number(m[1]));
}

/** How long the server facing the ALB keeps an idle keep-alive connection open. */
function keepAliveFacingAlb(v: ServiceView): number | undefined {
  if (v.proxy) return proxyKeepAlive(v.proxy);
  switch (serverOf(v)) {
    case 'gunicorn': return flagNumber(v.app.Command, 'keep-alive');
    // uWSGI's HTTP router: http-timeout is its idle timeout on client connections.
    case 'uwsgi': return directiveNumber(uwsgiIni(v.app), /^http-timeout = (\d+)$/m);
    case 'daphne': return DAPHNE_IDLE_CLOSE_SECONDS;
  }
}

describe('1. timing nesting per ECS service', () => {
  test('every container stopTimeout is at most 120 s (ECS rejects more)', () => {
    expect(perService((v) => v.containers.map((c) =>
      stopTimeout(c) > MAX_STOP_TIMEOUT && `container ${c.Name} StopTimeout ${c.StopTimeout} > ${MAX_STOP_TIMEOUT}`))).toEqual([]);
  });

  test('every container health check has timeout < interval, and the app has one', () => {
    expect(perService((v) => [
      !v.app.HealthCheck && 'app container has no HealthCheck (the proxy waits for HEALTHY)',
      ...v.containers.filter((c) => c.HealthCheck).map((c) => {
        const { Timeout: timeout = 5, Interval: interval = 30 } = c.HealthCheck;
        return timeout >= interval && `container ${c.Name} HealthCheck Timeout ${timeout} >= Interval ${interval}`;
      }),
    ])).toEqual([]);
  });

  test('the target group health check has timeout < interval', () => {
    expect(perService((v) => {
      const { HealthCheckTimeoutSeconds: timeout, HealthCheckIntervalSeconds: interval } = v.targetGroup;
      return [(timeout === undefined || interval === undefined || timeout >= interval)
        && `${v.targetGroupId} HealthCheckTimeoutSeconds ${timeout} not below HealthCheckIntervalSeconds ${interval}`];
    })).toEqual([]);
  });

  test('the app stopTimeout outlasts the app server\'s graceful shutdown', () => {
    expect(perService((v) => {
      const graceful = appGracefulSeconds(v);
      if (graceful === undefined || Number.isNaN(graceful)) return [`cannot read the ${serverOf(v)} graceful timeout from the app container`];
      return [stopTimeout(v.app) <= graceful && `app StopTimeout ${stopTimeout(v.app)} <= ${serverOf(v)} graceful shutdown ${graceful} s: ECS SIGKILLs requests still being served`];
    })).toEqual([]);
  });

  test('the proxy stopTimeout outlasts its graceful shutdown, which outlasts its read timeout', () => {
    expect(perService((v) => {
      if (!v.proxy) return [];
      const graceful = proxyGracefulSeconds(v.proxy);
      const read = proxyReadTimeout(v.proxy);
      if (graceful === undefined || read === undefined) return [`cannot read the graceful shutdown / read timeout from the ${v.proxy.Name} config`];
      return [
        stopTimeout(v.proxy) <= graceful && `${v.proxy.Name} StopTimeout ${stopTimeout(v.proxy)} <= its graceful shutdown ${graceful} s`,
        graceful <= read && `${v.proxy.Name} graceful shutdown ${graceful} s <= read timeout ${read} s: a slow in-flight request is cut`,
      ];
    })).toEqual([]);
  });

  test('the deregistration delay is the documented 30 s and covers a request in flight when it starts', () => {
    expect(perService((v) => {
      const delay = deregistrationDelay(v);
      const worker = workerTimeoutSeconds(v);
      return [
        delay !== DOCUMENTED_DEREGISTRATION_DELAY && `${v.targetGroupId} deregistration_delay.timeout_seconds ${delay}, README documents ${DOCUMENTED_DEREGISTRATION_DELAY}`,
        // SIGTERM comes only after deregistration, so a request the worker timeout allows finishes before it.
        worker !== undefined && delay < worker && `${v.targetGroupId} deregistration delay ${delay} s < worker timeout ${worker} s`,
      ];
    })).toEqual([]);
  });

  test('worker timeout < proxy read timeout < ALB idle timeout', () => {
    expect(perService((v) => {
      const idle = loadBalancerIdleTimeout(v);
      const worker = workerTimeoutSeconds(v);
      const read = v.proxy ? proxyReadTimeout(v.proxy) : undefined;
      return [
        v.proxy && read === undefined && `cannot read the read timeout from the ${v.proxy.Name} config`,
        read !== undefined && read >= idle && `${v.proxy.Name} read timeout ${read} s >= ${v.loadBalancerId} idle_timeout ${idle} s`,
        worker !== undefined && read !== undefined && worker >= read && `worker timeout ${worker} s >= ${v.proxy.Name} read timeout ${read} s`,
        worker !== undefined && worker >= idle && `worker timeout ${worker} s >= ${v.loadBalancerId} idle_timeout ${idle} s`,
      ];
    })).toEqual([]);
  });

  test('whatever faces the ALB keeps idle connections open longer than the ALB idle timeout', () => {
    expect(perService((v) => {
      const idle = loadBalancerIdleTimeout(v);
      const keepAlive = keepAliveFacingAlb(v);
      const who = v.proxy ? v.proxy.Name : serverOf(v);
      return [(keepAlive === undefined || keepAlive <= idle)
        && `${who} keep-alive ${keepAlive} s not above ${v.loadBalancerId} idle_timeout ${idle} s: the ALB reuses closed connections (random 502)`];
    })).toEqual([]);
  });

  test('Daphne pings idle WebSockets before the ALB or the proxy would close them', () => {
    expect(perService((v) => {
      if (serverOf(v) !== 'daphne') return [];
      const ping = optionNumber(v.app.Command, 'ping-interval');
      if (ping === undefined) return ['Daphne has no --ping-interval'];
      const idle = loadBalancerIdleTimeout(v);
      const wsReads = v.proxy ? proxyWebSocketReadTimeouts(v.proxy) : [];
      return [
        ping + DAPHNE_PING_LATENESS_SECONDS >= idle && `ping interval ${ping} s (+${DAPHNE_PING_LATENESS_SECONDS}) >= ${v.loadBalancerId} idle_timeout ${idle} s`,
        v.proxy && wsReads.length === 0 && `no WebSocket route in the ${v.proxy.Name} config`,
        ...wsReads.map((read) => read <= ping + DAPHNE_PING_LATENESS_SECONDS && `${v.proxy.Name} WebSocket read timeout ${read} s <= ping interval ${ping} s`),
      ];
    })).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------
// 2. No secret in the template or in a container environment
// ---------------------------------------------------------------------------------------------------

const SECRET_ENV_NAME = /(SECRET|PASSWORD|TOKEN|API_KEY|PRIVATE_KEY)/i;
/** CloudFormation properties that carry a credential (PasswordLength, SecretStringTemplate, ServiceToken do not). */
const SECRET_PROPERTY = /^(Password|MasterUserPassword|MasterUserSecret|AuthToken|SecretString|SecretAccessKey|ApiKey|PrivateKey)$/;

function templateIds(t: CfnTemplate): Set<string> {
  return new Set(['Resources', 'Parameters', 'Outputs', 'Conditions', 'Mappings'].flatMap((s) => Object.keys(t[s] ?? {})));
}

/**
 * Deliberate exclusion: CDK asset hashes are 64 lowercase hex digits, named by the S3 object key of a
 * file asset (`<hash>.zip`) or the tag of an image asset. They are content hashes of published code,
 * not credentials; anywhere else a 64-hex string is reported.
 */
function isAssetHash(run: string, path: string): boolean {
  return /^[0-9a-f]{64}$/.test(run) && (/\.S3Key$/.test(path) || /\.ContainerDefinitions\[\d+\]\.Image(\.|$)/.test(path));
}

describe('2. no secret in the template or the environment', () => {
  test('no container environment entry named like a secret has a literal value (secrets go in Secrets)', () => {
    const offenders = allContainers(SHAPES).flatMap(({ name, container }) => Object.entries(envOf(container))
      .filter(([k, value]) => SECRET_ENV_NAME.test(k) && !isResolvedAtDeploy(value))
      .map(([k]) => `${name}: Environment ${k} is a literal; move it to Secrets`));
    expect(offenders).toEqual([]);
  });

  test('no container environment value embeds credentials in a URL (scheme://user:password@host)', () => {
    const offenders = allContainers(SHAPES).flatMap(({ name, container }) => Object.entries(envOf(container))
      .filter(([, value]) => /[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:[^\s/@]+@/i.test(literalText(value)))
      .map(([k]) => `${name}: Environment ${k} contains user:password@`));
    expect(offenders).toEqual([]);
  });

  test('credential properties are dynamic references or intrinsics, never literal strings', () => {
    const offenders = SHAPES.flatMap((s) => Object.entries(s.template.Resources).flatMap(([id, r]) =>
      propertiesIn(r.Properties ?? {})
        .filter((p) => SECRET_PROPERTY.test(p.key) && (typeof p.value === 'string' || typeof p.value === 'number' || p.value?.['Fn::Join'])
          && !isResolvedAtDeploy(p.value))
        .map((p) => `${s.name}/${id}: ${p.path} is a literal ${JSON.stringify(p.value).slice(0, 40)}`)));
    expect(offenders).toEqual([]);
  });

  test('no string anywhere in the template looks like a generated secret (asset hashes excluded)', () => {
    const offenders = SHAPES.flatMap((s) => {
      const ids = templateIds(s.template);
      return stringsIn(s.template).flatMap(({ path, value }) => (value.match(/[A-Za-z0-9]{32,}/g) ?? [])
        .filter((run) => !ids.has(run) && !isAssetHash(run, path) && looksGenerated(run))
        .map((run) => `${s.name}: ${path} holds '${run.slice(0, 6)}...' (${run.length} chars)`));
    });
    expect(offenders).toEqual([]);
  });

  test('the secret-shape heuristic flags random strings and passes CDK identifiers and asset hashes only where excluded', () => {
    expect(looksGenerated('q8Zr2LkV9xWm4TbN7pYc1HdG6sJf3RaE')).toBe(true);
    expect(looksGenerated('AWSServiceRoleForApplicationAutoScaling')).toBe(false);
    expect(looksGenerated('fullSiteWebSocketsServiceTaskCountTargetMemory8EB2AE07')).toBe(false);
    const hash = '02b51ab524e7bcf8f477de3e71e5f9a72e448301b26ba62e9e75a14f9c55a093';
    expect(looksGenerated(hash)).toBe(true);
    expect(isAssetHash(hash, 'Resources.Handler.Properties.Code.S3Key')).toBe(true);
    expect(isAssetHash(hash, 'Resources.Task.Properties.ContainerDefinitions[0].Environment[2].Value')).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------
// 3. AWS Security Hub ECS controls that apply to Fargate services, and least-privilege roles
// ---------------------------------------------------------------------------------------------------

const CONTAINERS = allContainers(SHAPES);

/**
 * Identity-policy statements allowed on `Resource: '*'`, each with the only actions it may carry and
 * why no narrower resource exists. Every entry must still be used (no stale exceptions).
 */
const RESOURCE_STAR_ALLOWED: Array<{ actions: string[]; condition?: string; why: string }> = [
  {
    actions: ['ecr:GetAuthorizationToken'],
    why: 'the ECR login token is account-wide; the action supports no resource ARN (image pulls themselves are scoped to the repository)',
  },
  {
    actions: ['secretsmanager:GetRandomPassword'],
    why: 'the database rotation and cache token functions ask Secrets Manager for a random password, which acts on no resource',
  },
  {
    actions: ['ecs:DescribeTasks', 'ecs:StopTask'],
    condition: 'ecs:cluster',
    why: 'the migrations isComplete handler polls and stops the task it started, whose ARN is unknown at synth; the ecs:cluster condition pins it to the app cluster',
  },
  {
    actions: [
      'logs:CreateLogDelivery', 'logs:CreateLogStream', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries', 'logs:PutLogEvents', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups',
    ],
    why: 'aws-cdk-lib\'s custom-resource Provider waiter state machine logging: CloudWatch Logs vended-log delivery APIs take no resource ARN (Step Functions documents Resource "*")',
  },
];

describe('3. Security Hub ECS controls and least privilege', () => {
  test('ECS.4: no container runs privileged', () => {
    expect(CONTAINERS.filter(({ container }) => container.Privileged === true).map(({ name }) => `${name}: Privileged true`)).toEqual([]);
  });

  test('ECS.5: containers without a read-only root filesystem are exactly the known list', () => {
    const offenders = CONTAINERS.filter(({ container }) => container.ReadonlyRootFilesystem !== true).map(({ name }) => name).sort();
    // Security Hub ECS.5: app containers not read-only yet. The proxy sidecars (nginx, apache) already
    // are (they write only to the /tmp/proxy volume); every app container still has a writable root
    // (uWSGI, for one, writes its ini to /tmp). Shrink this list when they get a scratch volume; the
    // test fails when the set of offenders changes either way.
    expect(offenders).toEqual([
      'app-full/SiteWebOneOffTask0B4C1B6A/app',
      'app-full/SiteWebSocketsTask5653C24D/app',
      'app-full/SiteWebTask3CF0D8B3/app',
      'app-simple/SiteWebOneOffTask0B4C1B6A/app',
      'app-simple/SiteWebTask3CF0D8B3/app',
      'app-websockets/SiteWebOneOffTask0B4C1B6A/app',
      'app-websockets/SiteWebSocketsTask5653C24D/app',
      'app-websockets/SiteWebTask3CF0D8B3/app',
      'daphne-apache/WebTask30236CB9/app',
      'daphne-nginx/WebTask30236CB9/app',
      'daphne-none/WebTask30236CB9/app',
      'gunicorn-apache/WebTask30236CB9/app',
      'gunicorn-ecr/WebTask30236CB9/app',
      'gunicorn-nginx/WebTask30236CB9/app',
      'gunicorn-none/WebTask30236CB9/app',
      'uwsgi-apache/WebTask30236CB9/app',
      'uwsgi-nginx/WebTask30236CB9/app',
      'uwsgi-none/WebTask30236CB9/app',
    ]);
    // ... and every proxy sidecar is read-only.
    expect(CONTAINERS.filter(({ container }) => ['nginx', 'apache'].includes(container.Name) && container.ReadonlyRootFilesystem !== true)
      .map(({ name }) => `${name}: proxy sidecar without ReadonlyRootFilesystem`)).toEqual([]);
  });

  test('no container sets User to root or uid 0', () => {
    expect(CONTAINERS.filter(({ container }) => container.User !== undefined && /^(root|0)(:.*)?$/.test(String(container.User)))
      .map(({ name, container }) => `${name}: User ${container.User}`)).toEqual([]);
  });

  test('ECS.3 / ECS.9: no task shares the host PID namespace, and every container logs', () => {
    const offenders = [
      ...SHAPES.flatMap((s) => resourcesOfType(s.template, 'AWS::ECS::TaskDefinition')
        .filter(([, td]) => td.Properties.PidMode === 'host').map(([id]) => `${s.name}/${id}: PidMode host`)),
      ...CONTAINERS.filter(({ container }) => !container.LogConfiguration?.LogDriver).map(({ name }) => `${name}: no LogConfiguration`),
    ];
    expect(offenders).toEqual([]);
  });

  test('ECS.2 and ECS Exec: services assign no public IP and do not enable execute-command', () => {
    expect(perService((v) => [
      v.service.NetworkConfiguration?.AwsvpcConfiguration?.AssignPublicIp !== 'DISABLED'
        && `AssignPublicIp ${v.service.NetworkConfiguration?.AwsvpcConfiguration?.AssignPublicIp}`,
      v.service.EnableExecuteCommand === true && 'EnableExecuteCommand true',
    ])).toEqual([]);
  });

  test('ECS.12: every cluster has Container Insights', () => {
    const offenders = SHAPES.flatMap((s) => resourcesOfType(s.template, 'AWS::ECS::Cluster')
      .filter(([, c]) => !(c.Properties?.ClusterSettings ?? []).some((x: any) => x.Name === 'containerInsights' && ['enabled', 'enhanced'].includes(x.Value)))
      .map(([id]) => `${s.name}/${id}: containerInsights not enabled`));
    expect(offenders).toEqual([]);
  });

  test('no identity policy allows Action "*", a service wildcard like "s3:*", or NotAction', () => {
    const offenders = identityStatements(SHAPES).filter((s) => s.statement.Effect === 'Allow').flatMap((s) => [
      ...s.actions.filter((a) => a === '*' || /^[A-Za-z0-9-]+:\*$/.test(a)).map((a) => `${s.name}: Action ${a}`),
      ...(s.statement.NotAction ? [`${s.name}: NotAction ${JSON.stringify(s.statement.NotAction)}`] : []),
    ]);
    expect(offenders).toEqual([]);
  });

  test('every Resource "*" statement is in the allow-list with the action that needs it', () => {
    const star = identityStatements(SHAPES).filter((s) => s.statement.Effect === 'Allow' && s.resources.includes('*'));
    const used = new Set<number>();
    const offenders = star.flatMap((s) => {
      const i = RESOURCE_STAR_ALLOWED.findIndex((e) => s.actions.every((a) => e.actions.includes(a))
        && (e.condition === undefined || JSON.stringify(s.statement.Condition ?? {}).includes(`"${e.condition}"`)));
      if (i < 0) return [`${s.name}: ${s.actions.join(', ')} on Resource "*"${s.statement.Condition ? '' : ' without a condition'}`];
      used.add(i);
      return [];
    });
    expect(offenders).toEqual([]);
    expect(RESOURCE_STAR_ALLOWED.filter((_, i) => !used.has(i)).map((e) => `unused allow-list entry: ${e.actions[0]}`)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------
// 4. Data safety: deletion and replacement policies of stateful resources
// ---------------------------------------------------------------------------------------------------

/** The stateful resources of a standalone service stack (the same for every server x frontend). */
function serviceTable(prefix: string): Record<string, string> {
  return {
    [`${prefix}AccessLogs AWS::S3::Bucket`]: 'Retain/Retain',
    [`${prefix}Logs AWS::Logs::LogGroup`]: 'Retain/Retain',
    [`${prefix}SecretKey AWS::SecretsManager::Secret`]: 'Retain/Retain',
  };
}

/** The per-stack customer-managed key (src/compliance.ts stackKey) of log groups and the SECRET_KEY: in every shape. */
const STACK_KEY = {
  'CdkDjangoKey AWS::KMS::Key': 'Retain/Retain',
  // the log group of the stack's deletion-protection handler (every shape has a load balancer)
  'CdkDjangoDeletionProtectionLogs AWS::Logs::LogGroup': 'Retain/Retain',
};

/** `<logical id without hash> <type>`: `<DeletionPolicy>/<UpdateReplacePolicy>` for every shape. */
const EXPECTED_STATEFUL: Record<string, Record<string, string>> = {
  ...Object.fromEntries(['gunicorn-nginx', 'gunicorn-apache', 'gunicorn-none', 'uwsgi-nginx', 'uwsgi-apache', 'uwsgi-none',
    'daphne-nginx', 'daphne-apache', 'daphne-none', 'gunicorn-ecr'].map((name) => [name, {
    ...STACK_KEY,
    'WebFlowLogsGroup AWS::Logs::LogGroup': 'Retain/Retain',
    ...serviceTable('Web'),
  }])),
  'app-simple': {
    ...STACK_KEY,
    // DjangoApp creates an alarm topic (encrypted with its own key) unless alarms.topic is given
    'SiteAlarmsTopicKey AWS::KMS::Key': 'Retain/Retain',
    'SiteFlowLogsGroup AWS::Logs::LogGroup': 'Retain/Retain',
    ...serviceTable('SiteWeb'),
  },
  'app-websockets': {
    ...STACK_KEY,
    'SiteAlarmsTopicKey AWS::KMS::Key': 'Retain/Retain',
    'SiteCache AWS::ElastiCache::ReplicationGroup': 'Snapshot/Snapshot',
    'SiteCacheAuthToken AWS::SecretsManager::Secret': 'Delete/Delete',
    'SiteCacheEngineLog AWS::Logs::LogGroup': 'Retain/Retain',
    'SiteCacheKey AWS::KMS::Key': 'Retain/Retain',
    'SiteCacheRetireTokenLogs AWS::Logs::LogGroup': 'Retain/Retain',
    'SiteCacheSlowLog AWS::Logs::LogGroup': 'Retain/Retain',
    'SiteCacheTokenVersionLogs AWS::Logs::LogGroup': 'Retain/Retain',
    'SiteFlowLogsGroup AWS::Logs::LogGroup': 'Retain/Retain',
    ...serviceTable('SiteWeb'),
    'SiteWebSocketsLogs AWS::Logs::LogGroup': 'Retain/Retain',
  },
  'app-full': {
    ...STACK_KEY,
    'SiteAlarmsTopicKey AWS::KMS::Key': 'Retain/Retain',
    'SiteCache AWS::ElastiCache::ReplicationGroup': 'Snapshot/Snapshot',
    'SiteCacheAuthToken AWS::SecretsManager::Secret': 'Delete/Delete',
    'SiteCacheEngineLog AWS::Logs::LogGroup': 'Retain/Retain',
    'SiteCacheKey AWS::KMS::Key': 'Retain/Retain',
    'SiteCacheRetireTokenLogs AWS::Logs::LogGroup': 'Retain/Retain',
    'SiteCacheSlowLog AWS::Logs::LogGroup': 'Retain/Retain',
    'SiteCacheTokenVersionLogs AWS::Logs::LogGroup': 'Retain/Retain',
    // named per create (the stack id): kept, and the next create does not collide with it
    'SiteDatabaseAppSecret AWS::SecretsManager::Secret': 'Retain/Retain',
    'SiteDatabaseBackupVault AWS::Backup::BackupVault': 'Retain/Retain',
    'SiteDatabaseCluster AWS::RDS::DBCluster': 'Snapshot/Snapshot',
    'SiteDatabaseClusterReader AWS::RDS::DBInstance': 'Delete/Delete',
    'SiteDatabaseClusterWriter AWS::RDS::DBInstance': 'Delete/Delete',
    'SiteDatabaseKey AWS::KMS::Key': 'Retain/Retain',
    'SiteDatabaseLogspostgresql AWS::Logs::LogGroup': 'Retain/Retain',
    'SiteDatabaseRotationFunctionLogs AWS::Logs::LogGroup': 'Retain/Retain',
    'SiteDatabaseSecret AWS::SecretsManager::Secret': 'Retain/Retain',
    'SiteDatabaseSetupFunctionLogs AWS::Logs::LogGroup': 'Retain/Retain',
    'SiteFlowLogsGroup AWS::Logs::LogGroup': 'Retain/Retain',
    'SiteMigrationsIsCompleteLogs AWS::Logs::LogGroup': 'Retain/Retain',
    'SiteMigrationsOnEventLogs AWS::Logs::LogGroup': 'Retain/Retain',
    'SiteMigrationsProviderLogs AWS::Logs::LogGroup': 'Retain/Retain',
    'SiteMigrationsWaiterLogs AWS::Logs::LogGroup': 'Retain/Retain',
    'SiteStaticSiteCdnLogs AWS::S3::Bucket': 'Retain/Retain',
    'SiteStaticSiteKey AWS::KMS::Key': 'Retain/Retain',
    'SiteStaticSiteLogs AWS::S3::Bucket': 'Retain/Retain',
    'SiteStaticSiteMedia AWS::S3::Bucket': 'Retain/Retain',
    'SiteStaticSiteStatic AWS::S3::Bucket': 'Retain/Retain',
    ...serviceTable('SiteWeb'),
    'SiteWebSocketsLogs AWS::Logs::LogGroup': 'Retain/Retain',
  },
};

/**
 * Stateful resources that may be deleted with the stack or on replacement, and why no data is lost.
 * Anything else stateful with Delete (or no policy, which CloudFormation treats as Delete) fails.
 */
const DELETE_JUSTIFIED: Array<{ type: string; role: RegExp; why: string }> = [
  {
    type: 'AWS::RDS::DBInstance',
    role: /DatabaseCluster(Writer|Reader)\d*$/,
    why: 'Aurora instances hold no data of their own: the cluster volume does, and the DBCluster is Snapshot with DeletionProtection (checked below by DBClusterIdentifier)',
  },
  {
    type: 'AWS::SecretsManager::Secret',
    role: /CacheAuthToken$/,
    why: 'ElastiCache AUTH token, generated: a cache restored from its final snapshot is created with a new token; the snapshot holds the data',
  },
];

const STATEFUL = SHAPES.flatMap((s) => Object.entries(s.template.Resources)
  .filter(([, r]) => STATEFUL_TYPES.includes(r.Type))
  .map(([id, r]) => ({ name: `${s.name}/${id}`, id, r, policies: [r.DeletionPolicy ?? 'Delete', r.UpdateReplacePolicy ?? 'Delete'] })));


function keeps(policies: string[], allowed: string[]): boolean {
  return policies.every((p) => allowed.includes(p));
}

describe('4. data safety', () => {
  test('every stateful resource and its DeletionPolicy/UpdateReplacePolicy is the expected table', () => {
    const actual = Object.fromEntries(SHAPES.map((s) => [s.name, statefulTable(s.template)]));
    expect(actual).toEqual(EXPECTED_STATEFUL);
  });

  test('every load balancer\'s deletion protection is switched on after create, not in the template', () => {
    const lbs = SHAPES.flatMap((sh) => resourcesOfType(sh.template, 'AWS::ElasticLoadBalancingV2::LoadBalancer').map(([id]) => ({ sh, id })));
    expect(lbs.length).toBe(SHAPES.length);
    expect(lbs.flatMap(({ sh, id }) => deletionProtectionProblems(sh.template, id).map((p) => `${sh.name}/${id}: ${p}`))).toEqual([]);
  });

  test('databases are Snapshot or Retain with deletion protection switched on after create (not in the template); cluster instances belong to such a cluster', () => {
    const offenders = STATEFUL.flatMap(({ name, r, policies }) => {
      const clustered = r.Type === 'AWS::RDS::DBInstance' && r.Properties?.DBClusterIdentifier !== undefined;
      if (r.Type === 'AWS::RDS::DBCluster' || (r.Type === 'AWS::RDS::DBInstance' && !clustered)) {
        return [
          !keeps(policies, ['Snapshot', 'Retain']) && `${name}: ${policies.join('/')}`,
          ...deletionProtectionProblems(SHAPES.find((x) => x.name === name.split('/')[0])!.template, name.split('/')[1]).map((p) => `${name}: ${p}`),
        ].filter((p): p is string => typeof p === 'string');
      }
      if (clustered) {
        const shape = name.split('/')[0];
        const cluster = SHAPES.find((s) => s.name === shape)!.template.Resources[r.Properties.DBClusterIdentifier.Ref];
        if (!cluster || cluster.DeletionPolicy === undefined || !keeps([cluster.DeletionPolicy, cluster.UpdateReplacePolicy ?? 'Delete'], ['Snapshot', 'Retain'])) {
          return [`${name}: its cluster is not Snapshot/Retain`];
        }
      }
      return [];
    });
    expect(offenders).toEqual([]);
    expect(STATEFUL.filter(({ r }) => r.Type === 'AWS::RDS::DBCluster')).toHaveLength(1);
  });

  test('caches are Snapshot or Retain', () => {
    expect(STATEFUL.filter(({ r, policies }) => r.Type === 'AWS::ElastiCache::ReplicationGroup' && !keeps(policies, ['Snapshot', 'Retain']))
      .map(({ name, policies }) => `${name}: ${policies.join('/')}`)).toEqual([]);
  });

  test('user-data buckets (media, static) and every other bucket are Retain', () => {
    const buckets = STATEFUL.filter(({ r }) => r.Type === 'AWS::S3::Bucket');
    expect(buckets.filter(({ policies }) => !keeps(policies, ['Retain'])).map(({ name, policies }) => `${name}: ${policies.join('/')}`)).toEqual([]);
    // The user-data buckets are there to be checked.
    expect(buckets.map(({ id }) => role(id)).filter((r) => /StaticSite(Media|Static)$/.test(r)).sort()).toEqual(['SiteStaticSiteMedia', 'SiteStaticSiteStatic']);
  });

  test('KMS keys are Retain (deleting a key makes everything encrypted with it unreadable, snapshots included)', () => {
    expect(STATEFUL.filter(({ r, policies }) => r.Type === 'AWS::KMS::Key' && !keeps(policies, ['Retain']))
      .map(({ name, policies }) => `${name}: ${policies.join('/')}`)).toEqual([]);
  });

  test('no stateful resource is deleted (or replaced away) unless the exception is justified', () => {
    const offenders = STATEFUL.filter(({ id, r, policies }) => policies.includes('Delete')
      && !DELETE_JUSTIFIED.some((j) => j.type === r.Type && j.role.test(role(id))))
      .map(({ name, r, policies }) => `${name} (${r.Type}): ${policies.join('/')}`);
    expect(offenders).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------
// 5. Every region, a second stack, destroy and re-create (test/helpers/region-checks.ts)
//
// Beyond the shapes above: the database behind an RDS Proxy on an RDS instance, and the full app in
// concrete regions (one opening before August 2022, one opt-in region opened since).
// ---------------------------------------------------------------------------------------------------

function synthIn(name: string, region: string | undefined, build: (stack: Stack) => void): Shape {
  const stack = new Stack(new App(), name, region ? { env: { region } } : {});
  build(stack);
  return { name, template: Template.fromStack(stack).toJSON() as CfnTemplate };
}

const FULL_SITE = { database: {}, staticSite: { media: true }, requirements: { websockets: true } };
const LIFECYCLE_SHAPES: Shape[] = [
  ...SHAPES,
  synth('app-proxy', app({ database: { proxy: true, engine: DatabaseEngineKind.RDS_INSTANCE } })),
  synthIn('app-us-east-1', 'us-east-1', app(FULL_SITE)),
  synthIn('app-eu-central-2', 'eu-central-2', app(FULL_SITE)),
];
const shapeNamed = (name: string) => LIFECYCLE_SHAPES.find((s) => s.name === name)!.template;

/** The regions a shape deploys to: its own for a concrete stack, else every commercial region. */
const CONCRETE: Record<string, string> = { 'app-us-east-1': 'us-east-1', 'app-eu-central-2': 'eu-central-2' };
const regionsOf = (s: Shape) => (CONCRETE[s.name] ? [CONCRETE[s.name]] : commercialRegionCodes());

/** Offenders of a lifecycle check over every shape, each prefixed with its shape. */
function overShapes(check: (s: Shape, regions: string[]) => string[]): string[] {
  return LIFECYCLE_SHAPES.flatMap((s) => check(s, regionsOf(s)).map((p) => `${s.name}/${p}`));
}


describe('5. every region, a second stack, destroy and re-create', () => {
  test('the region list is complete and sane: 34 commercial regions, ELB accounts only for regions before August 2022', () => {
    const codes = commercialRegionCodes();
    expect(codes).toHaveLength(34);
    expect([...codes].sort()).toEqual(codes);
    for (const opened of ['eu-central-2', 'eu-south-2', 'ap-south-2', 'ap-southeast-4', 'ap-southeast-5', 'me-central-1', 'il-central-1', 'ca-west-1']) {
      expect(regionFacts(opened)).toMatchObject({ optIn: true, elbAccount: undefined });
    }
    expect(Object.keys(elbAccounts())).toHaveLength(22);
    expect(elbAccounts()['us-east-1']).toBe('127311923021');
    expect(REGIONS_CHECKED).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  test('every region map lookup on AWS::Region resolves in every commercial region', () => {
    expect(overShapes((s, regions) => regionMapGaps(s.template, regions))).toEqual([]);
  });

  test('ALB access logs: the ELB account in the regions that have one, the service principal everywhere else', () => {
    const statement = (t: CfnTemplate, region: string) => {
      const [, policy] = resourcesOfType(t, 'AWS::S3::BucketPolicy').find(([id]) => id.includes('AccessLogs'))!;
      return inRegion(t, policy.Properties, region).PolicyDocument.Statement.find((s: any) => s.Action === 's3:PutObject').Principal;
    };
    const t = shapeNamed('app-simple');
    expect(statement(t, 'eu-central-2')).toEqual({ Service: 'logdelivery.elasticloadbalancing.amazonaws.com' });
    expect(statement(t, 'eu-west-1').AWS).toMatchObject({ 'Fn::Join': ['', expect.arrayContaining([{ 'Fn::FindInMap': ['CdkDjangoElbAccounts', { Ref: 'AWS::Region' }, 'account'] }])] });
    // a region newer than the list: the service principal, and no lookup
    expect(statement(t, 'xx-future-1')).toEqual({ Service: 'logdelivery.elasticloadbalancing.amazonaws.com' });
    // concrete regions get the one principal of their region
    const concrete = (name: string) => resourcesOfType(shapeNamed(name), 'AWS::S3::BucketPolicy').find(([id]) => id.includes('WebAccessLogs'))![1]
      .Properties.PolicyDocument.Statement.find((s: any) => s.Action === 's3:PutObject').Principal;
    expect(JSON.stringify(concrete('app-us-east-1'))).toContain('127311923021');
    expect(concrete('app-eu-central-2')).toEqual({ Service: 'logdelivery.elasticloadbalancing.amazonaws.com' });
    // other partitions keep the ELB accounts aws-cdk-lib knows for them (China, GovCloud)
    const china = synthIn('gunicorn-cn', 'cn-north-1', service('gunicorn', 'none')).template;
    const chinaPolicy = resourcesOfType(china, 'AWS::S3::BucketPolicy').find(([id]) => id.includes('AccessLogs'))![1];
    expect(JSON.stringify(chinaPolicy.Properties.PolicyDocument.Statement.find((s: any) => s.Action === 's3:PutObject').Principal)).toContain('638102146993');
    expect(shapeNamed('app-simple').Mappings.CdkDjangoElbAccounts['us-gov-west-1']).toEqual({ account: '048591011584' });
  });

  test('no resource type or feature is used in a region that lacks it', () => {
    expect(overShapes((s, regions) => regionalFeatureGaps(s.template, regions))).toEqual([]);
  });

  test('CloudFront standard logs: on where delivered, off by condition in opt-in regions, absent in a concrete opt-in region', () => {
    const logging = (t: CfnTemplate, region: string) => inRegion(t, resourcesOfType(t, 'AWS::CloudFront::Distribution')[0][1].Properties, region).DistributionConfig.Logging;
    const t = shapeNamed('app-full');
    expect(logging(t, 'us-east-1')).toMatchObject({ Prefix: 'cloudfront/' });
    for (const region of ['af-south-1', 'ap-east-1', 'eu-south-1', 'me-south-1', 'eu-central-2', 'xx-future-1']) expect(logging(t, region)).toBeUndefined();
    expect(logging(shapeNamed('app-us-east-1'), 'us-east-1')).toMatchObject({ Prefix: 'cloudfront/' });
    expect(logging(shapeNamed('app-eu-central-2'), 'eu-central-2')).toBeUndefined();
    expect(resourcesOfType(shapeNamed('app-eu-central-2'), 'AWS::S3::Bucket').map(([id]) => role(id))).not.toContain('SiteStaticSiteCdnLogs');
  });

  test('no physical name is fixed across stacks, across regions for global resources, or across creates when retained', () => {
    expect(overShapes((s) => physicalNameProblems(s.template, s.name, CONCRETE[s.name]))).toEqual([]);
  });

  test('inventory: the retained resources that carry a name of their own, all named per create', () => {
    // Everything else retained (buckets, secrets, keys, container and handler log groups) is named by
    // CloudFormation; no secret has a fixed name and no KMS alias exists. This table changes when that does.
    const named = LIFECYCLE_SHAPES.flatMap((s) => Object.entries(s.template.Resources)
      .filter(([, r]) => r.DeletionPolicy === 'Retain' && NAME_PROPERTIES[r.Type]
        && NAME_PROPERTIES[r.Type].path.reduce((v: any, k) => v?.[k], r.Properties) !== undefined)
      .map(([id, r]) => `${role(id)} ${r.Type} ${JSON.stringify(r.Properties).includes('AWS::StackId') ? 'per create' : 'FIXED'}`));
    expect([...new Set(named)].sort()).toEqual([
      'SiteCacheEngineLog AWS::Logs::LogGroup per create',
      'SiteCacheSlowLog AWS::Logs::LogGroup per create',
      'SiteDatabaseBackupVault AWS::Backup::BackupVault per create',
      'SiteDatabaseLogspostgresql AWS::Logs::LogGroup per create',
      'SiteDatabaseLogsupgrade AWS::Logs::LogGroup per create',
      'SiteMigrationsWaiterLogs AWS::Logs::LogGroup per create',
    ]);
    expect(LIFECYCLE_SHAPES.flatMap((s) => resourcesOfType(s.template, 'AWS::KMS::Alias'))).toEqual([]);
    expect(LIFECYCLE_SHAPES.flatMap((s) => resourcesOfType(s.template, 'AWS::SecretsManager::Secret')
      .filter(([, r]) => r.Properties?.Name !== undefined))).toEqual([]);
  });

  test('the names the checks rely on are there (guards against vacuous passes)', () => {
    const names = (t: CfnTemplate, type: string, path: string[]) => resourcesOfType(t, type)
      .map(([, r]) => path.reduce((v: any, k) => v?.[k], r.Properties));
    const proxy = names(shapeNamed('app-proxy'), 'AWS::RDS::DBProxy', ['DBProxyName'])[0];
    expect(proxy).toBe('app-proxy-Site-Database-CFE4F1EF-proxy'.replace('CFE4F1EF', proxy.split('-')[4]));
    expect(proxy.length).toBeLessThanOrEqual(60);
    expect(proxy).toMatch(/^[A-Za-z](?!.*--)[A-Za-z0-9-]*[A-Za-z0-9]$/);
    const full = shapeNamed('app-full');
    for (const [type, path] of [['AWS::CloudFront::ResponseHeadersPolicy', ['ResponseHeadersPolicyConfig', 'Name']],
      ['AWS::CloudFront::OriginAccessControl', ['OriginAccessControlConfig', 'Name']]] as const) {
      const [name] = names(full, type, [...path]);
      expect(JSON.stringify(name)).toContain('"Ref":"AWS::Region"');
      expect(literalText(name).length + 'ap-southeast-5'.length).toBeLessThanOrEqual(type.endsWith('OriginAccessControl') ? 64 : 128);
    }
    expect(JSON.stringify(names(full, 'AWS::Backup::BackupVault', ['BackupVaultName']))).toContain('AWS::StackId');
    expect(JSON.stringify(names(full, 'AWS::RDS::DBCluster', ['DBClusterIdentifier']))).toContain('AWS::StackId');
  });

  test('vended-log groups (Step Functions, ElastiCache) live under /aws/vendedlogs/', () => {
    expect(overShapes((s) => vendedLogProblems(s.template))).toEqual([]);
    const groups = (t: CfnTemplate) => resourcesOfType(t, 'AWS::Logs::LogGroup').map(([, r]) => literalText(r.Properties.LogGroupName ?? ''));
    expect(groups(shapeNamed('app-full')).filter((n) => n.startsWith('/aws/vendedlogs/')).map((n) => n.split('/')[3]).sort())
      .toEqual(['elasticache', 'elasticache', 'states']);
  });
});

describe('5. the lifecycle checks fail on deliberately broken templates', () => {
  const region = { Ref: 'AWS::Region' };
  const bucketPolicy = (principal: any) => ({ Type: 'AWS::S3::BucketPolicy', Properties: { PolicyDocument: { Statement: [{ Principal: principal }] } } });

  test('a region map without the regions opened since August 2022 fails there', () => {
    const t: CfnTemplate = {
      Mappings: { Elbv2AccountMap: Object.fromEntries(Object.entries(elbAccounts()).map(([r, value]) => [r, { value }])) },
      Resources: { Policy: bucketPolicy({ AWS: { 'Fn::FindInMap': ['Elbv2AccountMap', region, 'value'] } }) },
    };
    const gaps = regionMapGaps(t);
    expect(gaps.map((g) => g.match(/fails in (\S+)$/)![1]).sort()).toEqual(commercialRegionCodes().filter((r) => !elbAccounts()[r]));
    expect(gaps).toContainEqual(expect.stringContaining('Elbv2AccountMap.eu-central-2.value, which is missing'));
    // ... and the same lookup under a condition that lists exactly the map's regions passes.
    const guarded: CfnTemplate = { ...t, Conditions: { InMap: { 'Fn::Or': Object.keys(elbAccounts()).slice(0, 10).map((r) => ({ 'Fn::Equals': [region, r] })) } } };
    (guarded.Resources.Policy.Properties.PolicyDocument.Statement[0].Principal as any).AWS = { 'Fn::If': ['InMap', { 'Fn::FindInMap': ['Elbv2AccountMap', region, 'value'] }, { Ref: 'AWS::NoValue' }] };
    expect(regionMapGaps(guarded)).toEqual([]);
  });

  test('a condition the evaluator cannot read throws rather than passing', () => {
    const t: CfnTemplate = {
      Conditions: { Odd: { 'Fn::Equals': [{ Ref: 'SomeParameter' }, 'x'] } },
      Resources: { Thing: { Type: 'AWS::SNS::Topic', Condition: 'Odd', Properties: { DisplayName: { 'Fn::FindInMap': ['Names', region, 'name'] } } } },
    };
    expect(() => regionMapGaps(t)).toThrow(/cannot evaluate/);
  });

  test('rotation from the Serverless Application Repository fails in eu-central-2 and the other regions without it', () => {
    const t: CfnTemplate = { Resources: { Rotation: { Type: 'AWS::Serverless::Application', Properties: {} } } };
    const gaps = regionalFeatureGaps(t);
    expect(gaps).toContainEqual(expect.stringContaining('AWS::Serverless::Application is not offered in eu-central-2'));
    expect(gaps.some((g) => g.includes('in us-east-1 '))).toBe(false);
  });

  test('CloudFront standard logs to a bucket of the stack, with no condition, fail in the opt-in regions', () => {
    const t: CfnTemplate = {
      Resources: {
        Logs: { Type: 'AWS::S3::Bucket' },
        Cdn: { Type: 'AWS::CloudFront::Distribution', Properties: { DistributionConfig: { Logging: { Bucket: { 'Fn::GetAtt': ['Logs', 'RegionalDomainName'] } } } } },
      },
    };
    const regions = regionalFeatureGaps(t).map((g) => g.match(/ in (\S+), where/)![1]).sort();
    expect(regions).toEqual(COMMERCIAL_REGIONS.filter((f) => f.optIn).map((f) => f.region));
    expect(regions).toEqual(expect.arrayContaining(['af-south-1', 'ap-east-1', 'eu-south-1', 'me-south-1']));
  });

  test('fixed names: a proxy called Proxy, a global policy without the region, a retained vault without a per-create part', () => {
    const t: CfnTemplate = {
      Resources: {
        Proxy: { Type: 'AWS::RDS::DBProxy', Properties: { DBProxyName: 'Proxy' } },
        Headers: { Type: 'AWS::CloudFront::ResponseHeadersPolicy', Properties: { ResponseHeadersPolicyConfig: { Name: 'MyStackSiteStaticSiteHeaders79FA6246' } } },
        Vault: { Type: 'AWS::Backup::BackupVault', DeletionPolicy: 'Retain', Properties: { BackupVaultName: 'MyStackSiteDatabaseBackupPlanVaultC541D0D3' } },
        Postgres: { Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'Retain', Properties: { LogGroupName: '/aws/rds/cluster/mystack-site-database-82db09bb/postgresql' } },
        Generated: { Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'Retain', Properties: {} },
        PerCreate: { Type: 'AWS::Backup::BackupVault', DeletionPolicy: 'Retain', Properties: { BackupVaultName: { 'Fn::Join': ['-', ['v', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }]] } } },
      },
    };
    const problems = physicalNameProblems(t, 'MyStack');
    expect(problems.map((p) => p.split(':')[0])).toEqual(['Proxy', 'Headers', 'Vault', 'Postgres']);
    expect(problems[0]).toMatch(/is the same in every stack/);
    expect(problems[1]).toMatch(/account-global .* carries no AWS::Region/);
    expect(problems[2]).toMatch(/^Vault: retained .* the next create after destroy fails/);
    // a concrete region spelled out in a global name is per region
    const concrete: CfnTemplate = { Resources: { Policy: { Type: 'AWS::CloudFront::CachePolicy', Properties: { CachePolicyConfig: { Name: 'MyStackPolicy-eu-west-1' } } } } };
    expect(physicalNameProblems(concrete, 'MyStack', 'eu-west-1')).toEqual([]);
    expect(physicalNameProblems(concrete, 'MyStack')).toHaveLength(1);
  });

  test('vended logs: a state machine and a cache logging to groups outside /aws/vendedlogs/', () => {
    const t: CfnTemplate = {
      Resources: {
        Named: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/cdk-django/waiter' } },
        Unnamed: { Type: 'AWS::Logs::LogGroup', Properties: {} },
        Good: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/aws/vendedlogs/states/x' } },
        Waiter: { Type: 'AWS::StepFunctions::StateMachine', Properties: { LoggingConfiguration: { Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': ['Named', 'Arn'] } } }] } } },
        Fine: { Type: 'AWS::StepFunctions::StateMachine', Properties: { LoggingConfiguration: { Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': ['Good', 'Arn'] } } }] } } },
        Cache: {
          Type: 'AWS::ElastiCache::ReplicationGroup',
          Properties: { LogDeliveryConfigurations: [{ LogType: 'slow-log', DestinationType: 'cloudwatch-logs', DestinationDetails: { CloudWatchLogsDetails: { LogGroup: { Ref: 'Unnamed' } } } }] },
        },
      },
    };
    expect(vendedLogProblems(t).map((p) => p.split(':')[0])).toEqual(['Waiter', 'Cache']);
  });
});


describe('6. secrets read by a resource and by the tasks are pinned to one version', () => {
  const shared = (t: CfnTemplate) => {
    const reads = secretReads(t);
    return [...new Set(reads.map((r) => r.secret))].filter((s) => reads.some((r) => r.secret === s && r.reader.startsWith('task '))
      && reads.some((r) => r.secret === s && !r.reader.startsWith('task ')));
  };

  test('on every shape, each side names the same version (the check has something to check: the cache token)', () => {
    expect(SHAPES.flatMap((s) => unpinnedSharedSecrets(s.template).map((o) => `${s.name}: ${o}`))).toEqual([]);
    const websockets = APP_SHAPES.find((s) => s.name === 'app-websockets')!.template;
    expect(shared(websockets)).toEqual([expect.stringMatching(/^SiteCacheAuthToken/)]);
    const reads = secretReads(websockets).filter((r) => r.secret === shared(websockets)[0]);
    // the cache, and the app containers of both services and of the one-off task
    expect(reads.map((r) => r.reader.split(' ')[0]).sort()).toEqual(['AWS::ElastiCache::ReplicationGroup', 'task', 'task', 'task']);
    expect(new Set(reads.map((r) => r.version))).toEqual(new Set([expect.stringMatching(/^:<GetAtt=SiteCacheTokenVersion[0-9A-F]+\.VersionId>$/)]));
  });

  /** The app-websockets template with the cache token read the way it used to be: versionless on the given sides. */
  function versionless(sides: { resource: boolean; tasks: boolean }): CfnTemplate {
    const t = JSON.parse(JSON.stringify(APP_SHAPES.find((s) => s.name === 'app-websockets')!.template));
    const [secretId] = shared(t);
    for (const r of Object.values<any>(t.Resources)) {
      if (sides.resource && r.Type === 'AWS::ElastiCache::ReplicationGroup') {
        r.Properties.AuthToken = { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: secretId }, ':SecretString:::}}']] };
      }
      if (sides.tasks && r.Type === 'AWS::ECS::TaskDefinition') {
        for (const c of r.Properties.ContainerDefinitions) {
          for (const s of c.Secrets ?? []) if (s.Name === 'REDIS_PASSWORD') s.ValueFrom = { Ref: secretId };
        }
      }
    }
    return t;
  }

  test('fails on the versionless token (as the cache had it): the cache, both services and the one-off task are named', () => {
    const offenders = unpinnedSharedSecrets(versionless({ resource: true, tasks: true }));
    expect(offenders.filter((o) => o.includes('names no version'))).toHaveLength(4);
    expect(offenders.join('\n')).toMatch(/AWS::ElastiCache::ReplicationGroup .* names no version/);
  });

  test('fails when only one side is pinned: the resource and the tasks would read different versions', () => {
    expect(unpinnedSharedSecrets(versionless({ resource: true, tasks: false }))).toEqual([
      expect.stringMatching(/ReplicationGroup .* names no version/),
      expect.stringMatching(/readers name different versions/),
    ]);
    expect(unpinnedSharedSecrets(versionless({ resource: false, tasks: true })).join('\n')).toMatch(/task .* REDIS_PASSWORD names no version[\s\S]*different versions/);
  });
});

// ---------------------------------------------------------------------------------------------------
// 7. First create: whatever runs code against a resource waits until it is usable, and alarms reach
// their topic (test/helpers/lifecycle-checks.ts; the negative cases are in lifecycle-graph.test.ts)
// ---------------------------------------------------------------------------------------------------

describe('7. first-create dependency graph', () => {
  test('migrations wait for every database instance and proxy target group, services for the migrations, alarm topics admit CloudWatch', () => {
    expect(SHAPES.flatMap(deployGraphProblems)).toEqual([]);
  });
});
