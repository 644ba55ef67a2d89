/**
 * Runs the container definitions a construct synthesizes with real servers on loopback (the Python
 * side from the suite's virtual environment, nginx and Apache from Debian),
 * the way ECS runs a task: containers share localhost (awsvpc), start in dependency order (the
 * static init container to completion, the app until its own health check command passes, then the
 * proxy) and stop in reverse order. Only Apache's launch is adapted to Debian (binary name,
 * ServerRoot); the rendered commands and configs run byte for byte. Paths the configs name
 * (/srv/static, /tmp/proxy) are bind-mounted from per-task temp dirs inside a private mount
 * namespace, so nothing on the machine is overwritten.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync, closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { PYTHON, PYTHON_BIN_DIR } from './python';

export const DJANGO_DIR = join(__dirname, '..', '..', '..', 'examples', 'mysite');
/** Paths the rendered configs use, bind-mounted from the task's temp dir (the image's STATIC_ROOT included). */
const BIND_PATHS = ['/srv/static', '/tmp/proxy', '/app/staticfiles'];
export const IMAGE_STATIC_ROOT = '/app/staticfiles';

export interface ContainerDef {
  Name: string;
  Command?: string[];
  EntryPoint?: string[];
  Environment?: Array<{ Name: string; Value: string }>;
  HealthCheck?: { Command: string[] };
  DependsOn?: Array<{ ContainerName: string; Condition: string }>;
  PortMappings?: Array<{ ContainerPort: number }>;
}

/** Synthesizes a construct in a fresh stack and returns its task's container definitions and template. */
export function synthTask(build: (scope: Construct) => void): { containers: ContainerDef[]; template: Template } {
  const stack = new Stack(new App(), 'Integration');
  build(stack);
  const template = Template.fromStack(stack);
  const td = Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0] as any;
  return { containers: td.Properties.ContainerDefinitions, template };
}

export function envOf(c: ContainerDef): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.Environment ?? []) {
    if (typeof e.Value !== 'string') throw new Error(`${c.Name}: ${e.Name} is not a plain string (give allowedHosts in the test stack)`);
    env[e.Name] = e.Value;
  }
  return env;
}

/**
 * The one wrapper left: the httpd image's compiled-in ServerRoot is /usr/local/apache2, and Debian
 * names the binary apache2 with its modules elsewhere. Everything else runs by its own name from PATH:
 * the Python environment's bin first (python3, gunicorn, uwsgi, daphne, as pip installs them in the
 * image), then Debian's nginx.
 */
function makeShims(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const serverRoot = join(dir, 'httpd-root');
  mkdirSync(join(serverRoot, 'conf'), { recursive: true });
  symlinkSync('/usr/lib/apache2/modules', join(serverRoot, 'modules'));
  copyFileSync('/etc/mime.types', join(serverRoot, 'conf', 'mime.types'));
  writeFileSync(join(bin, 'httpd'), `#!/bin/sh\nexec /usr/sbin/apache2 -d ${serverRoot} "$@"\n`);
  chmodSync(join(bin, 'httpd'), 0o755);
  return bin;
}

/** PATH inside a container: the shims, the Python environment, then the system (nginx, sh). */
function containerPath(bin: string): string {
  return `${bin}:${PYTHON_BIN_DIR}:/usr/sbin:/usr/bin:/sbin:/bin`;
}

export interface RunningContainer {
  readonly name: string;
  readonly process: ChildProcess;
  readonly logFile: string;
  exitCode?: number | null;
}

export function outputOf(rc: RunningContainer): string {
  try {
    return readFileSync(rc.logFile, 'utf8');
  } catch {
    return '';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LocalTask {
  readonly dir = mkdtempSync(join(tmpdir(), 'cdk-django-task-'));
  readonly running: RunningContainer[] = [];
  private readonly bin = makeShims(this.dir);
  /** What "the image" sets: the sample's STATIC_ROOT, where start() collected the static files. */
  private imageEnv: Record<string, string> = {};

  /**
   * @param projectDir the Django project the app image holds (its WORKDIR): the sample project unless given
   * @param cpuList CPUs every container is pinned to (`taskset -c`, e.g. '0'), the task's CPU budget: unpinned unless given
   */
  constructor(
    readonly containers: ContainerDef[],
    readonly extraAppEnv: Record<string, string> = {},
    readonly projectDir: string = DJANGO_DIR,
    readonly cpuList?: string,
  ) {
    for (const p of BIND_PATHS) {
      mkdirSync(join(this.dir, 'mnt', p), { recursive: true });
      chmodSync(join(this.dir, 'mnt', p), 0o777);
      // The mount point itself must exist (an empty directory); the content lives in the temp dir.
      mkdirSync(p, { recursive: true });
    }
  }

  container(name: string): ContainerDef | undefined {
    return this.containers.find((c) => c.Name === name);
  }

  /** Starts one container's EntryPoint + Command in a private mount namespace with its environment. */
  private launch(c: ContainerDef, cwd: string, env: Record<string, string>): RunningContainer {
    const argv = [...(c.EntryPoint ?? []), ...(c.Command ?? [])];
    const logFile = join(this.dir, `${c.Name}-${this.running.length}.log`);
    const log = openSync(logFile, 'w');
    const binds = BIND_PATHS.map((p) => `mount --bind ${join(this.dir, 'mnt', p)} ${p}`).join(' && ');
    const pin = this.cpuList === undefined ? [] : ['taskset', '-c', this.cpuList];
    const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `${binds} && exec "$@"`, 'task', ...pin, ...argv], {
      cwd,
      env: { PATH: containerPath(this.bin), HOME: this.dir, LANG: 'C.UTF-8', ...env },
      // A file, like the pipe ECS gives containers: nginx opens /dev/stderr, which fails on a socket.
      stdio: ['ignore', log, log],
      // Its own process group, so cleanup reaches every child (a proxy under its sh wrapper, workers).
      detached: true,
    });
    closeSync(log);
    const rc: RunningContainer = { name: c.Name, process: child, logFile };
    child.on('exit', (code) => { rc.exitCode = code; });
    this.running.push(rc);
    return rc;
  }

  appEnv(): Record<string, string> {
    return {
      ...envOf(this.container('app')!),
      DJANGO_SECRET_KEY: 'integration-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz',
      PYTHONPATH: this.projectDir,
      PYTHONDONTWRITEBYTECODE: '1',
      ...this.imageEnv,
      ...this.extraAppEnv,
    };
  }

  /** Runs the app container's HEALTHCHECK command once, for real (async: servers in this process keep answering). */
  healthCheck(): Promise<boolean> {
    const hc = this.container('app')!.HealthCheck!.Command;
    if (hc[0] !== 'CMD') throw new Error(`unexpected health check form ${hc[0]}`);
    return new Promise((resolve) => {
      const child = spawn(hc[1], hc.slice(2), { env: { PATH: containerPath(this.bin), ...this.appEnv() }, stdio: 'ignore' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.on('exit', (code) => { clearTimeout(timer); resolve(code === 0); });
    });
  }

  /** Starts the task in ECS order; resolves when the target port answers. */
  async start(targetPort: number, timeoutMs = 30_000): Promise<void> {
    for (const port of new Set([8000, 8001, targetPort])) {
      // A leftover server on the port would answer instead of the one under test.
      if (await portOpen(port)) throw new Error(`port ${port} is already in use: stop whatever listens there first`);
    }
    // "Build the image": collect the sample's static files into the image's STATIC_ROOT, as the Dockerfile does;
    // the app then reads them from there (WhiteNoise/ServeStatic) and static-init copies them for the proxy.
    const staticRoot = join(this.dir, 'mnt', IMAGE_STATIC_ROOT);
    this.imageEnv = { SAMPLE_STATIC_ROOT: staticRoot };
    const collect = spawnSync(PYTHON, ['manage.py', 'collectstatic', '--noinput'], { cwd: this.projectDir, env: this.appEnv(), timeout: 60_000 });
    if (collect.status !== 0) throw new Error(`collectstatic failed: ${collect.stderr}`);
    const init = this.container('static-init');
    if (init) {
      const rc = this.launch(init, this.projectDir, {});
      await this.waitExit(rc, 30_000);
      if (rc.exitCode !== 0) throw new Error(`static-init exited ${rc.exitCode}: ${outputOf(rc)}`);
    }
    this.launch(this.container('app')!, this.projectDir, this.appEnv());
    const deadline = Date.now() + timeoutMs;
    while (!(await this.healthCheck())) {
      if (Date.now() > deadline) throw new Error(`app never became HEALTHY:\n${this.logs()}`);
      await sleep(300);
    }
    const proxy = this.containers.find((c) => c.Name === 'nginx' || c.Name === 'apache');
    if (proxy) this.launch(proxy, this.dir, envOf(proxy));
    await waitForPort(targetPort, Math.max(1000, deadline - Date.now()), () => this.logs());
  }

  logs(): string {
    return this.running.map((r) => `--- ${r.name} (exit ${r.exitCode}) ---\n${outputOf(r).slice(-4000)}`).join('\n');
  }

  async waitExit(rc: RunningContainer, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (rc.exitCode === undefined && Date.now() < deadline) await sleep(100);
  }

  /** Sends a signal to one container's main process (what ECS does on stop). */
  signal(name: string, sig: NodeJS.Signals): RunningContainer {
    const rc = this.running.find((r) => r.name === name && r.exitCode === undefined);
    if (!rc) throw new Error(`${name} is not running`);
    // The unshare'd sh execs the container command, so the child pid is the container's PID 1.
    rc.process.kill(sig);
    return rc;
  }

  /** Stops the task in ECS order: proxy first, then the app, each with its own signal. */
  async stop(signals: { proxy: NodeJS.Signals; app: NodeJS.Signals } = { proxy: 'SIGTERM', app: 'SIGTERM' }): Promise<void> {
    for (const rc of [...this.running].reverse()) {
      if (rc.exitCode !== undefined) continue;
      rc.process.kill(rc.name === 'app' ? signals.app : signals.proxy);
      await this.waitExit(rc, 45_000);
    }
  }

  /** Kills everything left and removes the temp dir. */
  async destroy(): Promise<void> {
    for (const rc of this.running) {
      try {
        process.kill(-rc.process.pid!, 'SIGKILL');
      } catch { /* group already gone */ }
      await this.waitExit(rc, 5_000);
    }
    // Worker processes of a killed master may linger: kill by our temp dir in their command lines.
    spawnSync('pkill', ['-9', '-f', this.dir]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

export async function waitForPort(port: number, timeoutMs: number, logs: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await portOpen(port)) return;
    if (Date.now() > deadline) throw new Error(`port ${port} never opened:\n${logs()}`);
    await sleep(200);
  }
}
