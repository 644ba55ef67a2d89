import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Errors } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { DjangoApp, DjangoDaphneService, DjangoGunicornService, GunicornWorkerClass } from '../../src';
import { userFrames } from '../../src/annotations';
import { appModuleProblems, defaultAppModule, lastTopLevelAssignment, settingsModuleOf, settingsWarnings } from '../../src/project/checks';
import { readProjectLayout } from '../../src/project/layout';
import { assetDirectoryOf } from '../../src/project/project';
import { newStack } from '../helpers/template';

// What `django-admin startproject mysite` writes (the parts the checks read).
const STARTPROJECT_SETTINGS = `from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = 'django-insecure-gn8z3q0#lbw9ann+orn2dc*6mcigiai68h)e)w3ot%e!_*6^ds'
DEBUG = True
ALLOWED_HOSTS = []
`;
const WSGI = `import os
from django.core.wsgi import get_wsgi_application
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')
application = get_wsgi_application()
`;
const FIXED_SETTINGS = `${STARTPROJECT_SETTINGS}
# --- cdk-django: settings ---
import os
DEBUG = os.environ.get("DJANGO_DEBUG", "true") == "true"  # the construct always passes DJANGO_DEBUG=false
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"] if not DEBUG else os.environ.get("DJANGO_SECRET_KEY", "django-insecure-local-development-only")
`;

const dirs: string[] = [];
/** A project directory with the given files (path -> text). */
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cdk-django-project-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const startproject = (settings = STARTPROJECT_SETTINGS) => project({
  'manage.py': '',
  'Dockerfile': 'FROM python:3.12-slim\n',
  'mysite/__init__.py': '',
  'mysite/settings.py': settings,
  'mysite/wsgi.py': WSGI,
  'mysite/asgi.py': WSGI.replace(/wsgi/g, 'asgi'),
});

describe('reading the project (fixture directories)', () => {
  test('finds a startproject layout\'s modules relative to manage.py', () => {
    const layout = readProjectLayout(startproject())!;
    expect(layout.wsgiModules).toEqual(['mysite.wsgi']);
    expect(layout.asgiModules).toEqual(['mysite.asgi']);
    expect(layout.source('mysite.settings')!.text).toContain('DEBUG = True');
    expect(layout.source('config.wsgi')).toBeUndefined();
  });

  test('finds manage.py one level down (a repository with the project in src/), and skips virtualenvs', () => {
    const dir = project({ 'src/manage.py': '', 'src/config/wsgi.py': WSGI, '.venv/lib/django/core/wsgi.py': '', 'node_modules/x/wsgi.py': '' });
    const layout = readProjectLayout(dir)!;
    expect(layout.wsgiModules).toEqual(['config.wsgi']);
    expect(layout.root).toBe(join(dir, 'src'));
  });

  test('a directory without manage.py is no project to check', () => {
    expect(readProjectLayout(project({ 'app.py': '' }))).toBeUndefined();
    expect(readProjectLayout('/nonexistent/cdk-django')).toBeUndefined();
  });

  test('AssetImage still keeps its directory where the library reads it (pins aws-cdk-lib\'s private field)', () => {
    const dir = startproject();
    expect(assetDirectoryOf(ecs.ContainerImage.fromAsset(dir))).toBe(dir);
    expect(assetDirectoryOf(ecs.ContainerImage.fromRegistry('example/mysite:1'))).toBeUndefined();
  });
});

describe('the app module (pure checks)', () => {
  const layout = readProjectLayout(startproject())!;

  test('defaults to the project\'s only wsgi.py/asgi.py, else the cookiecutter layout', () => {
    expect(defaultAppModule('wsgi', layout)).toBe('mysite.wsgi:application');
    expect(defaultAppModule('asgi', layout)).toBe('mysite.asgi:application');
    expect(defaultAppModule('wsgi', undefined)).toBe('config.wsgi:application');
  });

  test.each([
    [{ kind: 'wsgi', module: 'mysite.wsgi:application', given: true }, []],
    [{ kind: 'wsgi', module: 'mysite.wsgi', given: true }, []],
    [{ kind: 'wsgi', module: 'config.wsgi:application', given: true }, ['wsgiModule: \'config.wsgi:application\' is not in the project at', 'did you mean wsgiModule: \'mysite.wsgi:application\'?']],
    [{ kind: 'asgi', module: 'chat.asgi:application', given: true }, ['asgiModule: \'chat.asgi:application\' is not in the project', 'did you mean asgiModule: \'mysite.asgi:application\'?']],
    [{ kind: 'wsgi', module: 'mysite.wsgi:app', given: true }, ['wsgiModule: \'mysite.wsgi:app\': ', 'mysite/wsgi.py defines no \'app\'']],
  ] as const)('%j', (use, expected) => {
    const messages = appModuleProblems(use, layout).map((p) => `${p.prop}: ${p.message}`);
    expect(messages).toHaveLength(expected.length === 0 ? 0 : 1);
    for (const e of expected) expect(messages[0]).toContain(e);
  });

  test('not given: several wsgi.py ask for the prop, none names the problem', () => {
    const several = readProjectLayout(project({ 'manage.py': '', 'a/wsgi.py': WSGI, 'b/wsgi.py': WSGI }))!;
    expect(appModuleProblems({ kind: 'wsgi', module: defaultAppModule('wsgi', several), given: false }, several)[0].message)
      .toMatch(/several wsgi\.py \(a\.wsgi, b\.wsgi\); set wsgiModule, e\.g\. wsgiModule: 'a\.wsgi:application'/);
    const none = readProjectLayout(project({ 'manage.py': '' }))!;
    expect(appModuleProblems({ kind: 'wsgi', module: defaultAppModule('wsgi', none), given: false }, none)[0].message)
      .toMatch(/^not given, so 'config\.wsgi:application' \(the default\), is not in the project .* has no wsgi\.py; set wsgiModule/);
  });

  test('no project (an image from a registry): nothing to check', () => {
    expect(appModuleProblems({ kind: 'wsgi', module: 'anything.wsgi:application', given: true }, undefined)).toEqual([]);
  });
});

describe('settings that must not reach production (pure checks)', () => {
  test('startproject\'s settings: DEBUG = True and a literal SECRET_KEY', () => {
    expect(settingsWarnings('mysite/settings.py', STARTPROJECT_SETTINGS).map((w) => w.id)).toEqual(['settings-debug-true', 'settings-literal-secret-key']);
    expect(settingsWarnings('mysite/settings.py', STARTPROJECT_SETTINGS)[0].message).toMatch(/^mysite\/settings\.py sets DEBUG = True/);
  });

  test('with the README block appended: its values win, no warning', () => {
    expect(settingsWarnings('mysite/settings.py', FIXED_SETTINGS)).toEqual([]);
  });

  test('reads the last top-level assignment, ignoring comments and indented (conditional) ones', () => {
    expect(lastTopLevelAssignment('DEBUG = False\nif X:\n    DEBUG = True\n', 'DEBUG')).toBe('False');
    expect(lastTopLevelAssignment('DEBUG = True  # local\n', 'DEBUG')).toBe('True');
    expect(settingsWarnings('s.py', 'SECRET_KEY = r"abc"\n').map((w) => w.id)).toEqual(['settings-literal-secret-key']);
    expect(settingsWarnings('s.py', 'SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]\nDEBUG = False\n')).toEqual([]);
  });

  test('the settings module comes from wsgi.py\'s setdefault', () => {
    expect(settingsModuleOf(WSGI)).toBe('mysite.settings');
    expect(settingsModuleOf('"DJANGO_SETTINGS_MODULE"')).toBeUndefined();
  });
});

describe('the constructs on a project built from a local directory', () => {
  const warningsOf = (c: { node: { metadata: any[] } }) => c.node.metadata.filter((m) => m.type === 'aws:cdk:warning');

  test('DjangoApp runs the project\'s own WSGI module when none is given', () => {
    const site = new DjangoApp(newStack(), 'Site', { image: ecs.ContainerImage.fromAsset(startproject(FIXED_SETTINGS)), alarms: { enabled: false } });
    expect(site.httpService.command).toContain('mysite.wsgi:application');
    expect(warningsOf(site).map((w) => w.data).join('\n')).not.toMatch(/settings-/);
  });

  test('a wrong wsgiModule is a ValidationError naming what the project has', () => {
    let error: unknown;
    try {
      new DjangoApp(newStack(), 'Site', { image: ecs.ContainerImage.fromAsset(startproject()), wsgiModule: 'config.wsgi:application' });
    } catch (e) {
      error = e;
    }
    expect(Errors.isValidationError(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(/wsgiModule: 'config\.wsgi:application' is not in the project .*did you mean wsgiModule: 'mysite\.wsgi:application'\?/);
  });

  test('Daphne checks asgiModule the same way', () => {
    expect(() => new DjangoDaphneService(newStack(), 'Chat', { image: ecs.ContainerImage.fromAsset(startproject()), asgiModule: 'chat.asgi:application' }))
      .toThrow(/did you mean asgiModule: 'mysite\.asgi:application'\?/);
  });

  test.each([GunicornWorkerClass.UVICORN, GunicornWorkerClass.ASGI])('Gunicorn\'s %s worker checks asgiModule, not wsgiModule', (workerClass) => {
    expect(() => new DjangoGunicornService(newStack(), 'Web', { image: ecs.ContainerImage.fromAsset(startproject()), workerClass, asgiModule: 'chat.asgi:application' }))
      .toThrow(/asgiModule: 'chat\.asgi:application' is not in the project .*did you mean asgiModule: 'mysite\.asgi:application'\?/);
  });

  test('startproject\'s settings warn on the user\'s construct, traced to the user\'s line, once for a mixed app', () => {
    const stack = newStack();
    const site = new DjangoApp(stack, 'Site', { image: ecs.ContainerImage.fromAsset(startproject()), requirements: { websockets: true }, alarms: { enabled: false } });
    const warnings = warningsOf(site).filter((w) => /settings-/.test(w.data));
    expect(warnings.map((w) => w.data.match(/\[ack: Annotation::cdk-django:([\w-]+)\]/)?.[1])).toEqual(['settings-debug-true', 'settings-literal-secret-key']);
    for (const w of warnings) expect(w.trace[0]).toContain(__filename);
    for (const svc of site.services) expect(warningsOf(svc)).toEqual([]);
  });

  test('a service built by hand is the user\'s construct: its warnings are its own, traced to the user', () => {
    const web = new DjangoGunicornService(newStack(), 'Web', { image: ecs.ContainerImage.fromRegistry('example/mysite:1') });
    const httpOnly = warningsOf(web).find((w) => /plain HTTP/.test(w.data));
    expect(httpOnly.trace[0]).toContain(__filename);
  });

  test('DJANGO_DEBUG is the construct\'s: setting it in environment is an error', () => {
    expect(() => new DjangoGunicornService(newStack(), 'Web', { image: ecs.ContainerImage.fromRegistry('example/mysite:1'), environment: { DJANGO_DEBUG: 'true' } }))
      .toThrow(/environment: DJANGO_DEBUG is set by the construct, always to false/);
  });
});

describe('user frames', () => {
  test('drop the library\'s own frames, dependencies\' and Node\'s', () => {
    const frames = [
      'DjangoServiceBase.addWarnings (/repo/src/services/service-base.ts:197:28)',
      'new DjangoApp (/home/u/app/node_modules/cdk-django/lib/app/django-app.js:10:1)',
      'Object.<anonymous> (/home/u/app/main.ts:14:1)',
      'Module._compile (node:internal/modules/cjs/loader:1364:14)',
    ];
    expect(userFrames(frames, '/repo/src/')).toEqual(['Object.<anonymous> (/home/u/app/main.ts:14:1)']);
  });
});

