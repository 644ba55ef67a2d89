/**
 * Synth-time checks of the user's Django project, on what ./layout.ts read (pure: no file system,
 * no aws-cdk-lib): the WSGI/ASGI module the server will import, and settings that must not reach
 * production (DEBUG = True, a literal SECRET_KEY).
 */
import { Problem } from '../problems';
import type { ProjectLayout } from './layout';

/** Which of the app modules a service imports. */
export type AppModuleKind = 'wsgi' | 'asgi';

/** The module a server imports, and whether the user gave it. */
export interface AppModuleUse {
  readonly kind: AppModuleKind;
  /** `module:callable` as rendered into the command. */
  readonly module: string;
  /** true when it came from the `wsgiModule`/`asgiModule` prop, false when it is the default. */
  readonly given: boolean;
}

const propOf = (kind: AppModuleKind) => (kind === 'wsgi' ? 'wsgiModule' : 'asgiModule');

/**
 * The module to run when the user gave none: the project's only `wsgi.py`/`asgi.py`, else the
 * cookiecutter-django layout's `config.<kind>:application` (checked against the project if there is one).
 */
export function defaultAppModule(kind: AppModuleKind, layout?: ProjectLayout): string {
  const found = layout ? modulesOf(kind, layout) : [];
  return found.length === 1 ? `${found[0]}:application` : `config.${kind}:application`;
}

function modulesOf(kind: AppModuleKind, layout: ProjectLayout): string[] {
  return kind === 'wsgi' ? layout.wsgiModules : layout.asgiModules;
}

function suggestion(kind: AppModuleKind, found: string[]): string {
  const names = found.map((m) => `${m.replace(/\./g, '/')}.py`).join(', ');
  return `the project has ${names}: did you mean ${propOf(kind)}: '${found[0]}:application'?`;
}

function where(layout: ProjectLayout): string {
  return layout.root;
}

/**
 * Problems with the app module a service imports, against the project in the image's build
 * context: the module must exist there (relative to manage.py, the image's working directory) and
 * define the callable. Empty when there is no project to check against.
 */
export function appModuleProblems(use: AppModuleUse, layout?: ProjectLayout): Problem[] {
  if (!layout) return [];
  const prop = propOf(use.kind);
  const found = modulesOf(use.kind, layout);
  const [dotted, callable = 'application'] = use.module.split(':');
  if (!use.given && found.length > 1) {
    return [{ prop, message: `not given, and the project at ${where(layout)} has several ${use.kind}.py (${found.join(', ')}); set ${prop}, e.g. ${prop}: '${found[0]}:application'` }];
  }
  const source = layout.source(dotted);
  const origin = use.given ? `'${use.module}'` : `not given, so '${use.module}' (the default),`;
  if (!source) {
    const hint = found.length === 0 ? `the project at ${where(layout)} has no ${use.kind}.py; set ${prop} to your application ('package.module:callable')` : suggestion(use.kind, found);
    return [{ prop, message: `${origin} is not in the project at ${where(layout)} (no ${dotted.replace(/\./g, '/')}.py): ${hint}` }];
  }
  if (!new RegExp(`(^|[^\\w.])${callable.split('.')[0].replace(/[^\w]/g, '')}\\b`, 'm').test(source.text)) {
    return [{ prop, message: `${origin}: ${source.path} defines no '${callable}'; name the callable it defines ('${dotted}:application' for a startproject layout)` }];
  }
  return [];
}

/** The settings module a wsgi.py/asgi.py sets as its default (`os.environ.setdefault("DJANGO_SETTINGS_MODULE", ...)`). */
export function settingsModuleOf(appModuleSource: string): string | undefined {
  const m = appModuleSource.match(/setdefault\(\s*['"]DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]\s*\)/);
  return m?.[1];
}

/**
 * The value of the last top-level (unindented) assignment to `name`: the one that wins, unless a
 * conditional block below it assigns again.
 */
export function lastTopLevelAssignment(settingsText: string, name: string): string | undefined {
  let value: string | undefined;
  for (const line of settingsText.split('\n')) {
    const m = line.match(new RegExp(`^${name}\\s*=\\s*(.*?)\\s*(#.*)?$`));
    if (m) value = m[1];
  }
  return value;
}

/** An advice to show at synth, acknowledgeable by id. */
export interface ProjectWarning {
  readonly id: string;
  readonly message: string;
}

/** Warnings about a settings file that would be unsafe in production. */
export function settingsWarnings(path: string, text: string): ProjectWarning[] {
  const warnings: ProjectWarning[] = [];
  if (lastTopLevelAssignment(text, 'DEBUG') === 'True') {
    warnings.push({
      id: 'settings-debug-true',
      message: `${path} sets DEBUG = True: the deployed site would show its settings and tracebacks to anyone. The construct passes DJANGO_DEBUG=false; read it: DEBUG = os.environ.get("DJANGO_DEBUG", "true") == "true" (README: "Getting started", the settings block).`,
    });
  }
  const secret = lastTopLevelAssignment(text, 'SECRET_KEY');
  if (secret !== undefined && /^[rRbBuU]{0,2}['"]/.test(secret)) {
    warnings.push({
      id: 'settings-literal-secret-key',
      message: `${path} sets SECRET_KEY to a literal string: anyone with the image or the repository can forge sessions and signed data. The construct passes DJANGO_SECRET_KEY from Secrets Manager; read it (README: "Getting started", the settings block).`,
    });
  }
  return warnings;
}
