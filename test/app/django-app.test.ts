import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DjangoApp, DjangoAppProps, DjangoDaphneService, DjangoDatabase, DjangoGunicornService, DjangoServerChoice, GunicornWorkerClass, StaticFiles } from '../../src';
import { formatFindings, nagFindings } from '../helpers/compliance';
import { IMAGE, envOf, newStack, validationMessage } from '../helpers/template';

function build(props: Partial<DjangoAppProps> = {}): { stack: Stack; app: DjangoApp; template: Template } {
  const stack = newStack();
  const app = new DjangoApp(stack, 'Site', { image: IMAGE, ...props });
  return { stack, app, template: Template.fromStack(stack) };
}

/** The app container of each service's task definition (not the one-off task's), services in template order. */
function appContainers(template: Template): any[] {
  const tds = template.findResources('AWS::ECS::TaskDefinition');
  return Object.values(template.findResources('AWS::ECS::Service'))
    .map((svc: any) => tds[svc.Properties.TaskDefinition.Ref].Properties.ContainerDefinitions.find((c: any) => c.Name === 'app'));
}

// GIVEN the README one-liner with WebSockets (built once: each template costs seconds)
const mixed = build({ requirements: { websockets: true } });
// GIVEN the simplest app
const simple = build();

describe('the simplest app', () => {
  test('is one Gunicorn gthread service behind Nginx, and says why', () => {
    expect(simple.app.decision).toMatchObject({ server: 'gunicorn', httpServer: 'gunicorn', gunicornWorkerClass: 'gthread' });
    expect(simple.app.services).toHaveLength(1);
    expect(simple.app.websocketService).toBeUndefined();
    simple.template.resourceCountIs('AWS::ECS::Service', 1);
    const [app] = appContainers(simple.template);
    expect(app.Command[0]).toBe('gunicorn');
    expect(app.Command).toContain('--worker-class=gthread');
  });

  test('shows the decision as metadata and one info annotation', () => {
    const meta = simple.app.node.metadata.find((m) => m.type === 'cdk-django:decision');
    expect(meta?.data).toEqual({ server: 'gunicorn', reason: simple.app.decision.reason });
    Annotations.fromStack(simple.stack).hasInfo('/Test/Site', Match.stringLikeRegexp('^cdk-django: gunicorn — Gunicorn: the simplest'));
  });

  test('is AwsSolutions-clean', () => {
    const findings = nagFindings(simple.stack);
    expect(formatFindings(findings)).toBe('');
  });
});

describe('a mixed app (WebSockets with sync views)', () => {
  test('runs Gunicorn gthread for HTTP and Gunicorn\'s uvicorn worker for /ws/ as two services in one cluster', () => {
    expect(mixed.app.decision.server).toBe('gunicorn+uvicorn');
    mixed.template.resourceCountIs('AWS::ECS::Service', 2);
    mixed.template.resourceCountIs('AWS::ECS::Cluster', 1);
    mixed.template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
    const [web, ws] = appContainers(mixed.template);
    expect(web.Command).toEqual(expect.arrayContaining(['--worker-class=gthread', 'config.wsgi:application']));
    expect(ws.Command).toEqual(expect.arrayContaining(['--worker-class=uvicorn.workers.UvicornWorker', 'config.asgi:application']));
    expect(mixed.app.websocketService).toBeInstanceOf(DjangoGunicornService);
  });

  test('the WebSocket service gets the cache as its Channels layer and runs two tasks or more', () => {
    mixed.template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 1);
    const [, ws] = appContainers(mixed.template);
    expect(envOf(ws).REDIS_URL).toBeDefined();
    const targets = Object.values(mixed.template.findResources('AWS::ApplicationAutoScaling::ScalableTarget')) as any[];
    expect(targets.map((t) => [t.Properties.MinCapacity, t.Properties.MaxCapacity])).toEqual([[2, 8], [2, 8]]);
  });

  test('server: \'gunicorn+daphne\' still builds Daphne for the WebSocket paths', () => {
    const { app, template } = build({ requirements: { websockets: true }, server: DjangoServerChoice.GUNICORN_DAPHNE });
    expect(app.websocketService).toBeInstanceOf(DjangoDaphneService);
    expect(appContainers(template).map((c) => c.Command[0]).sort()).toEqual(['daphne', 'gunicorn']);
  });

  test('routes the WebSocket paths to the WebSocket service with a rule at a high priority users will not clash with', () => {
    mixed.template.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 1);
    mixed.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 40000,
      Conditions: Match.arrayWith([{ Field: 'path-pattern', PathPatternConfig: { Values: ['/ws/*'] } }]),
      Actions: [{ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp('SiteWebSocketsTargetGroup') } }],
    });
    // everything else is the listener's default: the HTTP service
    mixed.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp('SiteWebTargetGroup') } }],
    });
  });

  test('shares settings: one SECRET_KEY, the same allowed hosts and trusted origins', () => {
    const secretKeys = Object.values(mixed.template.findResources('AWS::SecretsManager::Secret'))
      .filter((r: any) => r.Properties.Description === 'Django SECRET_KEY');
    expect(secretKeys).toHaveLength(1);
    const [a, b] = appContainers(mixed.template);
    expect(a.Secrets).toEqual(b.Secrets);
    expect(envOf(a).DJANGO_ALLOWED_HOSTS).toEqual(envOf(b).DJANGO_ALLOWED_HOSTS);
    expect(envOf(a).DJANGO_CSRF_TRUSTED_ORIGINS).toEqual(envOf(b).DJANGO_CSRF_TRUSTED_ORIGINS);
  });

  test('scales the WebSocket service on memory as well as CPU, and the HTTP service on CPU', () => {
    const policies = Object.values(mixed.template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy')) as any[];
    const metrics = policies.map((p) => p.Properties.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType);
    expect(metrics.sort()).toEqual(['ECSServiceAverageCPUUtilization', 'ECSServiceAverageCPUUtilization', 'ECSServiceAverageMemoryUtilization']);
  });

  test('is AwsSolutions-clean', () => {
    expect(formatFindings(nagFindings(mixed.stack))).toBe('');
  });
});

describe('migrations and alarms', () => {
  test('alarms watch every service by default; no migrations without a database', () => {
    expect(mixed.app.alarms!.serviceAlarms.map((a) => a.service)).toEqual([mixed.app.httpService, mixed.app.websocketService]);
    mixed.template.resourceCountIs('AWS::CloudWatch::Alarm', 10);
    mixed.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    mixed.template.resourceCountIs('Custom::DjangoMigrations', 0);
    expect(mixed.app.migrations).toBeUndefined();
  });

  test('alarms can be turned off', () => {
    const { template } = build({ alarms: { enabled: false } });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
  });

  test('migrations run in the HTTP service\'s one-off task before every service rolls out, and a failure alarms', () => {
    const { app, template, stack } = build({
      requirements: { websockets: true },
      migrations: { enabled: true, command: ['python', 'manage.py', 'migrate', '--noinput'] },
      alarms: { createTopic: true },
    });
    const cr = template.findResources('Custom::DjangoMigrations');
    const [crId] = Object.keys(cr);
    expect((Object.values(cr)[0] as any).Properties).toMatchObject({ ContainerName: 'app', Command: ['python', 'manage.py', 'migrate', '--noinput'] });
    const services = template.findResources('AWS::ECS::Service');
    expect(Object.keys(services)).toHaveLength(2);
    for (const s of Object.values(services) as any[]) expect(s.DependsOn).toEqual(expect.arrayContaining([crId]));
    // the run uses the HTTP service's security group
    expect(JSON.stringify((Object.values(cr)[0] as any).Properties.SecurityGroups))
      .toBe(JSON.stringify((Object.values(services)[0] as any).Properties.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups));
    expect(app.alarms!.migrationsAlarm).toBeDefined();
    template.resourceCountIs('AWS::CloudWatch::Alarm', 11);
    expect(formatFindings(nagFindings(stack))).toBe('');
  });
});

describe('other layouts', () => {
  test('high concurrency picks uWSGI with adaptive spawning', () => {
    const { app, template } = build({ requirements: { expectedConcurrency: 2000 } });
    expect(app.decision.server).toBe('uwsgi');
    const [c] = appContainers(template);
    expect(JSON.stringify(envOf(c))).toContain('cheaper = 1');
  });

  test('the uWSGI cache requirement renders a cache2 named default', () => {
    const { template } = build({ requirements: { uwsgiCache: true } });
    expect(JSON.stringify(envOf(appContainers(template)[0]))).toContain('cache2 = name=default,items=1000');
  });

  test('WebSockets in an ASGI app is one Gunicorn with the uvicorn worker, with the cache as its Channels layer', () => {
    const { app, template } = build({ requirements: { websockets: true, asgi: true } });
    expect(app.decision.server).toBe('gunicorn');
    template.resourceCountIs('AWS::ECS::Service', 1);
    expect(appContainers(template)[0].Command).toEqual(expect.arrayContaining(['--worker-class=uvicorn.workers.UvicornWorker']));
    // the proxy passes /ws/ on as WebSockets, with a read timeout above uvicorn's 20 s pings
    expect(JSON.stringify(template.toJSON())).toMatch(/location \/ws\/ \{[^}]*Upgrade[^}]*proxy_read_timeout 60s/);
    template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 1);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 8 });
    expect(envOf(appContainers(template)[0]).REDIS_URL).toBeDefined();
  });

  test('an explicit channelLayer replaces the default cache: no ElastiCache, the layer\'s REDIS_URL, two tasks', () => {
    const { template } = build({ requirements: { websockets: true }, channelLayer: { redisUrl: 'rediss://layer.internal:6380/0' } });
    template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
    const [, ws] = appContainers(template);
    expect(envOf(ws).REDIS_URL).toBe('rediss://layer.internal:6380/0');
    const targets = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalableTarget')) as any[];
    expect(targets.map((t) => t.Properties.MinCapacity)).toEqual([2, 2]);
  });

  test('without a cache, the WebSocket service runs one task and says why', () => {
    const { stack, template } = build({ requirements: { websockets: true, asgi: true }, cacheOptions: { enabled: false } });
    template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 1, MaxCapacity: 1 });
    // on the user's construct (the DjangoApp), not the service it made
    Annotations.fromStack(stack).hasWarning('/Test/Site', Match.stringLikeRegexp('No channelLayer'));
  });

  test('an ASGI app without WebSockets runs Gunicorn with the uvicorn worker and the ASGI module', () => {
    const { template } = build({ requirements: { asgi: true }, asgiModule: 'mysite.asgi:application' });
    const [c] = appContainers(template);
    expect(c.Command).toEqual(expect.arrayContaining(['--worker-class=uvicorn.workers.UvicornWorker', 'mysite.asgi:application']));
  });

  test('a mixed app with a certificate trusts https origins on both services', () => {
    const stack = newStack();
    new DjangoApp(stack, 'Site', {
      image: IMAGE,
      requirements: { websockets: true, websocketPaths: ['/ws/', '/live/'] },
      allowedHosts: ['example.com'],
      certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:111111111111:certificate/abc'),
      websocketRulePriority: 7,
    });
    const t = Template.fromStack(stack);
    for (const c of appContainers(t)) expect(envOf(c).DJANGO_CSRF_TRUSTED_ORIGINS).toBe('https://example.com');
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 7,
      Conditions: [
        { Field: 'host-header', HostHeaderConfig: { Values: ['example.com'] } },
        { Field: 'path-pattern', PathPatternConfig: { Values: ['/ws/*', '/live/*'] } },
      ],
    });
  });
});

describe('the data tier', () => {
  // GIVEN the full shape: database, cache, static files on CloudFront, WebSockets
  const full = build({
    requirements: { websockets: true },
    databaseOptions: {},
    staticSite: { media: true },
  });
  const [web, ws] = appContainers(full.template);

  test('creates the database, cache and static site and gives every app container their settings', () => {
    full.template.resourceCountIs('AWS::RDS::DBCluster', 1);
    full.template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 1);
    full.template.resourceCountIs('AWS::CloudFront::Distribution', 1);
    for (const c of [web, ws]) {
      expect(Object.keys(envOf(c))).toEqual(expect.arrayContaining([
        'DATABASE_HOST', 'DATABASE_PORT', 'DATABASE_NAME', 'DJANGO_CONN_MAX_AGE', 'REDIS_URL',
        'DJANGO_STATIC_URL', 'DJANGO_STATIC_BUCKET', 'DJANGO_MEDIA_BUCKET',
      ]));
      const secretNames = c.Secrets.map((x: any) => x.Name);
      expect(secretNames.sort()).toEqual(['DATABASE_PASSWORD', 'DATABASE_USER', 'DJANGO_SECRET_KEY', 'REDIS_PASSWORD']);
    }
    // the static URL is the distribution's, not a path on the app
    expect(JSON.stringify(envOf(web).DJANGO_STATIC_URL)).toMatch(/StaticSiteDistribution.*DomainName/);
  });

  test('admits both services to the database and cache ports, and nobody else', () => {
    const ingress = Object.values(full.template.findResources('AWS::EC2::SecurityGroupIngress')) as any[];
    const toDb = ingress.filter((r) => JSON.stringify(r.Properties.GroupId).includes('SiteDatabase') && r.Properties.FromPort === 5433);
    const sources = toDb.map((r) => JSON.stringify(r.Properties.SourceSecurityGroupId));
    expect(sources.some((x) => x.includes('SiteWebService'))).toBe(true);
    expect(sources.some((x) => x.includes('SiteWebSocketsService'))).toBe(true);
    const toCache = ingress.filter((r) => JSON.stringify(r.Properties.GroupId).includes('SiteCache'));
    expect(toCache.map((r) => r.Properties.FromPort)).toEqual([6380, 6380]);
  });

  test('runs migrate and collectstatic before the services, with write access to the static prefix only', () => {
    const cr = Object.values(full.template.findResources('Custom::DjangoMigrations'))[0] as any;
    expect(cr.Properties.Command).toEqual(['sh', '-c', 'python manage.py migrate --noinput && python manage.py collectstatic --noinput']);
    const policies = Object.values(full.template.findResources('AWS::IAM::Policy')) as any[];
    const webTaskPolicy = policies.find((p) => JSON.stringify(p.Properties.Roles).includes('SiteWebTaskTaskRole'));
    expect(JSON.stringify(webTaskPolicy.Properties.PolicyDocument)).toMatch(/static\/\*/);
    const wsTaskPolicy = policies.find((p) => JSON.stringify(p.Properties.Roles).includes('SiteWebSocketsTaskTaskRole'));
    expect(JSON.stringify(wsTaskPolicy.Properties.PolicyDocument)).not.toMatch(/static\/\*/);
    expect(JSON.stringify(wsTaskPolicy.Properties.PolicyDocument)).toMatch(/media\/\*/);
  });

  test('no secret value appears in the template', () => {
    const json = JSON.stringify(full.template.toJSON());
    expect(json).not.toMatch(/"(Password|MasterUserPassword|AuthToken)":"[^{]/);
    expect(json).not.toContain('"SecretString":');
  });

  test('is AwsSolutions-clean', () => {
    expect(formatFindings(nagFindings(full.stack))).toBe('');
  });

  test('an existing database gets the same settings and migrations', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 1 });
    const sg = new ec2.SecurityGroup(stack, 'DbSg', { vpc });
    const secret = new secretsmanager.Secret(stack, 'DbSecret');
    const db = DjangoDatabase.fromExisting(stack, 'Db', { host: 'db.internal', port: 5432, secret, securityGroup: sg });
    new DjangoApp(stack, 'Site', { image: IMAGE, vpc, database: db });
    const t = Template.fromStack(stack);
    expect(envOf(appContainers(t)[0])).toMatchObject({ DATABASE_HOST: 'db.internal', DATABASE_PORT: '5432' });
    t.resourceCountIs('Custom::DjangoMigrations', 1);
    t.resourceCountIs('AWS::RDS::DBCluster', 0);
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 5432, GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('DbSg'), 'GroupId'] } });
  });
});

describe('bad props throw a ValidationError naming the prop', () => {
  test.each<[string, Partial<DjangoAppProps>, RegExp]>([
    ['a WSGI-only override with WebSockets', { requirements: { websockets: true }, server: DjangoServerChoice.UWSGI }, /server: 'uwsgi' cannot serve WebSockets/],
    ['a WSGI module for one uvicorn service', { requirements: { websockets: true, preferSimplicity: true }, wsgiModule: 'mysite.wsgi:application' }, /wsgiModule: the UVICORN worker class runs an ASGI app; use asgiModule/],
    ['conflicting requirements', { requirements: { preferSimplicity: true, uwsgiCache: true } }, /requirements.preferSimplicity: /],
    ['a rule priority out of range', { requirements: { websockets: true }, websocketRulePriority: 0 }, /websocketRulePriority: /],
    ['static files both ways', { staticSite: {}, staticFiles: StaticFiles.appServed() }, /staticFiles: staticSite serves/],
    ['a data setting in environment', { databaseOptions: {}, environment: { DATABASE_HOST: 'x' } }, /environment: DATABASE_HOST is set from the data tier/],
  ])('%s', (_name, props, message) => {
    expect(validationMessage((scope) => new DjangoApp(scope, 'Site', { image: IMAGE, ...props }))).toMatch(message);
  });
});

test.each([
  ['Daphne', (scope: Construct, props: object) => new DjangoDaphneService(scope, 'Ws', { image: IMAGE, ...props })],
  ['Gunicorn\'s uvicorn worker', (scope: Construct, props: object) => new DjangoGunicornService(scope, 'Ws', {
    image: IMAGE, workerClass: GunicornWorkerClass.UVICORN, websocketPaths: ['/ws/'], ...props,
  })],
])('%s refuses a REDIS_URL in environment that differs from its channel layer', (_name, make) => {
  expect(validationMessage((scope) => make(scope, {
    channelLayer: { redisUrl: 'rediss://a.example:6380/0' },
    environment: { REDIS_URL: 'rediss://b.example:6380/0' },
  }))).toMatch(/environment: REDIS_URL differs from channelLayer.redisUrl/);
});

describe('autoscaling targets reach every service', () => {
  const policies = (t: Template) => Object.values(t.findResources('AWS::ApplicationAutoScaling::ScalingPolicy')).map((p: any) => p.Properties.TargetTrackingScalingPolicyConfiguration)
    .map((c: any) => `${c.PredefinedMetricSpecification.PredefinedMetricType}:${c.TargetValue}`).sort();

  test('the defaults: CPU 60 on both services, memory 70 on the WebSocket service only', () => {
    expect(policies(mixed.template)).toEqual(['ECSServiceAverageCPUUtilization:60', 'ECSServiceAverageCPUUtilization:60', 'ECSServiceAverageMemoryUtilization:70']);
  });

  test('targetCpuUtilization and targetMemoryUtilization of the app apply to each service', () => {
    const { template } = build({ requirements: { websockets: true }, targetCpuUtilization: 50, targetMemoryUtilization: 80 });
    expect(policies(template)).toEqual(['ECSServiceAverageCPUUtilization:50', 'ECSServiceAverageCPUUtilization:50',
      'ECSServiceAverageMemoryUtilization:80', 'ECSServiceAverageMemoryUtilization:80']);
  });

  test('a bad target names the prop', () => {
    expect(validationMessage((s) => new DjangoApp(s, 'Site', { image: IMAGE, targetMemoryUtilization: 95 }))).toMatch(/targetMemoryUtilization: must be 10-90 percent/);
  });
});
