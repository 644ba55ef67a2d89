import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { deployGraphProblems } from './helpers/lifecycle-checks';
import { monthlyCost, PriceTable, unpricedTypes } from '../benchmarks/lib/cost-model';
import { commercialRegionCodes } from '../src/regions';
import { migrationsTaskProblems, runTaskOutputProblems } from './helpers/one-off-checks';
import { physicalNameProblems, regionMapGaps, regionalFeatureGaps, vendedLogProblems } from './helpers/region-checks';
import { unpinnedSharedSecrets } from './helpers/template-checks';
import { gettingStarted, readmeSteps } from './integration/lib/readme-steps';

const root = join(__dirname, '..');
const PRICES: PriceTable = JSON.parse(readFileSync(join(root, 'benchmarks', 'prices.json'), 'utf8'));
const examples = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ts')).map((f) => basename(f, '.ts')).sort();

/** Runs an example app the way `cdk synth` does (CDK_OUTDIR) and returns its templates by stack name. */
interface Synthesized {
  status: number | null;
  output: string;
  templates: Record<string, any>;
  /** Each stack's region, undefined when environment-agnostic. */
  regions: Record<string, string | undefined>;
}

function synthExample(file: string): Synthesized {
  const out = mkdtempSync(join(tmpdir(), 'cdk-django-example-'));
  try {
    const res = spawnSync('npx', ['tsx', '--tsconfig', 'tsconfig.typecheck.json', file], {
      cwd: root, encoding: 'utf8', env: { ...process.env, CDK_OUTDIR: out },
    });
    const templates: Record<string, any> = {};
    for (const f of readdirSync(out).filter((n) => n.endsWith('.template.json'))) {
      // Asset hashes (the sample project's image, handler bundles) change with any edit there: not what a snapshot is for.
      templates[basename(f, '.template.json')] = JSON.parse(readFileSync(join(out, f), 'utf8').replace(/\b[0-9a-f]{64}\b/g, '<asset-hash>'));
    }
    // The region of each stack from the cloud assembly: `aws://<account>/<region>`, `unknown-region` when env-agnostic.
    const regions: Record<string, string | undefined> = {};
    const manifestFile = join(out, 'manifest.json');
    const manifest = existsSync(manifestFile) ? JSON.parse(readFileSync(manifestFile, 'utf8')) : { artifacts: {} };
    for (const [name, artifact] of Object.entries<any>(manifest.artifacts ?? {})) {
      const region = artifact.type === 'aws:cloudformation:stack' ? String(artifact.environment).split('/')[3] : undefined;
      if (region) regions[name] = region === 'unknown-region' ? undefined : region;
    }
    return { status: res.status, output: res.stdout + res.stderr, templates, regions };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function resourcesOf(template: any, type: string): any[] {
  return Object.values<any>(template.Resources).filter((r) => r.Type === type).map((r) => r.Properties);
}

/** The task definitions the ECS services run (not the one-off task's). */
function serviceTaskDefinitions(template: any): any[] {
  return resourcesOf(template, 'AWS::ECS::Service').map((s) => template.Resources[s.TaskDefinition.Ref].Properties);
}

/** What each example must show, beyond its snapshot. */
const EXPECT: Record<string, (t: any) => void> = {
  'gunicorn-quickstart': (t) => {
    expect(resourcesOf(t, 'AWS::ECS::Service')[0].LoadBalancers[0].ContainerName).toBe('nginx');
    expect(resourcesOf(t, 'AWS::ElasticLoadBalancingV2::Listener').map((l) => l.Port)).toEqual([80]);
  },
  'gunicorn-https': (t) => {
    expect(resourcesOf(t, 'AWS::ElasticLoadBalancingV2::Listener').map((l) => l.Protocol).sort()).toEqual(['HTTP', 'HTTPS']);
    const names = resourcesOf(t, 'AWS::ECS::TaskDefinition')[0].ContainerDefinitions.map((c: any) => c.Name);
    expect(names).toEqual(['app', 'nginx', 'static-init']);
  },
  'uwsgi-high-concurrency': (t) => {
    const app = resourcesOf(t, 'AWS::ECS::TaskDefinition')[0].ContainerDefinitions.find((c: any) => c.Name === 'app');
    const ini = app.Environment.find((e: any) => e.Name === 'CDK_DJANGO_UWSGI_INI').Value;
    expect(ini).toMatch(/^cheaper-algo = spare$/m);
    expect(ini).toMatch(/^cache2 = name=default,items=5000,blocksize=65536$/m);
  },
  'daphne-channels': (t) => {
    const app = resourcesOf(t, 'AWS::ECS::TaskDefinition')[0].ContainerDefinitions.find((c: any) => c.Name === 'app');
    expect(app.Command[0]).toBe('daphne');
    expect(app.Environment.find((e: any) => e.Name === 'REDIS_URL').Value).toMatch(/^rediss:/);
    expect(resourcesOf(t, 'AWS::ApplicationAutoScaling::ScalableTarget')[0]).toMatchObject({ MinCapacity: 2, MaxCapacity: 8 });
    // clients get HTTP/2 from the ALB's HTTPS listener
    expect(resourcesOf(t, 'AWS::ElasticLoadBalancingV2::Listener').map((l) => l.Protocol)).toContain('HTTPS');
    expect(resourcesOf(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[0].LoadBalancerAttributes)
      .toContainEqual({ Key: 'routing.http2.enabled', Value: 'true' });
    const tg = resourcesOf(t, 'AWS::ElasticLoadBalancingV2::TargetGroup')[0];
    expect(tg.TargetGroupAttributes).toContainEqual({ Key: 'stickiness.enabled', Value: 'false' });
  },
  'gunicorn-channels': (t) => {
    const app = resourcesOf(t, 'AWS::ECS::TaskDefinition')[0].ContainerDefinitions.find((c: any) => c.Name === 'app');
    expect(app.Command).toEqual(expect.arrayContaining(['gunicorn', 'chat.asgi:application', '--worker-class=uvicorn.workers.UvicornWorker']));
    expect(app.Environment.find((e: any) => e.Name === 'REDIS_URL').Value).toMatch(/^rediss:/);
    expect(app.Secrets.map((x: any) => x.Name)).toContain('REDIS_PASSWORD');
    // with a shared layer: two tasks or more, scaled on memory as well as CPU
    expect(resourcesOf(t, 'AWS::ApplicationAutoScaling::ScalableTarget')[0]).toMatchObject({ MinCapacity: 2, MaxCapacity: 8 });
    expect(resourcesOf(t, 'AWS::ApplicationAutoScaling::ScalingPolicy').map((p) => p.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType).sort())
      .toEqual(['ECSServiceAverageCPUUtilization', 'ECSServiceAverageMemoryUtilization']);
  },
  'django-app-quickstart': (t) => {
    // no requirements: one Gunicorn service behind Nginx, no cache, the app module found in the project
    const apps = serviceTaskDefinitions(t).map((td) => td.ContainerDefinitions.find((c: any) => c.Name === 'app'));
    expect(apps).toHaveLength(1);
    // the one-off command every DjangoApp offers, with no prop
    expect(runTaskOutputProblems({ name: 'quickstart', template: t })).toEqual([]);
    expect(Object.keys(t.Outputs).filter((id) => /RunTaskCommand/.test(id))).toHaveLength(1);
    expect(apps[0].Command[0]).toBe('gunicorn');
    expect(apps[0].Command).toContain('config.wsgi:application'); // examples/mysite/config/wsgi.py
    expect(apps[0].Environment).toContainEqual({ Name: 'DJANGO_DEBUG', Value: 'false' });
    expect(resourcesOf(t, 'AWS::ElastiCache::ReplicationGroup')).toHaveLength(0);
    // the image is built from the sample project (an asset), never a hard-coded tag
    expect(JSON.stringify(apps[0].Image)).toContain('cdk-hnb659fds-container-assets');
  },
  'django-app-websockets': (t) => {
    // the WebSocket requirement makes a mixed app: Gunicorn gthread and Gunicorn uvicorn services behind one ALB, and a cache
    const workerClasses = serviceTaskDefinitions(t)
      .map((td) => td.ContainerDefinitions.find((c: any) => c.Name === 'app').Command.find((a: string) => a.startsWith('--worker-class='))).sort();
    expect(workerClasses).toEqual(['--worker-class=gthread', '--worker-class=uvicorn.workers.UvicornWorker']);
    expect(resourcesOf(t, 'AWS::ElasticLoadBalancingV2::ListenerRule')[0].Conditions)
      .toContainEqual({ Field: 'path-pattern', PathPatternConfig: { Values: ['/ws/*'] } });
    expect(resourcesOf(t, 'AWS::ElastiCache::ReplicationGroup')).toHaveLength(1);
  },
  'django-app-channels': (t) => {
    // mixed: Gunicorn gthread + Gunicorn uvicorn, HTTPS, database, cache, CDN, migrations + collectstatic, alarms to a topic
    const apps = serviceTaskDefinitions(t).map((td) => td.ContainerDefinitions.find((c: any) => c.Name === 'app'));
    expect(apps.map((c: any) => c.Command.find((a: string) => a.startsWith('--worker-class='))).sort())
      .toEqual(['--worker-class=gthread', '--worker-class=uvicorn.workers.UvicornWorker']);
    expect(migrationsTaskProblems({ name: 'channels', template: t })).toEqual([]);
    expect(resourcesOf(t, 'AWS::RDS::DBCluster')[0]).toMatchObject({ StorageEncrypted: true, Port: 5433 });
    // deletion protection is switched on once created, for the database and the load balancer
    expect(resourcesOf(t, 'Custom::DjangoDeletionProtection').map((p) => `${p.Kind} ${p.Enabled}`).sort()).toEqual(['DBCluster true', 'LoadBalancer true']);
    expect(resourcesOf(t, 'AWS::RDS::DBCluster')[0].ServerlessV2ScalingConfiguration).toEqual({ MinCapacity: 0.5, MaxCapacity: 8 });
    expect(resourcesOf(t, 'AWS::ElastiCache::ReplicationGroup')[0]).toMatchObject({ TransitEncryptionEnabled: true, AtRestEncryptionEnabled: true });
    expect(resourcesOf(t, 'AWS::CloudFront::Distribution')).toHaveLength(1);
    expect(resourcesOf(t, 'Custom::DjangoMigrations')[0].Command).toEqual(['sh', '-c', 'python manage.py migrate --noinput && python manage.py collectstatic --noinput']);
    for (const a of resourcesOf(t, 'AWS::CloudWatch::Alarm')) expect(a.AlarmActions).toHaveLength(1);
    expect(resourcesOf(t, 'AWS::ElasticLoadBalancingV2::Listener').map((l) => l.Protocol).sort()).toEqual(['HTTP', 'HTTPS']);
  },
  'django-app-low-cost': (t) => {
    expect(resourcesOf(t, 'AWS::EC2::NatGateway')).toHaveLength(1);
    for (const td of resourcesOf(t, 'AWS::ECS::TaskDefinition')) {
      expect(td.RuntimePlatform).toEqual({ CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' });
    }
    const [web] = resourcesOf(t, 'AWS::ECS::Service');
    expect(web.CapacityProviderStrategy).toEqual([
      { CapacityProvider: 'FARGATE', Base: 1, Weight: 0 },
      { CapacityProvider: 'FARGATE_SPOT', Weight: 1 },
    ]);
    expect(resourcesOf(t, 'AWS::ECS::ClusterCapacityProviderAssociations')[0].CapacityProviders).toEqual(['FARGATE', 'FARGATE_SPOT']);
  },
  'django-app-existing-vpc': (t) => {
    // no VPC of its own: the services and the database go into the given subnets
    expect(resourcesOf(t, 'AWS::EC2::VPC')).toHaveLength(0);
    expect(resourcesOf(t, 'AWS::RDS::DBSubnetGroup')[0].SubnetIds).toEqual(['subnet-0c000000000000001', 'subnet-0c000000000000002']);
    for (const s of resourcesOf(t, 'AWS::ECS::Service')) {
      expect(s.NetworkConfiguration.AwsvpcConfiguration.Subnets).toEqual(['subnet-0b000000000000001', 'subnet-0b000000000000002']);
    }
    const app = resourcesOf(t, 'AWS::ECS::TaskDefinition')[0].ContainerDefinitions.find((c: any) => c.Name === 'app');
    expect(app.Command[0]).toBe('sh'); // uWSGI started by the rendered-ini script
    expect(JSON.stringify(app.Environment)).toContain('cache2 = name=default');
    expect(resourcesOf(t, 'AWS::RDS::DBInstance')[0]).toMatchObject({ MultiAZ: true, StorageEncrypted: true });
    expect(resourcesOf(t, 'Custom::DjangoDeletionProtection').map((p) => p.Kind)).toContain('DBInstance');
  },
  'django-app-one-off': (t) => {
    // the migrations run the one-off task; its run-task line, the data fix's and the shell's name the template's own resources
    expect(migrationsTaskProblems({ name: 'one-off', template: t })).toEqual([]);
    expect(runTaskOutputProblems({ name: 'one-off', template: t })).toEqual([]);
    const fix = t.Outputs.ClearSessions.Value['Fn::Join'][1];
    expect(fix.slice(-1)[0]).toContain('"command":["python","manage.py","clearsessions"]');
    expect(fix.filter((p: any) => typeof p !== 'string')).toEqual(
      Object.entries<any>(t.Outputs).find(([id]) => /RunTaskCommand/.test(id))![1].Value['Fn::Join'][1].filter((p: any) => typeof p !== 'string'));
    expect(Object.keys(t.Outputs).filter((id) => /ShellCommand/.test(id))).toHaveLength(1);
    expect(resourcesOf(t, 'AWS::ECS::Cluster')[0].Configuration.ExecuteCommandConfiguration).toMatchObject({ Logging: 'OVERRIDE' });
  },
  'django-app-canary': (t) => {
    // a canary of 5 % for 10 minutes, then 10 minutes of bake, rolled back on the 5xx alarm (2 %) or a failed smoke test
    const service = resourcesOf(t, 'AWS::ECS::Service')[0];
    expect(service.DeploymentConfiguration).toMatchObject({
      Strategy: 'CANARY',
      BakeTimeInMinutes: 10,
      CanaryConfiguration: { CanaryPercent: 5, CanaryBakeTimeInMinutes: 10 },
      Alarms: { Enable: true, Rollback: true },
      LifecycleHooks: [{ LifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'] }],
    });
    expect(resourcesOf(t, 'AWS::ElasticLoadBalancingV2::TargetGroup')).toHaveLength(2);
    expect(resourcesOf(t, 'AWS::ElasticLoadBalancingV2::Listener').map((l) => `${l.Protocol}:${l.Port}`).sort()).toEqual(['HTTP:80', 'HTTPS:443', 'HTTPS:9000']);
    expect(resourcesOf(t, 'AWS::CloudWatch::Alarm').find((a) => /5XX/.test(JSON.stringify(a.Metrics ?? []))).Threshold).toBe(2);
    // the office range reaches the test port, nobody else but the smoke test
    const ingress = resourcesOf(t, 'AWS::EC2::SecurityGroup').flatMap((g) => g.SecurityGroupIngress ?? []).filter((r: any) => r.FromPort === 9000);
    expect(ingress.map((r: any) => r.CidrIp)).toEqual(['203.0.113.0/24']);
  },
  'django-app-workers': (t) => {
    // a Celery worker (Spot) and beat beside the web service: no load balancer, the cache as broker, beat once
    const tds = resourcesOf(t, 'AWS::ECS::TaskDefinition').map((td) => td.ContainerDefinitions[0]);
    const worker = tds.find((c: any) => c.Name === 'worker' && c.Command[2] === 'worker');
    const beat = tds.find((c: any) => c.Name === 'worker' && c.Command[2] === 'beat');
    expect(worker.Command).toEqual(expect.arrayContaining(['celery', '--app=config', '--soft-time-limit=60', '--without-gossip', '--without-mingle']));
    expect(worker.StopTimeout).toBe(100);
    expect(beat.Command).toContain('--schedule=/tmp/celerybeat-schedule');
    const services = resourcesOf(t, 'AWS::ECS::Service');
    expect(services.filter((s) => s.LoadBalancers)).toHaveLength(1);
    expect(services.filter((s) => s.DesiredCount === 1 && s.DeploymentConfiguration.MaximumPercent === 100)).toHaveLength(1);
    expect(services.filter((s) => s.CapacityProviderStrategy?.[0]?.CapacityProvider === 'FARGATE_SPOT')).toHaveLength(1);
    expect(resourcesOf(t, 'AWS::ElastiCache::ReplicationGroup')).toHaveLength(1);
    expect(JSON.stringify(worker.Image)).toContain('cdk-hnb659fds-container-assets');
  },
  'gunicorn-alb-direct': (t) => {
    expect(resourcesOf(t, 'AWS::ECS::Service')[0].LoadBalancers[0]).toMatchObject({ ContainerName: 'app', ContainerPort: 8000 });
  },
};

describe.each(examples)('examples/%s.ts', (name) => {
  let result: ReturnType<typeof synthExample>;
  beforeAll(() => {
    result = synthExample(`examples/${name}.ts`);
  });

  test('synthesizes with the cdk-nag plugins and no finding', () => {
    expect(result.output).not.toMatch(/ERROR/);
    expect(result.status).toBe(0);
    expect(Object.keys(result.templates).length).toBeGreaterThan(0);
  });

  test('shows what it is for', () => {
    expect(EXPECT[name]).toBeDefined();
    for (const t of Object.values(result.templates)) EXPECT[name](t);
  });

  test('passes the first-create dependency checks (migrations, services, alarm delivery)', () => {
    expect(Object.entries(result.templates).flatMap(([stack, template]) => deployGraphProblems({ name: `${name}/${stack}`, template }))).toEqual([]);
  });

  test('deploys in every commercial region, beside a second copy, and again after destroy', () => {
    // every stack's environment was read from the cloud assembly (guards against checking no region)
    expect(Object.keys(result.regions).sort()).toEqual(Object.keys(result.templates).sort());
    for (const [stackName, t] of Object.entries(result.templates)) {
      const region = result.regions[stackName];
      const regions = region ? [region] : commercialRegionCodes();
      expect(regionMapGaps(t, regions)).toEqual([]);
      expect(regionalFeatureGaps(t, regions)).toEqual([]);
      expect(physicalNameProblems(t, stackName, region)).toEqual([]);
      expect(vendedLogProblems(t)).toEqual([]);
    }
  });

  test('pins each secret read by a resource and by the tasks to one version on every side', () => {
    expect(Object.values(result.templates).flatMap((t) => unpinnedSharedSecrets(t))).toEqual([]);
  });

  test('prices every resource with a fixed cost (benchmarks/prices.json; the rest are listed as free)', () => {
    for (const t of Object.values(result.templates)) {
      expect(unpricedTypes(t)).toEqual([]);
      expect(monthlyCost(t, PRICES).total).toBeGreaterThan(0);
    }
  });

  test('matches its snapshot', () => {
    expect(result.templates).toMatchSnapshot();
  });
});

test('a known-bad app fails synthesis under the same plugins (the harness is not a no-op)', () => {
  const result = synthExample('test/fixtures/known-bad-app.ts');
  expect(result.status).not.toBe(0);
  expect(result.output).toMatch(/AwsSolutions-S1/);
});

describe('README', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  // `<!-- example: file#region -->` before a ts block quotes examples/file.ts, before a python block
  // examples/file.py (e.g. python/django_app_quickstart), between README:start and README:end comments.
  const blocks = [...readme.matchAll(/<!-- example: ([\w/-]+)#([\w-]+) -->\s*```(ts|python)\n([\s\S]*?)```/g)];

  test('quotes example code', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
  });

  test.each([
    ['task-ip', 'ECS task IP'],
    ['data-tier', 'data tier'],
  ])('the settings block %s is the one the integration suite runs', (marker, title) => {
    const quoted = readme.match(new RegExp(`<!-- settings: ${marker} -->\\s*\`\`\`python\\n([\\s\\S]*?)\`\`\``));
    const sample = readFileSync(join(root, 'examples/mysite/config/settings.py'), 'utf8')
      .match(new RegExp(`(# --- cdk-django: ${title} ---[\\s\\S]*?# --- end cdk-django: ${title} ---)`));
    expect(quoted).not.toBeNull();
    expect(sample).not.toBeNull();
    expect(quoted![1].trim()).toBe(sample![1].trim());
  });

  test('"Getting started" gives, in order, every file the newcomer integration test applies to a fresh startproject', () => {
    const steps = readmeSteps(gettingStarted(readme)).map((s) => `${s.kind} ${s.path}`);
    expect(steps).toEqual(['file cdk.json', 'file main.ts', 'file mysite/requirements.txt', 'file mysite/Dockerfile',
      'append mysite/mysite/settings.py', 'append mysite/mysite/urls.py']);
  });

  test.each([
    ['append: mysite/mysite/settings.py', 'examples/mysite/config/settings.py', 'settings'],
    ['sample: config/asgi.py Channels routing', 'examples/mysite/config/asgi.py', 'Channels routing'],
  ])('the block <!-- %s --> is the sample project\'s (%s), which the integration suite runs', (marker, file, title) => {
    const quoted = readme.match(new RegExp(`<!-- ${marker} -->\\s*\`\`\`python\\n([\\s\\S]*?)\`\`\``));
    const sample = readFileSync(join(root, file), 'utf8')
      .match(new RegExp(`(# --- cdk-django: ${title} ---[\\s\\S]*?# --- end cdk-django: ${title} ---)`));
    expect(quoted).not.toBeNull();
    expect(sample).not.toBeNull();
    expect(quoted![1].trim()).toBe(sample![1].trim());
  });

  test('quotes the Python examples too', () => {
    expect(blocks.filter((b) => b[3] === 'python').map((b) => b[1]).sort()).toEqual(['python/django_app_channels', 'python/django_app_quickstart']);
  });

  test.each(blocks.map((b) => [`${b[1]}#${b[2]}`, b[1], b[2], b[3], b[4]]))('%s is the code CI synthesizes', (_label, file, region, lang, code) => {
    const source = readFileSync(join(root, 'examples', `${file}.${lang === 'python' ? 'py' : 'ts'}`), 'utf8');
    const comment = lang === 'python' ? '#' : '//';
    const hit = source.match(new RegExp(`${comment} README:start ${region}\\n([\\s\\S]*?)${comment} README:end ${region}`));
    expect(hit).not.toBeNull();
    expect(code.trim()).toBe(hit![1].trim());
  });
});
