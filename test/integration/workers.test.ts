/**
 * Background workers with real servers: the Celery worker and beat commands DjangoApp synthesizes run
 * exactly as rendered (Celery from PyPI, the sample project's settings) against Redis on loopback with TLS
 * and AUTH, as the DjangoCache provides them. The web code (a view) enqueues, the worker runs the task and
 * the view reads its result; a SIGTERM in the middle of a task lets it finish (warm shutdown) within the
 * container's stopTimeout.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { DjangoApp, WorkerCommand } from '../../src';
import { DataServers, startDataServers } from './lib/data-servers';
import { onLoopback } from './lib/postgres';
import { PYTHON, PYTHON_BIN_DIR } from './lib/python';
import { DJANGO_DIR } from './lib/task';

const DB_PASSWORD = 'local-db-password-1';
const REDIS_PASSWORD = 'local-redis-auth-token-1';

// GIVEN a DjangoApp with a database, the cache as the broker, a Celery worker and beat, as synthesized
const stack = new Stack(new App(), 'Workers');
new DjangoApp(stack, 'Site', {
  image: ecs.ContainerImage.fromRegistry('example/mysite:1'),
  settingsModule: 'config.settings',
  database: {},
  alarms: { enabled: false },
  workers: [
    { id: 'Celery', command: WorkerCommand.celeryWorker({ softTimeLimit: Duration.seconds(20) }) },
    { id: 'Beat', command: WorkerCommand.celeryBeat() },
  ],
});
const template = Template.fromStack(stack).toJSON();
const containers = Object.values<any>(template.Resources)
  .filter((r) => r.Type === 'AWS::ECS::TaskDefinition')
  .map((r) => r.Properties.ContainerDefinitions[0]);
const byCommand = (word: string) => containers.find((c) => c.Name === 'worker' && c.Command[2] === word);
const worker = byCommand('worker');
const beat = byCommand('beat');
const web = containers.find((c) => c.Name === 'app');
const envOf = (c: any): Record<string, string> => Object.fromEntries(c.Environment.map((e: any) => [e.Name, onLoopback(e.Value)]));
const REDIS_PORT = Number(new URL(envOf(worker).REDIS_URL).port);
const DB_PORT = Number(envOf(worker).DATABASE_PORT);

let servers: DataServers;
let scratch: string;

/** The container's environment on loopback, with the secrets ECS would resolve given locally. */
function processEnv(c: any): NodeJS.ProcessEnv {
  return {
    PATH: `${PYTHON_BIN_DIR}:${process.env.PATH}`,
    ...envOf(c),
    DJANGO_SECRET_KEY: 'integration-secret-key',
    DATABASE_USER: 'django',
    DATABASE_PASSWORD: DB_PASSWORD,
    REDIS_PASSWORD,
    // ElastiCache's certificate chains to a public CA; the local server's is self-signed.
    SSL_CERT_FILE: servers.certFile,
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1', // as the image's ENV
  };
}

/** Runs a request through the web container's Django (the sample's views) and returns the JSON body. */
function webGet(path: string): any {
  const code = `from django.test import Client; r = Client().get(${JSON.stringify(path)}, secure=True, HTTP_HOST="127.0.0.1"); print("RESPONSE", r.status_code, r.content.decode())`;
  const res = spawnSync(PYTHON, ['manage.py', 'shell', '-c', code], { cwd: DJANGO_DIR, encoding: 'utf8', timeout: 60_000, env: processEnv(web) });
  const m = /^RESPONSE (\d+) (.*)$/m.exec(res.stdout);
  if (res.status !== 0 || !m || m[1] !== '200') throw new Error(`GET ${path} failed: ${res.stdout}${res.stderr}`);
  return JSON.parse(m[2]);
}

interface Running {
  proc: ChildProcess;
  exited: Promise<{ code: number | null; signal: string | null }>;
  logs(): string;
}

/** Starts a container command exactly as rendered, in the project directory (the image's WORKDIR). */
function run(c: any): Running {
  let logs = '';
  const proc = spawn(c.Command[0], c.Command.slice(1), { cwd: DJANGO_DIR, env: processEnv(c), stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (d) => { logs += d; });
  proc.stderr!.on('data', (d) => { logs += d; });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return { proc, logs: () => logs, exited };
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number, logs: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${logs()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'cdk-django-workers-'));
  servers = await startDataServers({
    dbPort: DB_PORT, redisPort: REDIS_PORT, dbUser: 'django', dbPassword: DB_PASSWORD, dbName: envOf(worker).DATABASE_NAME, redisPassword: REDIS_PASSWORD,
  });
}, 120_000);

afterAll(() => {
  servers?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('the worker and beat share the web container\'s settings and secrets, and the broker is the cache over TLS', () => {
  expect(worker.Command.slice(0, 3)).toEqual(['celery', '--app=config', 'worker']);
  expect(worker.StopTimeout).toBe(60); // timeLimit (soft 20 + 30) + 10
  const names = (c: any) => c.Secrets.map((s: any) => s.Name).sort();
  expect(names(worker)).toEqual(names(web));
  expect(envOf(worker).REDIS_URL).toBe(envOf(web).REDIS_URL);
  expect(envOf(worker).REDIS_URL).toMatch(/^rediss:/);
});

describe('a Celery worker from PyPI, running the rendered command', () => {
  let w: Running;
  beforeAll(async () => {
    w = run(worker);
    await waitFor('the worker to be ready', () => /worker@\S+ ready\./.test(w.logs()), 60_000, w.logs);
  }, 90_000);
  afterAll(async () => {
    if (w.proc.exitCode === null && w.proc.signalCode === null) {
      w.proc.kill('SIGKILL');
      await w.exited;
    }
  });

  test('runs a task the web code enqueued, and the web code reads its result', async () => {
    const { id } = webGet('/tasks/enqueue?x=20&y=22');
    let result: any;
    await waitFor('the task result', () => {
      result = webGet(`/tasks/${id}`);
      return result.state === 'SUCCESS';
    }, 30_000, w.logs);
    expect(result).toEqual({ state: 'SUCCESS', result: 42 });
  });

  test('SIGTERM in the middle of a task: the warm shutdown lets it finish, within the stop timeout', async () => {
    const marker = join(scratch, 'slow-task-done');
    webGet(`/tasks/enqueue?task=slow&s=4&path=${encodeURIComponent(marker)}`);
    await waitFor('the slow task to start', () => /Task web\.tasks\.slow_mark\[[\w-]+\] received/.test(w.logs()), 20_000, w.logs);
    await new Promise((r) => setTimeout(r, 1000));
    expect(existsSync(marker)).toBe(false);
    const stopped = Date.now();
    w.proc.kill('SIGTERM');
    const exit = await Promise.race([w.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit within StopTimeout\n${w.logs()}`)), worker.StopTimeout * 1000))]);
    const seconds = (Date.now() - stopped) / 1000;
    expect(readFileSync(marker, 'utf8')).toMatch(/^done pid=\d+$/);
    expect(w.logs()).toMatch(/warm shutdown/i);
    expect(w.logs()).toMatch(/Task web\.tasks\.slow_mark\[[\w-]+\] succeeded/);
    expect(exit.code).toBe(0);
    expect(seconds).toBeLessThan(worker.StopTimeout);
    expect(seconds).toBeGreaterThan(1); // it did wait for the task
  }, 90_000);
});

test('the negative case: a stop timeout shorter than the task (ECS kills after it) cuts the task off, and the check sees it', async () => {
  const w = run(worker);
  try {
    await waitFor('the worker to be ready', () => /worker@\S+ ready\./.test(w.logs()), 60_000, w.logs);
    const marker = join(scratch, 'cut-off-task');
    webGet(`/tasks/enqueue?task=slow&s=4&path=${encodeURIComponent(marker)}`);
    await waitFor('the slow task to start', () => /Task web\.tasks\.slow_mark\[[\w-]+\] received/.test(w.logs()), 20_000, w.logs);
    w.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000)); // a 1 s stop timeout: then ECS sends SIGKILL
    w.proc.kill('SIGKILL');
    await w.exited;
    await new Promise((r) => setTimeout(r, 4000)); // the time the task needed: its process went with the worker
    expect(existsSync(marker)).toBe(false);
  } finally {
    if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
  }
}, 90_000);

test('beat starts with its schedule in /tmp (the image\'s WORKDIR is not writable), writes no pidfile, and stops on SIGTERM', async () => {
  const b = run(beat);
  try {
    await waitFor('beat to start', () => /\. db -> \/tmp\/celerybeat-schedule/.test(b.logs()), 60_000, b.logs);
    await new Promise((r) => setTimeout(r, 2000));
    expect(b.proc.exitCode).toBeNull(); // still running: it could open its schedule
    b.proc.kill('SIGTERM');
    const exit = await Promise.race([b.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`beat did not stop\n${b.logs()}`)), beat.StopTimeout * 1000))]);
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
    expect(existsSync(join(DJANGO_DIR, 'celerybeat.pid'))).toBe(false);
    expect(existsSync(join(DJANGO_DIR, 'celerybeat-schedule'))).toBe(false);
  } finally {
    if (b.proc.exitCode === null && b.proc.signalCode === null) b.proc.kill('SIGKILL');
  }
}, 90_000);
