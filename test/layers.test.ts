import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The layers of src/ (CONTRIBUTING.md draws them): which folder may import which. `ground` is every
 * file at the root of src/ except index.ts. Imports inside one folder are free (but no cycle).
 */
const BELOW_SERVICES = ['servers', 'proxy', 'project', 'data', 'migrations', 'observability', 'ground'];
const MAY_IMPORT: Record<string, readonly string[]> = {
  index: ['app', 'services', 'workers', 'deploy', ...BELOW_SERVICES],
  app: ['services', 'workers', 'deploy', ...BELOW_SERVICES],
  services: ['deploy', ...BELOW_SERVICES],
  workers: ['services', 'deploy', ...BELOW_SERVICES],
  // The deploy strategies are parts a service is built from (target groups, rules, the smoke test): below it.
  deploy: BELOW_SERVICES,
  migrations: ['data', 'ground'],
  servers: ['ground'],
  proxy: ['ground'],
  project: ['ground'],
  data: ['ground'],
  observability: ['ground'],
  ground: ['ground'],
};

/** Modules that must load without aws-cdk-lib (and constructs): the renderers, selection and the pure ground. */
const PURE = [
  'src/servers/*', 'src/proxy/*', 'src/app/selection.ts', 'src/project/checks.ts', 'src/project/layout.ts',
  'src/services/body-limit.ts', 'src/problems.ts', 'src/numbers.ts', 'src/durations.ts', 'src/defaults.ts',
  'src/settings.ts', 'src/regions.ts',
];

const ROOT = resolve(__dirname, '..');
const SRC = join(ROOT, 'src');

type Graph = Map<string, string[]>;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every relative import (import/export ... from, side-effect import, require, dynamic import) of a file. */
export function relativeImports(text: string): string[] {
  const specs: string[] = [];
  const patterns = [/\bfrom\s+'(\.[^']*)'/g, /\bimport\s+'(\.[^']*)'/g, /\brequire\(\s*'(\.[^']*)'\s*\)/g, /\bimport\(\s*'(\.[^']*)'\s*\)/g];
  for (const pattern of patterns) for (const m of text.matchAll(pattern)) specs.push(m[1]);
  return specs;
}

function resolveImport(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) if (existsSync(candidate)) return candidate;
  throw new Error(`${relative(ROOT, from)}: cannot resolve '${spec}'`);
}

/** The import graph of src/, as paths relative to src/. */
function importGraph(): Graph {
  const graph: Graph = new Map();
  for (const file of sourceFiles(SRC)) {
    graph.set(relative(SRC, file), relativeImports(readFileSync(file, 'utf8')).map((spec) => relative(SRC, resolveImport(file, spec))));
  }
  return graph;
}

/** The layer of a file: its top folder under src/, `ground` for the root files, `index` for index.ts. */
export function layerOf(file: string): string {
  const parts = file.split(/[\\/]/);
  if (parts.length === 1) return file === 'index.ts' ? 'index' : 'ground';
  return parts[0];
}

/** Imports that run against the layers, and folders the table does not know. */
export function layerViolations(graph: Graph): string[] {
  const violations: string[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(file);
    const allowed = MAY_IMPORT[from];
    if (!allowed) {
      violations.push(`${file}: the folder '${from}' has no place in the layers; add it to MAY_IMPORT (and CONTRIBUTING.md)`);
      continue;
    }
    for (const target of imports) {
      const to = layerOf(target);
      if (to !== from && !allowed.includes(to)) violations.push(`${file} imports ${target}: '${from}' may not import '${to}'`);
    }
  }
  return violations;
}

/** Every import cycle, each as the files around it. */
export function importCycles(graph: Graph): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return cycles;
}

describe('layers: imports fall one way', () => {
  const graph = importGraph();

  test('every import of src/ goes to the same folder or a layer below', () => {
    expect(layerViolations(graph)).toEqual([]);
  });

  test('no import cycle', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  test('the check finds a back-import and a cycle (a renderer importing a service, the ground importing a renderer)', () => {
    const broken: Graph = new Map(graph);
    broken.set('servers/gunicorn.ts', [...graph.get('servers/gunicorn.ts')!, 'services/service-base.ts']);
    broken.set('problems.ts', [...graph.get('problems.ts')!, 'servers/gunicorn.ts']);
    expect(layerViolations(broken).sort()).toEqual([
      "problems.ts imports servers/gunicorn.ts: 'ground' may not import 'servers'",
      "servers/gunicorn.ts imports services/service-base.ts: 'servers' may not import 'services'",
    ]);
    expect(importCycles(broken)).toContainEqual(['problems.ts', 'servers/gunicorn.ts', 'problems.ts']);
  });

  test('a folder the layers do not name is an error', () => {
    expect(layerViolations(new Map([['jobs/cron.ts', []]]))).toEqual([
      "jobs/cron.ts: the folder 'jobs' has no place in the layers; add it to MAY_IMPORT (and CONTRIBUTING.md)",
    ]);
  });

  test('every kind of import statement is read', () => {
    expect(relativeImports([
      "import { a } from './a';",
      "import type { B } from '../b';",
      "export { c } from './c';",
      "import './d';",
      "const e = require('./e');",
      "const f = await import('./f');",
      "import * as cdk from 'aws-cdk-lib';",
    ].join('\n'))).toEqual(['./a', '../b', './c', './d', './e', './f']);
  });
});

/** Loads `files` in a fresh node (TypeScript through tsx) and lists the packages of `watched` it required. */
function packagesLoadedBy(files: string[], watched: string[]): string[] {
  const script = `
    const Module = require('module');
    const seen = new Set();
    const load = Module._load;
    Module._load = function (request, ...rest) {
      const name = request.startsWith('@') ? request.split('/').slice(0, 2).join('/') : request.split('/')[0];
      if (${JSON.stringify(watched)}.includes(name)) seen.add(request);
      return load.call(this, request, ...rest);
    };
    for (const file of ${JSON.stringify(files)}) require(file);
    for (const key of Object.keys(require.cache)) {
      for (const w of ${JSON.stringify(watched)}) if (key.includes('/node_modules/' + w + '/')) seen.add(key);
    }
    process.stdout.write(JSON.stringify([...seen]));
  `;
  const out = execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out);
}

function expand(patterns: string[]): string[] {
  return patterns.flatMap((p) => (p.endsWith('/*')
    ? sourceFiles(join(ROOT, p.slice(0, -2)))
    : [join(ROOT, p)]));
}

describe('renderers and selection are pure', () => {
  test('loading them (and what they import) never requires aws-cdk-lib or constructs', () => {
    expect(packagesLoadedBy(expand(PURE), ['aws-cdk-lib', 'constructs'])).toEqual([]);
  }, 60_000);

  test('the check sees aws-cdk-lib when a module loads it', () => {
    const loaded = packagesLoadedBy([join(SRC, 'errors.ts')], ['aws-cdk-lib']);
    expect(loaded).toContain('aws-cdk-lib/core/lib/errors');
  }, 60_000);
});
