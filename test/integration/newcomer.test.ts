/**
 * A newcomer's path, as CI walks it: a fresh `django-admin startproject mysite` (Django from the
 * suite's Python), made deployable with exactly the README's "Getting started" code blocks, the
 * README's app synthesized against that project (fromAsset on it; no Docker), the image's build
 * steps run, and the synthesized task run with real Gunicorn and Nginx. A missing or wrong README
 * step fails here: the negative cases drop one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from './lib/http';
import { PYTHON, PYTHON_BIN_DIR } from './lib/python';
import { applySteps, readmeShell, readmeSteps, ReadmeStep } from './lib/readme-steps';
import { ContainerDef, LocalTask } from './lib/task';

const REPO = join(__dirname, '..', '..');
/** Stands for the load balancer's DNS name (a token in the template). */
const LB_HOST = 'mysite-1234567890.eu-west-1.elb.amazonaws.com';
const TASK_IP = '10.0.1.23';
const steps = readmeSteps();

interface Project {
  readonly dir: string;
  readonly site: string;
}

/** A fresh startproject with the given README steps applied, and the CDK app's packages in reach. */
function newProject(applied: readonly ReadmeStep[]): Project {
  const dir = mkdtempSync(join(tmpdir(), 'cdk-django-newcomer-'));
  const made = spawnSync(PYTHON, ['-m', 'django', 'startproject', 'mysite'], { cwd: dir, encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`startproject failed: ${made.stderr}`);
  applySteps(dir, applied);
  // What `npm install cdk-django aws-cdk-lib constructs cdk-nag` and the dev tools give: the repo's
  // packages, with cdk-django itself from src/.
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'commonjs', target: 'es2022', esModuleInterop: true, paths: { 'cdk-django': [join(REPO, 'src', 'index.ts')] } },
  }));
  return { dir, site: join(dir, 'mysite') };
}

interface Annotation {
  readonly path: string;
  readonly type: string;
  readonly data: string;
  readonly trace?: string[];
}

/**
 * Runs the app the way `cdk synth` does: cdk.json's command with CDK_OUTDIR. Returns the template and
 * the annotations the CLI would print (from the cloud assembly's manifest).
 */
function synth(p: Project): { status: number | null; output: string; template?: any; annotations: Annotation[] } {
  const app = JSON.parse(readFileSync(join(p.dir, 'cdk.json'), 'utf8')).app;
  const out = join(p.dir, 'cdk.out');
  const res = spawnSync('sh', ['-c', app], {
    cwd: p.dir,
    encoding: 'utf8',
    timeout: 170_000,
    env: { ...process.env, CDK_OUTDIR: out, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
  });
  const file = existsSync(out) ? readdirSync(out).find((f) => f.endsWith('.template.json')) : undefined;
  // Each stack's metadata (the annotations the CLI prints) sits in the manifest or a file it names.
  const manifest = existsSync(join(out, 'manifest.json')) ? JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) : { artifacts: {} };
  const annotations: Annotation[] = Object.values<any>(manifest.artifacts).flatMap((a) => {
    const metadata = a.additionalMetadataFile ? JSON.parse(readFileSync(join(out, a.additionalMetadataFile), 'utf8')) : a.metadata ?? {};
    return Object.entries<any[]>(metadata).flatMap(([path, entries]) => entries
      .filter((e) => /^aws:cdk:(warning|info|error)$/.test(e.type)).map((e) => ({ path, ...e })));
  });
  return { status: res.status, output: res.stdout + res.stderr, template: file && JSON.parse(readFileSync(join(out, file), 'utf8')), annotations };
}

/**
 * "Builds the image": the suite's Python stands in for `pip install -r requirements.txt` (each
 * requirement must be installed in it), and the Dockerfile's RUN steps that run manage.py run in
 * the project as its WORKDIR. The rest (the base image, the user) is image plumbing.
 */
function buildImage(p: Project): { status: number | null; output: string } {
  const dockerfile = readFileSync(join(p.site, 'Dockerfile'), 'utf8');
  const requirements = readFileSync(join(p.site, 'requirements.txt'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  expect(dockerfile).toMatch(/^RUN pip install .*-r requirements\.txt$/m);
  for (const r of requirements) {
    const name = r.split(/[<>=!~;[ ]/)[0];
    const found = spawnSync(PYTHON, ['-c', `import importlib.metadata as m; print(m.version(${JSON.stringify(name)}))`], { encoding: 'utf8' });
    expect([r, found.status]).toEqual([r, 0]);
  }
  // The image's `python` (and `python3`) is the suite's Python.
  const bin = join(p.dir, '.image-bin');
  mkdirSync(bin);
  for (const name of ['python', 'python3']) {
    // A wrapper, not a symlink: a symlinked venv interpreter would lose its venv.
    writeFileSync(join(bin, name), `#!/bin/sh\nexec ${PYTHON} "$@"\n`, { mode: 0o755 });
  }
  let output = '';
  for (const m of dockerfile.matchAll(/^RUN (.*manage\.py.*)$/gm)) {
    const res = spawnSync('sh', ['-c', m[1]], {
      cwd: p.site,
      encoding: 'utf8',
      timeout: 120_000,
      env: { PATH: `${bin}:${PYTHON_BIN_DIR}:/usr/bin:/bin`, HOME: p.dir, PYTHONDONTWRITEBYTECODE: '1' },
    });
    output += res.stdout + res.stderr;
    if (res.status !== 0) return { status: res.status, output };
  }
  return { status: 0, output };
}

/** A CloudFormation value with the load balancer's DNS name (the only token in these) filled in. */
function resolved(value: any): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (value['Fn::Join']) return value['Fn::Join'][1].map(resolved).join(value['Fn::Join'][0]);
  if (value['Fn::GetAtt']?.[1] === 'DNSName') return LB_HOST;
  throw new Error(`unexpected token ${JSON.stringify(value)}`);
}

function containersOf(template: any): ContainerDef[] {
  const all = Object.entries<any>(template.Resources).filter(([, r]) => r.Type === 'AWS::ECS::TaskDefinition');
  // the plain quickstart: one service, and the one-off task (its app container alone) beside it
  expect(all.map(([id]) => /OneOff/.test(id)).sort()).toEqual([false, true]);
  const tds = all.filter(([id]) => !/OneOff/.test(id)).map(([, r]) => r);
  return tds[0].Properties.ContainerDefinitions.map((c: any) => ({
    ...c, Environment: (c.Environment ?? []).map((e: any) => ({ Name: e.Name, Value: resolved(e.Value) })),
  }));
}

describe('the README\'s Getting started, on a fresh startproject', () => {
  let project: Project;
  let synthesized: ReturnType<typeof synth>;
  let task: LocalTask | undefined;

  beforeAll(async () => {
    project = newProject(steps);
    synthesized = synth(project);
    const built = buildImage(project);
    if (built.status !== 0) throw new Error(`the Dockerfile's steps failed:\n${built.output}`);
    if (synthesized.status !== 0) throw new Error(`synth failed:\n${synthesized.output}`);
    task = new LocalTask(containersOf(synthesized.template), {}, project.site);
    try {
      await task.start(8080);
    } catch (e) {
      await task.destroy();
      task = undefined;
      throw e;
    }
  });
  afterAll(async () => {
    await task?.destroy();
    if (project) rmSync(project.dir, { recursive: true, force: true });
  });

  test('the README names the commands and packages the app needs', () => {
    const shell = readmeShell();
    expect(shell).toContain('django-admin startproject mysite');
    const install = shell.find((l) => l.startsWith('npm install ') && !l.includes('--save-dev'))!;
    const main = readFileSync(join(project.dir, 'main.ts'), 'utf8');
    const imported = [...main.matchAll(/from '([^.'][^']*)'/g)].map((m) => m[1]).filter((m) => !m.startsWith('node:')).map((m) => m.split('/')[0]);
    for (const pkg of new Set([...imported, 'constructs'])) expect(install.split(' ')).toContain(pkg);
    expect(shell.join('\n')).toMatch(/--save-dev .*aws-cdk\b.*tsx/);
  });

  test('synth derives the WSGI module from the project and warns about nothing in its settings', () => {
    const app = containersOf(synthesized.template).find((c) => c.Name === 'app')!;
    expect(app.Command).toContain('mysite.wsgi:application');
    expect(app.Environment).toContainEqual({ Name: 'DJANGO_DEBUG', Value: 'false' });
    expect(synthesized.annotations.map((a) => a.data).join('\n')).not.toMatch(/settings-debug-true|settings-literal-secret-key/);
    // it did read the project: the decision is there, on the user's construct
    expect(synthesized.annotations).toContainEqual(expect.objectContaining({ path: '/MySite/Site', type: 'aws:cdk:info' }));
  });

  test('locally, without the construct\'s variables, settings load with DEBUG on (runserver works); with DJANGO_DEBUG=false a missing key fails', () => {
    const settings = (env: Record<string, string>) => spawnSync(PYTHON, ['-c', [
      // what manage.py does before any command (runserver included): load the settings its wsgi.py names
      'import os; os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")',
      'from django.conf import settings; print(settings.DEBUG, settings.ALLOWED_HOSTS)',
    ].join('\n')], {
      cwd: project.site, encoding: 'utf8', timeout: 60_000, env: { PATH: '/usr/bin:/bin', PYTHONDONTWRITEBYTECODE: '1', ...env },
    });
    const local = settings({});
    expect([local.status, local.stdout.trim()]).toEqual([0, "True ['localhost', '127.0.0.1', '[::1]']"]);
    const production = settings({ DJANGO_DEBUG: 'false' });
    expect(production.status).not.toBe(0);
    expect(production.stderr).toMatch(/KeyError: 'DJANGO_SECRET_KEY'/);
  });

  test('the container health check passes, and the ALB-like health check through Nginx answers 200', async () => {
    expect(await task!.healthCheck()).toBe(true);
    const r = await request(8080, { path: '/healthz', host: `${TASK_IP}:8080`, headers: { 'X-Forwarded-Proto': '', 'X-Forwarded-For': '' } });
    expect([r.status, r.body]).toEqual([200, 'ok']);
  });

  test('/ answers with DEBUG off: a plain 404, not the technical page listing the URLconf', async () => {
    const r = await request(8080, { path: '/', host: LB_HOST, headers: { 'X-Forwarded-Proto': 'http' } });
    expect(r.status).toBe(404);
    expect(r.body).not.toMatch(/URLconf|admin\/|DEBUG = True/);
    expect(r.body).toContain('Not Found');
  });

  test('the Content Security Policy is reported on Django 6.0 and later, and absent before', async () => {
    const version = spawnSync(PYTHON, ['-c', 'import django; print(django.VERSION[0])'], { encoding: 'utf8' }).stdout.trim();
    const r = await request(8080, { path: '/healthz', host: LB_HOST, headers: { 'X-Forwarded-Proto': 'http' } });
    expect(r.status).toBe(200);
    expect([version, r.headers['content-security-policy-report-only']]).toEqual([version, Number(version) >= 6 ? "default-src 'self'" : undefined]);
  });

  test('static files are served (the admin\'s CSS, by WhiteNoise)', async () => {
    const r = await request(8080, { path: '/static/admin/css/base.css', host: LB_HOST, headers: { 'X-Forwarded-Proto': 'http' } });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/css/);
    expect(r.body).toMatch(/\{/);
  });

  test('an unknown Host is refused: Nginx closes the connection, and Django itself answers 400', async () => {
    const viaProxy = await request(8080, { host: 'attacker.example' });
    expect(viaProxy.status).toBeUndefined();
    expect(viaProxy.error).toMatch(/socket hang up|ECONNRESET/);
    const direct = await request(8000, { host: 'attacker.example' });
    expect(direct.status).toBe(400);
  });
});

describe('negative: a README step left out fails the newcomer path', () => {
  test('without the settings block, synth warns about DEBUG and SECRET_KEY, and the Dockerfile\'s collectstatic fails', () => {
    const settingsStep = steps.find((s) => s.kind === 'append' && s.path.endsWith('settings.py'));
    expect(settingsStep).toBeDefined();
    const project = newProject(steps.filter((s) => s !== settingsStep));
    try {
      const synthesized = synth(project);
      expect(synthesized.status).toBe(0);
      const warnings = synthesized.annotations.filter((a) => a.type === 'aws:cdk:warning');
      const debug = warnings.find((w) => /mysite\/mysite\/settings\.py sets DEBUG = True/.test(w.data));
      expect(debug).toBeDefined();
      expect(warnings.map((w) => w.data).join('\n')).toMatch(/settings-literal-secret-key/);
      // on the user's construct, traced to the user's line in main.ts, not to the library
      expect(debug!.path).toBe('/MySite/Site');
      expect(debug!.trace![0]).toContain(join(project.dir, 'main.ts'));
      const built = buildImage(project);
      expect(built.status).not.toBe(0);
      expect(built.output).toMatch(/STATIC_ROOT/);
    } finally {
      rmSync(project.dir, { recursive: true, force: true });
    }
  });
});
