/**
 * A first deploy rehearsed with real servers: the template DjangoApp synthesizes with a database is
 * walked in CloudFormation's create order (lib/rehearsal.ts). PostgreSQL starts only when the writer
 * DBInstance completes, as the database becomes reachable on AWS only then; when the migrations resource
 * starts, the exact command it names runs in the sample project, as the handler's RunTask runs it: the
 * container of the task definition revision it names (the one-off task: the app container alone), with
 * that container's entry point, environment and secrets; when each ECS service starts, its task runs (lib/task.ts) and must
 * answer, on a migrated schema. A template whose migrations do not wait for the writer must fail: migrate
 * cannot connect.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { DjangoApp } from '../../src';
import { ScheduledResource } from '../helpers/graph';
import { CfnTemplate, refId, resourcesOfType } from '../helpers/template-checks';
import { request } from './lib/http';
import { onLoopback, RunningPostgres, startPostgres } from './lib/postgres';
import { PYTHON } from './lib/python';
import { rehearseFirstCreate, RehearsalResult } from './lib/rehearsal';
import { ContainerDef, DJANGO_DIR, LocalTask } from './lib/task';

const DB_PASSWORD = 'local-first-deploy-password-1';
const SECRET_KEY = 'integration-first-deploy-secret-key-0123456789-abcdefghijklmnop';
/** Local values of the secrets ECS would inject, by variable name; an unknown secret fails the test. */
const SECRETS: Record<string, string> = { DATABASE_USER: 'django', DATABASE_PASSWORD: DB_PASSWORD, DJANGO_SECRET_KEY: SECRET_KEY };

// GIVEN the template of a DjangoApp with an Aurora database (writer and reader), migrations and a service
const stack = new Stack(new App(), 'FirstDeploy');
new DjangoApp(stack, 'Site', {
  image: ecs.ContainerImage.fromRegistry('example/mysite:1'),
  domainNames: ['app.example.test'],
  database: {},
});
const FIXED = Template.fromStack(stack).toJSON() as CfnTemplate;

/**
 * The same template with the migrations no longer waiting for any database instance (the fault this
 * prevents): neither directly nor through the app user's setup, which waits for the instances itself.
 */
function withoutWriterWait(t: CfnTemplate): CfnTemplate {
  const copy: any = JSON.parse(JSON.stringify(t));
  const instances = new Set([...resourcesOfType(copy, 'AWS::RDS::DBInstance'), ...resourcesOfType(copy, 'Custom::DjangoDatabaseAppUser')].map(([id]) => id));
  for (const [id] of resourcesOfType(copy, 'Custom::DjangoMigrations')) {
    const m = copy.Resources[id];
    m.DependsOn = ([] as string[]).concat(m.DependsOn ?? []).filter((d) => !instances.has(d));
  }
  return copy;
}

/** The writer: the instance with the lowest promotion tier (the only one for RDS). */
function writerOf(t: CfnTemplate): string {
  const instances = resourcesOfType(t, 'AWS::RDS::DBInstance')
    .sort(([, a], [, b]) => (a.Properties.PromotionTier ?? 0) - (b.Properties.PromotionTier ?? 0));
  if (instances.length === 0) throw new Error('no DBInstance in the template');
  return instances[0][0];
}

/** A container definition as ECS would run it here: every endpoint reference on loopback. */
function localContainer(c: any): ContainerDef {
  return { ...c, Environment: (c.Environment ?? []).map((e: any) => ({ Name: e.Name, Value: onLoopback(e.Value) })) };
}

function secretsOf(c: any): Record<string, string> {
  return Object.fromEntries((c.Secrets ?? []).map((s: any) => {
    if (!(s.Name in SECRETS)) throw new Error(`container ${c.Name} needs secret ${s.Name}, which this rehearsal has no local value for`);
    return [s.Name, SECRETS[s.Name]];
  }));
}

/** `python` and `python3` as the image has them, for commands run outside LocalTask. */
function pythonShims(dir: string): string {
  for (const name of ['python', 'python3']) {
    writeFileSync(join(dir, name), `#!/bin/sh\nexec ${PYTHON} "$@"\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

interface Rehearsal extends RehearsalResult {
  readonly schedule: Record<string, ScheduledResource>;
  readonly postgresStartedAt?: number;
  readonly migrationsOutput: string;
  /** The task definition and container the migrations ran: [logical id, container names, container]. */
  readonly migrationsTask?: [string, string[], any];
  readonly answered: string[];
}

async function rehearse(t: CfnTemplate): Promise<Rehearsal> {
  const writer = writerOf(t);
  const bin = pythonShims(mkdtempSync(join(tmpdir(), 'cdk-django-first-deploy-')));
  const schedule: Record<string, ScheduledResource> = {};
  const answered: string[] = [];
  let postgres: RunningPostgres | undefined;
  let postgresStartedAt: number | undefined;
  let migrationsOutput = '';
  let migrationsTask: [string, string[], any] | undefined;
  const appEnv = (c: any) => ({ ...Object.fromEntries(localContainer(c).Environment!.map((e) => [e.Name, e.Value])), ...secretsOf(c) });
  try {
    const result = await rehearseFirstCreate(t, {
      onComplete: async (r) => {
        schedule[r.id] = r;
        if (r.id !== writer) return;
        // The writer is available: from now on the cluster endpoint accepts connections.
        const db = resourcesOfType(t, 'AWS::RDS::DBCluster')[0]?.[1].Properties ?? t.Resources[writer].Properties;
        postgres = await startPostgres({ port: Number(db.Port), password: DB_PASSWORD, database: db.DatabaseName ?? db.DBName });
        postgresStartedAt = r.end;
      },
      onStart: async (r) => {
        schedule[r.id] = r;
        if (r.type === 'Custom::DjangoMigrations') {
          // The exact revision and command the resource names, as the handler's RunTask does.
          const p = t.Resources[r.id].Properties;
          const td = t.Resources[refId(p.TaskDefinitionArn)!];
          const c = td.Properties.ContainerDefinitions.find((x: any) => x.Name === p.ContainerName);
          migrationsTask = [refId(p.TaskDefinitionArn)!, td.Properties.ContainerDefinitions.map((x: any) => x.Name), c];
          const argv: string[] = [...(c.EntryPoint ?? []), ...p.Command];
          const res = spawnSync(argv[0], argv.slice(1), {
            cwd: DJANGO_DIR,
            encoding: 'utf8',
            timeout: 90_000,
            env: { PATH: `${bin}:/usr/bin:/bin`, HOME: bin, LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1', ...appEnv(c) },
          });
          migrationsOutput = `${res.stdout ?? ''}${res.stderr ?? ''}${res.error ? String(res.error) : ''}`;
          if (res.status !== 0) throw new Error(`migrations task exited ${res.status}: ${migrationsOutput.slice(-1500)}`);
        }
        if (r.type === 'AWS::ECS::Service') {
          const svc = t.Resources[r.id].Properties;
          const td = t.Resources[refId(svc.TaskDefinition)!];
          const containers: any[] = td.Properties.ContainerDefinitions;
          const app = containers.find((x) => x.Name === 'app');
          const task = new LocalTask(containers.map(localContainer), secretsOf(app));
          try {
            const port = svc.LoadBalancers[0].ContainerPort;
            await task.start(port, 60_000);
            const reply = await request(port, { path: '/' });
            if (reply.status !== 200 || reply.headers['x-served-by'] !== 'django') {
              throw new Error(`service task answered ${reply.status ?? reply.error}: ${reply.body.slice(0, 300)}\n${task.logs()}`);
            }
            // ... on a schema the migrations brought up to date
            const check = spawnSync(PYTHON, ['manage.py', 'migrate', '--check'], {
              cwd: DJANGO_DIR, encoding: 'utf8', timeout: 60_000, env: { PATH: `${bin}:/usr/bin:/bin`, PYTHONDONTWRITEBYTECODE: '1', ...appEnv(app) },
            });
            if (check.status !== 0) throw new Error(`unapplied migrations when the service started: ${check.stdout}${check.stderr}`);
            answered.push(r.id);
          } finally {
            await task.stop();
            await task.destroy();
          }
        }
      },
    });
    return { ...result, schedule, postgresStartedAt, migrationsOutput, migrationsTask, answered };
  } finally {
    postgres?.stop();
    rmSync(bin, { recursive: true, force: true });
  }
}

const services = resourcesOfType(FIXED, 'AWS::ECS::Service').map(([id]) => id);
const migrationsId = resourcesOfType(FIXED, 'Custom::DjangoMigrations')[0][0];

test('the fixed template: PostgreSQL comes up with the writer, migrate runs after it, the service answers on a migrated schema', async () => {
  const r = await rehearse(FIXED);
  expect(r.failed).toBeUndefined();
  const writer = r.schedule[writerOf(FIXED)];
  const migrations = r.schedule[migrationsId];
  // the rehearsal ran things in parallel (the writer took a while) and in order
  expect(writer.end - writer.start).toBeGreaterThan(1);
  expect(r.postgresStartedAt).toBe(writer.end);
  expect(migrations.start).toBeGreaterThanOrEqual(writer.end);
  expect(r.migrationsOutput).toContain('Applying auth.0001_initial... OK');
  // ... in the one-off task definition, no service's: the app container alone, with the web app's settings
  const [tdId, names, c] = r.migrationsTask!;
  expect(tdId).toMatch(/^SiteWebOneOffTask/);
  expect(names).toEqual(['app']);
  const webTd = FIXED.Resources[refId(FIXED.Resources[services[0]].Properties.TaskDefinition)!].Properties;
  const webApp = webTd.ContainerDefinitions.find((x: any) => x.Name === 'app');
  expect([c.Image, c.Environment, c.Secrets]).toEqual([webApp.Image, webApp.Environment, webApp.Secrets]);
  expect(r.answered).toEqual(services);
  for (const s of services) expect(r.schedule[s].start).toBeGreaterThanOrEqual(migrations.end);
}, 240_000);

test('a template whose migrations do not wait for the writer fails the deploy: migrate cannot connect', async () => {
  const r = await rehearse(withoutWriterWait(FIXED));
  expect(r.failed).toMatchObject({ id: migrationsId, type: 'Custom::DjangoMigrations' });
  expect(r.postgresStartedAt).toBeUndefined();
  expect(r.failed!.reason).toMatch(/connection (to server at "127\.0\.0\.1".*)?(failed|refused)|could not connect|Connection refused/i);
  expect(r.answered).toEqual([]);
}, 240_000);
