/**
 * The data-tier settings contract, with real servers: the environment and secret names DjangoApp
 * gives the app container feed the sample project's settings.py (the README's data-tier block),
 * against PostgreSQL (TLS required, password auth) and Redis (TLS only, AUTH) on loopback, with the
 * ports the constructs choose. The migrations step runs the same `manage.py migrate` the
 * DjangoMigrations task runs, and fails the same way on bad credentials.
 */
import { execFileSync, spawn, spawnSync, ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { DjangoApp } from '../../src';
import { PYTHON } from './lib/python';
import { DJANGO_DIR, waitForPort } from './lib/task';

const DB_PASSWORD = 'local-db-password-1';
const REDIS_PASSWORD = 'local-redis-auth-token-1';

/** Renders a CloudFormation value with every Ref/GetAtt (an endpoint address) replaced by loopback. */
function onLoopback(value: any): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (value['Fn::Join']) return value['Fn::Join'][1].map(onLoopback).join(value['Fn::Join'][0]);
  if (value.Ref || value['Fn::GetAtt']) return '127.0.0.1';
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

// GIVEN the app container of a DjangoApp with a database and a cache, as synthesized
const stack = new Stack(new App(), 'DataTier');
new DjangoApp(stack, 'Site', {
  image: ecs.ContainerImage.fromRegistry('example/mysite:1'),
  database: {},
  cache: { enabled: true },
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

const pgBin = readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => existsSync(`${d}/postgres`))!;
const asPostgres = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
const dir = mkdtempSync(join(tmpdir(), 'cdk-django-data-'));
const servers: ChildProcess[] = [];
let serverLogs = '';

function run(argv: string[]): void {
  const [cmd, ...args] = [...asPostgres, ...argv];
  execFileSync(cmd, args, { stdio: 'pipe' });
}

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
      SSL_CERT_FILE: join(dir, 'cert.pem'),
      PYTHONDONTWRITEBYTECODE: '1',
    },
  });
  return { status: res.status, out: res.stdout + res.stderr };
}

beforeAll(async () => {
  // a self-signed certificate for both servers
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'pipe' });

  // PostgreSQL: password (SCRAM) over TLS only, on the construct's port
  const pgData = join(dir, 'pg');
  writeFileSync(join(dir, 'pwfile'), DB_PASSWORD);
  if (asPostgres.length) {
    const { uid, gid } = JSON.parse(execFileSync(PYTHON, ['-c', 'import pwd,json;p=pwd.getpwnam("postgres");print(json.dumps({"uid":p.pw_uid,"gid":p.pw_gid}))'], { encoding: 'utf8' }));
    for (const f of ['', 'pwfile', 'key.pem', 'cert.pem']) chownSync(join(dir, f), uid, gid);
  }
  chmodSync(join(dir, 'key.pem'), 0o600);
  run([`${pgBin}/initdb`, '-D', pgData, '-U', 'django', '--pwfile', join(dir, 'pwfile'), '-A', 'scram-sha-256']);
  writeFileSync(join(pgData, 'pg_hba.conf'), 'local all all scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256\n');
  if (asPostgres.length) run(['chmod', '600', join(pgData, 'pg_hba.conf')]);
  const [pgCmd, ...pgArgs] = [...asPostgres, `${pgBin}/postgres`, '-D', pgData, '-c', 'listen_addresses=127.0.0.1', '-c', `port=${DB_PORT}`,
    '-c', `unix_socket_directories=${dir}`, '-c', 'ssl=on', '-c', `ssl_cert_file=${join(dir, 'cert.pem')}`, '-c', `ssl_key_file=${join(dir, 'key.pem')}`];
  servers.push(spawn(pgCmd, pgArgs, { stdio: ['ignore', 'pipe', 'pipe'] }));

  // Redis: TLS only (no plain port), AUTH, on the construct's port
  servers.push(spawn('redis-server', ['--port', '0', '--tls-port', String(REDIS_PORT), '--bind', '127.0.0.1',
    '--tls-cert-file', join(dir, 'cert.pem'), '--tls-key-file', join(dir, 'key.pem'), '--tls-ca-cert-file', join(dir, 'cert.pem'),
    '--tls-auth-clients', 'no', '--requirepass', REDIS_PASSWORD, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] }));
  for (const s of servers) {
    s.stdout!.on('data', (d) => { serverLogs += d; });
    s.stderr!.on('data', (d) => { serverLogs += d; });
  }
  await waitForPort(DB_PORT, 20_000, () => serverLogs);
  await waitForPort(REDIS_PORT, 20_000, () => serverLogs);
  // the port opens before PostgreSQL accepts connections
  for (let i = 0; i < 100 && spawnSync(`${pgBin}/pg_isready`, ['-h', '127.0.0.1', '-p', String(DB_PORT)]).status !== 0; i++) {
    await new Promise((r) => setTimeout(r, 200));
  }
  const created = spawnSync(`${pgBin}/createdb`, ['-h', '127.0.0.1', '-p', String(DB_PORT), '-U', 'django', env.DATABASE_NAME],
    { env: { ...process.env, PGPASSWORD: DB_PASSWORD, PGSSLMODE: 'require' }, encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`createdb failed: ${created.stderr}\n${serverLogs}`);
}, 120_000);

afterAll(() => {
  for (const s of servers) s.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

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
