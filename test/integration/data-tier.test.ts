/**
 * The data-tier settings contract, with real servers: the environment and secret names DjangoApp
 * gives the app container feed the sample project's settings.py (the README's data-tier block),
 * against PostgreSQL (TLS required, password auth) and Redis (TLS only, AUTH) on loopback, with the
 * ports the constructs choose. The migrations step runs the same `manage.py migrate` the
 * DjangoMigrations task runs, and fails the same way on bad credentials.
 */
import { spawnSync } from 'node:child_process';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { DjangoApp } from '../../src';
import { DataServers, startDataServers } from './lib/data-servers';
import { onLoopback } from './lib/postgres';
import { PYTHON } from './lib/python';
import { DJANGO_DIR } from './lib/task';

const DB_PASSWORD = 'local-db-password-1';
const REDIS_PASSWORD = 'local-redis-auth-token-1';

// GIVEN the app container of a DjangoApp with a database and a cache, as synthesized
const stack = new Stack(new App(), 'DataTier');
new DjangoApp(stack, 'Site', {
  image: ecs.ContainerImage.fromRegistry('example/mysite:1'),
  databaseOptions: {},
  cacheOptions: { enabled: true },
  alarms: { enabled: false },
});
const template = Template.fromStack(stack).toJSON();
const app = Object.values<any>(template.Resources)
  .filter((r) => r.Type === 'AWS::ECS::TaskDefinition')
  .map((r) => r.Properties.ContainerDefinitions.find((c: any) => c.Name === 'app'))[0];
const env: Record<string, string> = Object.fromEntries(app.Environment.map((e: any) => [e.Name, onLoopback(e.Value)]));
const secretNames: string[] = app.Secrets.map((s: any) => s.Name).sort();
const DB_PORT = Number(env.DATABASE_PORT);
const REDIS_PORT = Number(new URL(env.REDIS_URL).port);

let servers: DataServers;

/** Runs a manage.py command in the sample project with the synthesized environment and local secrets. */
function manage(args: string[], secrets: Record<string, string> = {}): { status: number | null; out: string } {
  const res = spawnSync(PYTHON, ['manage.py', ...args], {
    cwd: DJANGO_DIR,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      PATH: process.env.PATH,
      ...env,
      DJANGO_SECRET_KEY: 'integration-secret-key',
      DATABASE_USER: 'django',
      DATABASE_PASSWORD: DB_PASSWORD,
      REDIS_PASSWORD,
      ...secrets,
      // ElastiCache's certificate chains to a public CA; the local server's is self-signed.
      SSL_CERT_FILE: servers.certFile,
      PYTHONDONTWRITEBYTECODE: '1',
    },
  });
  return { status: res.status, out: res.stdout + res.stderr };
}

beforeAll(async () => {
  servers = await startDataServers({
    dbPort: DB_PORT, redisPort: REDIS_PORT, dbUser: 'django', dbPassword: DB_PASSWORD, dbName: env.DATABASE_NAME, redisPassword: REDIS_PASSWORD,
  });
}, 120_000);

afterAll(() => servers?.stop());

test('the app container gets the database and cache settings as environment and secrets, nothing secret in the environment', () => {
  expect(secretNames).toEqual(['DATABASE_PASSWORD', 'DATABASE_USER', 'DJANGO_SECRET_KEY', 'REDIS_PASSWORD']);
  expect(env).toMatchObject({ DATABASE_HOST: '127.0.0.1', DATABASE_NAME: 'django', DATABASE_SSLMODE: 'require', DJANGO_CONN_MAX_AGE: '60' });
  expect(DB_PORT).toBe(5433); // the non-default port, as synthesized
  expect(env.REDIS_URL).toBe(`rediss://127.0.0.1:${REDIS_PORT}/0`);
  expect(Object.keys(env).filter((k) => /PASSWORD|SECRET|TOKEN/.test(k))).toEqual([]);
});

test('migrate (the migrations task\'s command) runs against PostgreSQL over TLS, and again as a no-op', () => {
  const first = manage(['migrate', '--noinput']);
  expect(first.out).toContain('Applying auth.0001_initial... OK');
  expect(first.status).toBe(0);
  const again = manage(['migrate', '--noinput']);
  expect(again.out).toContain('No migrations to apply');
  expect(again.status).toBe(0);
});

test('views reach the database over TLS, the cache, and the Channels layer through the settings block', () => {
  const script = [
    'import json',
    'from asgiref.sync import async_to_sync',
    'from channels.layers import get_channel_layer',
    'from django.core.cache import cache',
    'from django.db import connection',
    'c = connection.cursor(); c.execute("select ssl from pg_stat_ssl where pid = pg_backend_pid()"); ssl = c.fetchone()[0]',
    'cache.set("k", "v", 30)',
    'layer = get_channel_layer(); async_to_sync(layer.send)("probe", {"type": "hello"}); got = async_to_sync(layer.receive)("probe")',
    'print("RESULT " + json.dumps({"ssl": ssl, "cache": cache.get("k"), "layer": type(layer).__name__, "message": got["type"]}))',
  ].join('\n');
  const res = manage(['shell', '-c', script]);
  expect(res.out).toContain('RESULT ');
  const line = res.out.split('\n').find((l) => l.startsWith('RESULT '));
  expect(JSON.parse(line!.slice(7))).toEqual({ ssl: true, cache: 'v', layer: 'RedisChannelLayer', message: 'hello' });
});

test('a wrong database password fails the migrate command (so the migrations step fails the deploy)', () => {
  const res = manage(['migrate', '--noinput'], { DATABASE_PASSWORD: 'wrong' });
  expect(res.status).not.toBe(0);
  expect(res.out).toMatch(/password authentication failed/);
});

test('a wrong Redis AUTH token is refused', () => {
  const res = manage(['shell', '-c', 'from django.core.cache import cache; cache.set("k", "v")'], { REDIS_PASSWORD: 'wrong' });
  expect(res.status).not.toBe(0);
  expect(res.out).toMatch(/WRONGPASS|invalid password|AuthenticationError/i);
});
