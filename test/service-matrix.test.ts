import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  DjangoCache, DjangoDaphneService, DjangoGunicornService, DjangoServiceBase, DjangoUwsgiService, ReverseProxy, UwsgiCheaperAlgorithm,
} from '../src';
import { formatFindings, nagFindings } from './helpers/compliance';
import { deployGraphProblems } from './helpers/lifecycle-checks';
import { lifecycleProblems } from './helpers/region-checks';
import { IMAGE, container, containers, envOf, flag, newStack, only, text, validationMessage } from './helpers/template';
import { unpinnedSharedSecrets } from './helpers/template-checks';

type Server = 'gunicorn' | 'uwsgi' | 'daphne';
type Frontend = 'nginx' | 'apache' | 'none';

function build(scope: Stack, server: Server, frontend: Frontend, extra: Record<string, unknown> = {}): DjangoServiceBase {
  const proxy = frontend === 'nginx' ? ReverseProxy.nginx() : frontend === 'apache' ? ReverseProxy.apache() : ReverseProxy.none();
  const props = { image: IMAGE, reverseProxy: proxy, allowedHosts: ['example.com'], ...extra };
  switch (server) {
    case 'gunicorn': return new DjangoGunicornService(scope, 'Web', props);
    case 'uwsgi': return new DjangoUwsgiService(scope, 'Web', props);
    case 'daphne': return new DjangoDaphneService(scope, 'Web', props);
  }
}

const matrix: Array<[Server, Frontend]> = [];
for (const s of ['gunicorn', 'uwsgi', 'daphne'] as Server[]) for (const f of ['nginx', 'apache', 'none'] as Frontend[]) matrix.push([s, f]);

/** The argv or ini text the app container runs, whatever the server. */
function appConfig(t: Template): string {
  const app = container(t, 'app');
  return [...app.Command, ...Object.values(envOf(app)).filter((v) => typeof v === 'string')].join('\n');
}

describe.each(matrix)('%s behind %s', (server, frontend) => {
  const stack = newStack();
  const service = build(stack, server, frontend);
  const t = Template.fromStack(stack);
  const proxyName = frontend === 'none' ? undefined : frontend;

  test('deploys in every commercial region, a second time beside itself, and again after destroy', () => {
    // region maps and regional features per region, names per stack/region/create, vended-log names
    expect(lifecycleProblems(t.toJSON() as any, stack.stackName)).toEqual([]);
  });

  test('the load balancer targets the proxy container when there is one, else the app', () => {
    const lb = only(t, 'AWS::ECS::Service').LoadBalancers[0];
    expect(lb).toMatchObject(proxyName ? { ContainerName: proxyName, ContainerPort: 8080 } : { ContainerName: 'app', ContainerPort: 8000 });
    expect(service.targetContainer.containerName).toBe(proxyName ?? 'app');
  });

  test('the proxy starts after the app is HEALTHY, has a graceful stop, and stops within ECS limits', () => {
    const names = containers(t).map((c) => c.Name);
    expect(names).toEqual(proxyName ? ['app', proxyName] : ['app']);
    for (const c of containers(t)) expect(c.StopTimeout).toBeLessThanOrEqual(120);
    if (!proxyName) return;
    const proxy = container(t, proxyName);
    expect(proxy.DependsOn).toEqual([{ ContainerName: 'app', Condition: 'HEALTHY' }]);
    expect(proxy.Command[0]).toMatch(frontend === 'nginx' ? /kill -QUIT/ : /kill -WINCH/);
    expect(proxy.ReadonlyRootFilesystem).toBe(true);
  });

  test('the app health check runs python over HTTP on loopback, timeout < interval', () => {
    const hc = container(t, 'app').HealthCheck;
    expect(hc.Command.slice(0, 3)).toEqual(['CMD', 'python3', '-c']);
    expect(hc.Command[3]).toMatch(/http:\/\/127\.0\.0\.1:80\d\d\/healthz/);
    expect(hc.Timeout).toBeLessThan(hc.Interval);
  });

  test('the worker timeout nests inside the proxy read timeout and the ALB idle timeout', () => {
    const alb = only(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    const idle = Number(alb.LoadBalancerAttributes.find((a: any) => a.Key === 'idle_timeout.timeout_seconds').Value);
    if (server === 'daphne' && frontend === 'none') expect(idle).toBeLessThan(60);
    if (!proxyName) return;
    const conf = text(Object.values(envOf(container(t, proxyName)))[0]);
    const read = Number((conf.match(/proxy_read_timeout (\d+)s;/) ?? conf.match(/ProxyTimeout (\d+)/) ?? conf.match(/timeout=(\d+)/))![1]);
    expect(read).toBeLessThan(idle);
    const worker = server === 'gunicorn' ? Number(flag(container(t, 'app').Command, 'timeout'))
      : server === 'uwsgi' ? Number(appConfig(t).match(/harakiri = (\d+)/)![1]) : undefined;
    if (worker !== undefined) expect(worker).toBeLessThan(read);
  });

  test('is cdk-nag AwsSolutions clean', () => {
    expect(formatFindings(nagFindings(stack))).toBe('');
  });

  test('pins each secret read by a resource and by the tasks to one version (with a DjangoCache as channel layer too)', () => {
    expect(unpinnedSharedSecrets(t.toJSON() as any)).toEqual([]);
    const withCache = newStack();
    const vpc = new ec2.Vpc(withCache, 'Vpc', { maxAzs: 2 });
    const cache = new DjangoCache(withCache, 'Cache', { vpc });
    const svc = build(withCache, server, frontend, { vpc, environment: cache.environment, secrets: cache.secrets });
    cache.allowFrom(svc.service);
    const template = Template.fromStack(withCache).toJSON() as any;
    expect(unpinnedSharedSecrets(template)).toEqual([]);
    expect(JSON.stringify(template)).toMatch(/resolve:secretsmanager:.*SecretString:::/); // the cache token is there to check
  });

  test('passes the first-create dependency checks', () => {
    expect(deployGraphProblems({ name: `${server}-${frontend}`, template: t.toJSON() as any })).toEqual([]);
  });
});

describe('DjangoUwsgiService', () => {
  const stack = newStack();
  const svc = new DjangoUwsgiService(stack, 'Web', {
    image: IMAGE,
    cpu: 2048,
    memoryLimitMiB: 4096,
    processes: 8,
    cheaper: { algorithm: UwsgiCheaperAlgorithm.SPARE, min: 2, initial: 4, step: 2 },
    cache: { name: 'default', items: 5000 },
  });
  const t = Template.fromStack(stack);
  const app = container(t, 'app');
  const ini: string = envOf(app).CDK_DJANGO_UWSGI_INI;

  test('delivers the ini in a variable uWSGI does not read as an option, and execs uwsgi', () => {
    expect(Object.keys(envOf(app)).filter((k) => k.startsWith('UWSGI_'))).toEqual([]);
    expect(app.Command[0]).toBe('sh');
    expect(app.Command[2]).toMatch(/exec uwsgi --ini/);
    expect(svc.ini).toBe(ini);
  });

  test('speaks the uwsgi protocol on loopback to the proxy, with an HTTP socket for the health check', () => {
    expect(ini).toMatch(/^socket = 127\.0\.0\.1:8000$/m);
    expect(ini).toMatch(/^http-socket = 127\.0\.0\.1:8001$/m);
    expect(container(t, 'app').HealthCheck.Command[3]).toContain('http://127.0.0.1:8001/healthz');
    expect(text(envOf(container(t, 'nginx')).CDK_DJANGO_NGINX_CONF)).toContain('uwsgi_pass django;');
  });

  test('renders the production options, cheaper mode and the cache', () => {
    for (const line of [
      'master = true', 'strict = true', 'processes = 8', 'threads = 4', 'harakiri = 30', 'die-on-term = true',
      'hook-master-start = unix_signal:15 gracefully_kill_them_all', 'buffer-size = 32768', 'need-app = true',
      'cheaper-algo = spare', 'cheaper = 2', 'cheaper-initial = 4', 'cheaper-step = 2',
    ]) expect(ini).toMatch(new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    expect(ini).toMatch(/^cache2 = name=default,items=5000,blocksize=65536$/m);
    expect(ini).not.toMatch(/max-requests-delta/);
  });

  test('faces the ALB with its own HTTP socket and a keep-alive above the idle timeout', () => {
    const s2 = newStack();
    const direct = new DjangoUwsgiService(s2, 'Web', { image: IMAGE, reverseProxy: ReverseProxy.none() });
    expect(direct.ini).toMatch(/^http = 0\.0\.0\.0:8000$/m);
    expect(direct.ini).toMatch(/^http-timeout = 75$/m);
    expect(direct.ini).toMatch(/^http-keepalive = 1$/m);
    expect(direct.ini).not.toMatch(/^socket = /m);
  });
});

describe('DjangoDaphneService', () => {
  test('runs Daphne with proxy headers and pings, and proxies /ws/ as WebSockets', () => {
    const stack = newStack();
    new DjangoDaphneService(stack, 'Web', { image: IMAGE, allowedHosts: ['example.com'] });
    const t = Template.fromStack(stack);
    const argv: string[] = container(t, 'app').Command;
    expect(argv[0]).toBe('daphne');
    expect(argv).toContain('--proxy-headers');
    expect(argv[argv.indexOf('--ping-interval') + 1]).toBe('20');
    expect(argv.at(-1)).toBe('config.asgi:application');
    const conf: string = envOf(container(t, 'nginx')).CDK_DJANGO_NGINX_CONF;
    expect(conf).toMatch(/location \/ws\/ \{[^}]*proxy_set_header Upgrade \$http_upgrade;[^}]*proxy_read_timeout 60s;/);
    // stickiness stays off: WebSockets stay on their task without it, HTTP spreads evenly
    const tg = only(t, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    expect((tg.TargetGroupAttributes ?? []).find((a: any) => a.Key === 'stickiness.enabled')?.Value ?? 'false').toBe('false');
  });

  test('without a channel layer runs exactly one task and warns; with one it scales and gets REDIS_URL', () => {
    const alone = newStack();
    new DjangoDaphneService(alone, 'Web', { image: IMAGE });
    Template.fromStack(alone).hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 1, MaxCapacity: 1 });

    const shared = newStack();
    const vpc = new ec2.Vpc(shared, 'Vpc', { natGateways: 1 });
    const redisSg = new ec2.SecurityGroup(shared, 'RedisSg', { vpc });
    new DjangoDaphneService(shared, 'Web', {
      image: IMAGE,
      vpc,
      channelLayer: {
        redisUrl: 'rediss://redis.example.internal:6379/0',
        connections: redisSg,
        password: ecs.Secret.fromSecretsManager(secretsmanager.Secret.fromSecretNameV2(shared, 'Auth', 'redis/auth')),
      },
    });
    const t = Template.fromStack(shared);
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 8 });
    expect(envOf(container(t, 'app')).REDIS_URL).toBe('rediss://redis.example.internal:6379/0');
    expect(container(t, 'app').Secrets.map((s: any) => s.Name)).toContain('REDIS_PASSWORD');
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 6379, ToPort: 6379 });
    // Each WebSocket holds memory while CPU stays low: Daphne scales on memory (70 %) as well.
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageMemoryUtilization' }, TargetValue: 70,
      }),
    });
  });

  test('websocketConnectTimeout renders Daphne\'s --websocket_connect_timeout; left out, Daphne keeps its own', () => {
    const set = new DjangoDaphneService(newStack(), 'Web', { image: IMAGE, websocketConnectTimeout: Duration.seconds(12) });
    expect(set.command[set.command.indexOf('--websocket_connect_timeout') + 1]).toBe('12');
    expect(new DjangoDaphneService(newStack(), 'Web', { image: IMAGE }).command).not.toContain('--websocket_connect_timeout');
  });

  test('facing the ALB, the idle timeout defaults below Daphne\'s fixed 60 s', () => {
    const stack = newStack();
    new DjangoDaphneService(stack, 'Web', { image: IMAGE, reverseProxy: ReverseProxy.none() });
    const alb = only(Template.fromStack(stack), 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(alb.LoadBalancerAttributes).toContainEqual({ Key: 'idle_timeout.timeout_seconds', Value: '50' });
  });
});

describe('invalid combinations throw a ValidationError naming the prop', () => {
  test.each<[string, (s: Stack) => void, RegExp]>([
    ['websocketPaths on a WSGI worker', (s) => new DjangoGunicornService(s, 'W', { image: IMAGE, websocketPaths: ['/ws/'] }), /websocketPaths: /],
    ['cache on Gunicorn', (s) => new DjangoGunicornService(s, 'W', { image: IMAGE, cache: { name: 'x', items: 1 } } as any), /cache: .*only under uWSGI/],
    ['websocketPaths on uWSGI', (s) => new DjangoUwsgiService(s, 'W', { image: IMAGE, websocketPaths: ['/ws/'] } as any), /websocketPaths: /],
    ['Daphne facing the ALB with a 60 s idle timeout', (s) => new DjangoDaphneService(s, 'W', { image: IMAGE, reverseProxy: ReverseProxy.none(), idleTimeout: Duration.seconds(60) }), /idleTimeout: .*fixed 60 s/],
    ['Daphne on several tasks without a channel layer', (s) => new DjangoDaphneService(s, 'W', { image: IMAGE, maxTasks: 3 }), /channelLayer: /],
    ['a zero WebSocket connect timeout', (s) => new DjangoDaphneService(s, 'W', { image: IMAGE, websocketConnectTimeout: Duration.seconds(0) }), /websocketConnectTimeout: must be a whole number of seconds >= 1/],
    ['Gunicorn workers through extraArgs', (s) => new DjangoGunicornService(s, 'W', { image: IMAGE, extraArgs: ['--workers=3', '--timeout', '90'] }), /'--workers=3' overrides --workers; set workers instead[\s\S]*'--timeout' overrides --timeout; set workerTimeout instead/],
    ['a ping interval above the WebSocket read timeout', (s) => new DjangoDaphneService(s, 'W', { image: IMAGE, pingInterval: Duration.seconds(30), websocketReadTimeout: Duration.seconds(25) }), /websocketReadTimeout: /],
    ['a WebSocket read timeout on Daphne without a proxy', (s) => new DjangoDaphneService(s, 'W', { image: IMAGE, reverseProxy: ReverseProxy.none(), websocketReadTimeout: Duration.seconds(90) }), /websocketReadTimeout: is the proxy's read timeout/],
    ['uWSGI cheaper min above processes', (s) => new DjangoUwsgiService(s, 'W', { image: IMAGE, processes: 2, cheaper: { min: 4 } }), /cheaper/],
    ['uWSGI stopTimeout over the ECS limit', (s) => new DjangoUwsgiService(s, 'W', { image: IMAGE, stopTimeout: Duration.seconds(200) }), /stopTimeout: /],
    ['uWSGI keep-alive not above the ALB idle timeout', (s) => new DjangoUwsgiService(s, 'W', { image: IMAGE, reverseProxy: ReverseProxy.none(), httpKeepAlive: Duration.seconds(30) }), /httpKeepAlive: /],
  ])('%s', (_name, make, message) => {
    expect(validationMessage((scope) => make(scope as Stack))).toMatch(message);
  });
});
