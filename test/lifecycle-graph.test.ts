/**
 * First-create dependency checks (test/helpers/lifecycle-checks.ts) on the database shapes a user can
 * pick, each shown to fail on a deliberately broken template; and the graph helpers they stand on. The
 * same checks run on every shape of template-checks.test.ts, every service-matrix combination and every
 * example.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { DatabaseEngineKind, DjangoApp, DjangoAppProps, DjangoDatabase, WorkerCommand } from '../src';
import { createSchedule, dependencyClosure, directDependencies } from './helpers/graph';
import {
  alarmDeliveryProblems, cycleProblems, databaseReadiness, deployGraphProblems, migrationsPolicyWaitProblems, migrationsWaitProblems,
  servicesWaitProblems, singletonProblems, tokenRetireProblems,
} from './helpers/lifecycle-checks';
import { CfnTemplate, Shape, resourcesOfType } from './helpers/template-checks';

const IMAGE = ecs.ContainerImage.fromRegistry('example/mysite:1');

function synth(name: string, props: Partial<DjangoAppProps> | ((stack: Stack) => Partial<DjangoAppProps>)): Shape {
  const stack = new Stack(new App(), name);
  const p = typeof props === 'function' ? props(stack) : props;
  new DjangoApp(stack, 'Site', { image: IMAGE, ...p });
  return { name, template: Template.fromStack(stack).toJSON() as CfnTemplate };
}

const SHAPES: Shape[] = [
  synth('aurora', { database: {} }),
  synth('aurora-proxy', { database: { proxy: true } }),
  synth('aurora-single-az', { database: { multiAz: false } }),
  synth('rds', { database: { engine: DatabaseEngineKind.RDS_INSTANCE } }),
  synth('rds-proxy', { database: { engine: DatabaseEngineKind.RDS_INSTANCE, proxy: true } }),
  synth('aurora-no-migrations', { database: {}, migrations: { enabled: false } }),
  synth('aurora-websockets', { database: {}, requirements: { websockets: true } }),
  synth('existing-database', (stack) => ({
    existingDatabase: DjangoDatabase.fromExisting(stack, 'Db', {
      host: 'db.example.internal',
      port: 5432,
      secret: secretsmanager.Secret.fromSecretNameV2(stack, 'DbSecret', 'db/credentials'),
      securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'DbSg', 'sg-0123456789abcdef0'),
    }),
  })),
  synth('user-topic', (stack) => ({ database: {}, alarms: { topic: new sns.Topic(stack, 'OnCall') } })),
  // a topic policy of the user's (TLS only) replaced the default policy: the alarms add CloudWatch to it
  synth('user-topic-tls', (stack) => ({ database: {}, alarms: { topic: new sns.Topic(stack, 'OnCall', { enforceSSL: true }) } })),
  // Celery worker and beat on the cache (Redis broker), and on SQS
  synth('aurora-workers', { database: {}, workers: [{ id: 'Celery', command: WorkerCommand.celeryWorker() }, { id: 'Beat', command: WorkerCommand.celeryBeat() }] }),
  synth('aurora-sqs-workers', { database: {}, taskQueue: {}, workers: [{ id: 'Celery', command: WorkerCommand.celeryWorker() }, { id: 'Beat', command: WorkerCommand.celeryBeat() }] }),
];
const byName = (name: string) => SHAPES.find((s) => s.name === name)!;

/** A deep copy of a shape's template, changed by `edit`, for negative cases. */
function broken(name: string, edit: (t: any) => void): Shape {
  const template = JSON.parse(JSON.stringify(byName(name).template));
  edit(template);
  return { name: `${name}-broken`, template };
}

const idOf = (t: CfnTemplate, type: string, pattern: RegExp = /./) => resourcesOfType(t, type).map(([id]) => id).find((id) => pattern.test(id))!;

describe('the graph helpers', () => {
  const t: CfnTemplate = {
    Resources: {
      A: { Type: 'X' },
      B: { Type: 'X', Properties: { P: { Ref: 'A' }, Q: { Ref: 'AWS::Region' } } },
      C: { Type: 'X', Properties: { P: { 'Fn::Sub': ['${B.Arn}/${Local}/${AWS::AccountId}', { Local: 'x' }] } } },
      D: { Type: 'X', DependsOn: 'C', Properties: { P: { 'Fn::GetAtt': ['A', 'Arn'] } } },
      E: { Type: 'X', Properties: { P: { 'Fn::GetAtt': 'D.Arn' } } },
    },
  };

  test('read DependsOn, Ref, GetAtt (both forms) and Fn::Sub, not pseudo parameters or Sub-local names', () => {
    expect([...directDependencies(t, 'B')]).toEqual(['A']);
    expect([...directDependencies(t, 'C')]).toEqual(['B']);
    expect([...directDependencies(t, 'D')].sort()).toEqual(['A', 'C']);
    expect([...directDependencies(t, 'E')]).toEqual(['D']);
    expect([...dependencyClosure(t, 'E')].sort()).toEqual(['A', 'B', 'C', 'D']);
  });

  test('schedule each resource as soon as its dependencies complete, and refuse a cycle', () => {
    const s = createSchedule(t, () => 1);
    expect(s.map((r) => `${r.id}@${r.start}`)).toEqual(['A@0', 'B@1', 'C@2', 'D@3', 'E@4']);
    expect(s.find((r) => r.id === 'D')!.waitedOn).toBe('C');
    const cyclic: CfnTemplate = { Resources: { A: { Type: 'X', DependsOn: 'B' }, B: { Type: 'X', Properties: { P: { Ref: 'A' } } } } };
    expect(() => createSchedule(cyclic)).toThrow(/cycle among: A, B/);
  });
});

describe('first create: what waits for what', () => {
  test('the shapes hold what the checks look for (guards against vacuous passes)', () => {
    expect(SHAPES.map((s) => [s.name, databaseReadiness(s.template).length, resourcesOfType(s.template, 'Custom::DjangoMigrations').length]))
      .toEqual([
        ['aurora', 2, 1], ['aurora-proxy', 3, 1], ['aurora-single-az', 1, 1], ['rds', 1, 1], ['rds-proxy', 2, 1],
        ['aurora-no-migrations', 2, 0], ['aurora-websockets', 2, 1], ['existing-database', 0, 1], ['user-topic', 2, 1],
        ['user-topic-tls', 2, 1], ['aurora-workers', 2, 1], ['aurora-sqs-workers', 2, 1],
      ]);
    // the worker shapes hold a Celery worker and beat, each using the database, and the cache token's retire step
    for (const name of ['aurora-workers', 'aurora-sqs-workers']) {
      const t = byName(name).template;
      expect(resourcesOfType(t, 'AWS::ECS::Service').map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort())
        .toEqual(['SiteWebService', 'SiteWorkersBeatService', 'SiteWorkersCeleryService']);
    }
    expect(resourcesOfType(byName('aurora-workers').template, 'Custom::DjangoCacheRetireAuthToken')).toHaveLength(1);
    expect(resourcesOfType(byName('user-topic').template, 'AWS::SNS::TopicPolicy')).toEqual([]);
    expect(resourcesOfType(byName('user-topic-tls').template, 'AWS::SNS::TopicPolicy')).toHaveLength(1);
  });

  test.each(SHAPES.map((s) => [s.name, s]))('%s: migrations wait for the database, services for the migrations, alarms reach the topic', (_n, shape) => {
    expect(deployGraphProblems(shape)).toEqual([]);
    expect(migrationsPolicyWaitProblems(shape)).toEqual([]);
  });

  test('in the create schedule the migrations start only after the writer (and reader) completed', () => {
    const t = byName('aurora').template;
    const schedule = createSchedule(t);
    const at = (id: string) => schedule.find((r) => r.id === id)!;
    const migrations = at(idOf(t, 'Custom::DjangoMigrations'));
    const writer = at(idOf(t, 'AWS::RDS::DBInstance', /Writer/));
    const reader = at(idOf(t, 'AWS::RDS::DBInstance', /Reader/));
    expect(migrations.start).toBeGreaterThanOrEqual(writer.end);
    expect(migrations.start).toBeGreaterThanOrEqual(reader.end);
    for (const [id] of resourcesOfType(t, 'AWS::ECS::Service')) expect(at(id).start).toBeGreaterThanOrEqual(migrations.end);
  });
});

describe('each check fails on a deliberately broken template', () => {
  // The app user's setup waits for the instances too, and migrations and services wait for it: each broken
  // template below cuts that path as well, or the check would rightly still find the wait.
  const dropDependsOn = (t: any, id: string, pattern: RegExp) => {
    const appUser = new Set(resourcesOfType(t, 'Custom::DjangoDatabaseAppUser').map(([u]) => u));
    t.Resources[id].DependsOn = ([] as string[]).concat(t.Resources[id].DependsOn ?? []).filter((d) => !pattern.test(d) && !appUser.has(d));
  };

  test('migrations without their DependsOn on the writer', () => {
    const shape = broken('aurora-single-az', (t) => dropDependsOn(t, idOf(t, 'Custom::DjangoMigrations'), /Writer/));
    expect(migrationsWaitProblems(shape)).toEqual([expect.stringMatching(/SiteMigrations\w+: starts before AWS::RDS::DBInstance SiteDatabaseClusterWriter\w+ is created/)]);
  });

  test('migrations without their DependsOn on the proxy target group', () => {
    const shape = broken('aurora-proxy', (t) => dropDependsOn(t, idOf(t, 'Custom::DjangoMigrations'), /ProxyTargetGroup/));
    expect(migrationsWaitProblems(shape)).toEqual([expect.stringMatching(/starts before AWS::RDS::DBProxyTargetGroup SiteDatabaseProxyProxyTargetGroup/)]);
  });

  test('RDS instance: the explicit DependsOn is not the only path (DATABASE_HOST, the attached secret and the app secret name the instance)', () => {
    const rds = (t: any) => idOf(t, 'AWS::RDS::DBInstance');
    expect(migrationsWaitProblems(broken('rds', (t) => dropDependsOn(t, idOf(t, 'Custom::DjangoMigrations'), new RegExp(rds(t)))))).toEqual([]);
    const shape = broken('rds', (t) => {
      dropDependsOn(t, idOf(t, 'Custom::DjangoMigrations'), new RegExp(rds(t)));
      for (const [, td] of resourcesOfType(t, 'AWS::ECS::TaskDefinition')) {
        for (const c of td.Properties.ContainerDefinitions) {
          for (const e of c.Environment ?? []) if (e.Name === 'DATABASE_HOST') e.Value = 'db.example.internal';
        }
      }
      t.Resources[idOf(t, 'AWS::SecretsManager::SecretTargetAttachment')].Properties.TargetId = 'db-by-name';
      // the app user's secret names the instance's endpoint as its host
      for (const [id, r] of resourcesOfType(t, 'AWS::SecretsManager::Secret')) {
        if (id.includes('AppSecret')) r.Properties.GenerateSecretString.SecretStringTemplate = '{"host":"db.example.internal"}';
      }
    });
    expect(migrationsWaitProblems(shape)).toEqual([expect.stringMatching(/starts before AWS::RDS::DBInstance SiteDatabaseInstance/)]);
  });

  test('a service that uses the database without its DependsOn on the migrations', () => {
    const shape = broken('aurora-websockets', (t) => dropDependsOn(t, idOf(t, 'AWS::ECS::Service', /WebSockets/), /Migrations/));
    const problems = servicesWaitProblems(shape);
    expect(problems).toContainEqual(expect.stringMatching(/SiteWebSocketsService\w+: uses the database but does not wait for the migrations/));
    // ... and, since nothing else made it wait, it would start before the instances too
    expect(problems).toContainEqual(expect.stringMatching(/SiteWebSocketsService\w+: uses the database but starts before AWS::RDS::DBInstance/));
  });

  test('a worker that uses the database without its DependsOn on the migrations', () => {
    const shape = broken('aurora-workers', (t) => dropDependsOn(t, idOf(t, 'AWS::ECS::Service', /WorkersCelery/), /Migrations|DatabaseCluster/));
    expect(servicesWaitProblems(shape)).toContainEqual(expect.stringMatching(/SiteWorkersCeleryService\w+: uses the database but does not wait for the migrations/));
  });

  test('beat with a second desired task, a deploy that starts the new one first, or an autoscaling target', () => {
    const beat = (t: any) => t.Resources[idOf(t, 'AWS::ECS::Service', /WorkersBeat/)];
    expect(singletonProblems(broken('aurora-workers', (t) => { beat(t).Properties.DesiredCount = 2; })))
      .toEqual([expect.stringMatching(/SiteWorkersBeatService\w+: runs Celery beat with DesiredCount 2/)]);
    expect(singletonProblems(broken('aurora-workers', (t) => { beat(t).Properties.DeploymentConfiguration.MaximumPercent = 200; })))
      .toEqual([expect.stringMatching(/deployment maximum of 200 %: a deploy starts the new beat before it stops the old one/)]);
    expect(singletonProblems(broken('aurora-workers', (t) => {
      const id = idOf(t, 'AWS::ECS::Service', /WorkersBeat/);
      t.Resources.BeatScaling = { Type: 'AWS::ApplicationAutoScaling::ScalableTarget', Properties: { ResourceId: { 'Fn::Join': ['', ['service/', { Ref: 'SiteCluster' }, '/', { 'Fn::GetAtt': [id, 'Name'] }]] } } };
    }))).toEqual([expect.stringMatching(/under an autoscaling target/)]);
  });

  test('a worker holding the cache token that the retire step does not wait for', () => {
    const shape = broken('aurora-workers', (t) => {
      const retire = idOf(t, 'Custom::DjangoCacheRetireAuthToken');
      t.Resources[retire].DependsOn = t.Resources[retire].DependsOn.filter((d: string) => !/WorkersCelery/.test(d));
    });
    expect(tokenRetireProblems(shape)).toEqual([expect.stringMatching(/SiteWorkersCeleryService\w+: holds the cache token/)]);
  });

  test('migrations off: a service without its DependsOn on the instances', () => {
    const shape = broken('aurora-no-migrations', (t) => dropDependsOn(t, idOf(t, 'AWS::ECS::Service'), /DatabaseCluster(Writer|Reader)/));
    expect(servicesWaitProblems(shape)).toHaveLength(2);
  });

  test('migrations of the one-off task without their DependsOn on the execution role\'s policy (shared with the service)', () => {
    const shape = broken('aurora', (t) => dropDependsOn(t, idOf(t, 'Custom::DjangoMigrations'), /TaskExecutionRole/));
    expect(migrationsPolicyWaitProblems(shape)).toEqual([expect.stringMatching(/SiteMigrations\w+: starts before the policy SiteWebTaskExecutionRoleDefaultPolicy\w+ of its task's roles exists/)]);
  });

  test('a topic policy with only the TLS-only deny (the default policy replaced)', () => {
    const shape = broken('aurora', (t) => {
      const policy = t.Resources[idOf(t, 'AWS::SNS::TopicPolicy')].Properties.PolicyDocument;
      policy.Statement = policy.Statement.filter((s: any) => s.Effect === 'Deny');
    });
    expect(alarmDeliveryProblems(shape)).toEqual([expect.stringMatching(/SiteAlarmsTopic\w+: its topic policy .* does not admit cloudwatch.amazonaws.com to sns:Publish/)]);
  });

  test('a key policy without CloudWatch', () => {
    const shape = broken('aurora', (t) => {
      const policy = t.Resources[idOf(t, 'AWS::KMS::Key', /AlarmsTopicKey/)].Properties.KeyPolicy;
      policy.Statement = policy.Statement.filter((s: any) => !JSON.stringify(s.Principal).includes('cloudwatch'));
    });
    expect(alarmDeliveryProblems(shape)).toEqual([expect.stringMatching(/its key SiteAlarmsTopicKey\w+ does not admit cloudwatch.amazonaws.com/)]);
  });

  test('a dependency cycle (the writer waiting for the migrations that wait for it)', () => {
    const shape = broken('aurora', (t) => {
      t.Resources[idOf(t, 'AWS::RDS::DBInstance', /Writer/)].DependsOn = [idOf(t, 'Custom::DjangoMigrations')];
    });
    expect(cycleProblems(shape)).toEqual([expect.stringMatching(/aurora-broken: dependency cycle among: .*SiteDatabaseClusterWriter.*SiteMigrations/)]);
  });

  test('a topic under the AWS-managed SNS key', () => {
    const shape = broken('aurora', (t) => {
      t.Resources[idOf(t, 'AWS::SNS::Topic')].Properties.KmsMasterKeyId = 'alias/aws/sns';
    });
    expect(alarmDeliveryProblems(shape)).toEqual([expect.stringMatching(/AWS-managed alias\/aws\/sns key/)]);
  });
});

describe('what the library does', () => {
  test('IDjangoDatabase.ready: every instance and the proxy target group, and nothing for an existing database', () => {
    const stack = new Stack(new App(), 'Ready');
    const vpc = new ec2.Vpc(stack, 'Vpc');
    const db = new DjangoDatabase(stack, 'Db', { vpc, proxy: true });
    const fn = new ecs.FargateTaskDefinition(stack, 'MyTask');
    fn.addContainer('c', { image: IMAGE });
    fn.node.addDependency(db.ready);
    const existing = DjangoDatabase.fromExisting(stack, 'Old', {
      host: 'h',
      port: 5432,
      secret: secretsmanager.Secret.fromSecretNameV2(stack, 'S', 's'),
      securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'G', 'sg-1'),
    });
    expect(existing.ready.constructor.name).toBe('DependencyGroup');
    const t = Template.fromStack(stack).toJSON() as CfnTemplate;
    const td = idOf(t, 'AWS::ECS::TaskDefinition');
    expect((t.Resources[td].DependsOn as string[]).filter((d: string) => /^Db/.test(d)).map((d: string) => d.replace(/[0-9A-F]{8}$/, '')).sort())
      .toEqual(['DbCluster', 'DbClusterReader', 'DbClusterWriter', 'DbProxy', 'DbProxyProxyTargetGroup']);
  });
});
