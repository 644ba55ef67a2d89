/**
 * Reads what synth-time checks need from a Django project directory (the image's build context):
 * where manage.py is, which wsgi.py/asgi.py modules exist, and the settings file. The only module
 * here that touches the file system; the checks on what it returns are pure (./checks.ts).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

/** The parts of a Django project the checks look at. Module names are dotted, relative to the import root. */
export interface ProjectLayout {
  /** Where manage.py is (the import root, the image's WORKDIR), as messages show it: relative to the working directory when inside it. */
  readonly root: string;
  /** Every module named `wsgi` found under the root (`mysite.wsgi`). */
  readonly wsgiModules: string[];
  /** Every module named `asgi` found under the root (`mysite.asgi`). */
  readonly asgiModules: string[];
  /** A module's file (shown like `root`) and text, or undefined when it does not exist. */
  readonly source: (dotted: string) => ModuleSource | undefined;
}

/** A module's file and text. */
export interface ModuleSource {
  readonly path: string;
  readonly text: string;
}

/** Directories that hold no project code (virtualenvs, caches, build output, dependencies). */
const SKIP = new Set(['node_modules', 'cdk.out', 'staticfiles', 'static', 'media', 'site-packages', 'venv', 'env', '__pycache__', 'templates']);
const MAX_DEPTH = 4;

function skipped(name: string): boolean {
  return name.startsWith('.') || SKIP.has(name);
}

function dirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !skipped(e.name)).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** The shallowest manage.py under `directory` (depth-first per level, sorted), or undefined. */
function findManagePy(directory: string): string | undefined {
  let level = [directory];
  for (let depth = 0; depth <= 2 && level.length > 0; depth++) {
    const hit = level.find((d) => isFile(join(d, 'manage.py')));
    if (hit) return hit;
    level = level.flatMap((d) => dirs(d).map((n) => join(d, n)));
  }
  return undefined;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The file a dotted module is read from, relative to root: `a/b.py` or `a/b/__init__.py`. */
export function moduleFile(rootDir: string, dotted: string): string | undefined {
  const base = join(rootDir, ...dotted.split('.'));
  if (isFile(`${base}.py`)) return `${base}.py`;
  if (isFile(join(base, '__init__.py'))) return join(base, '__init__.py');
  return undefined;
}

/** A path as messages show it: relative to the working directory (where `cdk synth` runs) when inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return (rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel).split(sep).join('/');
}

/**
 * Reads the project in `directory`, or returns undefined when it has no manage.py (not a Django
 * project we can reason about, e.g. an image built from a monorepo root with a custom Dockerfile).
 */
export function readProjectLayout(directory: string): ProjectLayout | undefined {
  if (!existsSync(directory)) return undefined;
  const rootDir = findManagePy(directory);
  if (rootDir === undefined) return undefined;
  const found: { wsgi: string[]; asgi: string[] } = { wsgi: [], asgi: [] };
  const walk = (dir: string, depth: number) => {
    for (const kind of ['wsgi', 'asgi'] as const) {
      const path = join(dir, `${kind}.py`);
      if (isFile(path)) found[kind].push(relative(rootDir, path).slice(0, -3).split(sep).join('.'));
    }
    if (depth < MAX_DEPTH) for (const d of dirs(dir)) walk(join(dir, d), depth + 1);
  };
  walk(rootDir, 0);
  return {
    root: shown(rootDir),
    wsgiModules: found.wsgi,
    asgiModules: found.asgi,
    source: (dotted) => {
      const path = /^[A-Za-z_][\w.]*$/.test(dotted) ? moduleFile(rootDir, dotted) : undefined;
      return path ? { path: shown(path), text: readFileSync(path, 'utf8') } : undefined;
    },
  };
}
