/**
 * Synthesizes every examples/python/*.py app with the real `cdk synth`, in the Python venv that
 * scripts/install-python-cdk made (.venv-cdk: the wheel jsii-pacmak built, aws-cdk-lib, constructs and
 * cdk-nag from PyPI), into cdk.out/python/<example>/. Each app registers the three cdk-nag v3 packs, so
 * synth fails on any unacknowledged finding; then cfn-lint checks every template.
 *
 * Each Python example has a TypeScript twin (examples/<name with dashes>.ts): its stacks must hold the
 * same resources (logical IDs and types), so the snake_case API is shown to build what the TypeScript one
 * builds. And test/fixtures/known_bad_app.py, a deliberately non-compliant app, must fail synthesis
 * with an AwsSolutions finding (the check is not a no-op).
 *
 *   npx projen synth:python [name ...]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const root = join(__dirname, '..');
const venvBin = join(root, '.venv-cdk', 'bin');
const python = join(venvBin, 'python');
const cfnLint = join(venvBin, 'cfn-lint');
const env = {
  ...process.env,
  CDK_DISABLE_CLI_TELEMETRY: 'true',
  JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20',
  PATH: `${venvBin}:${process.env.PATH}`,
};

const probe = spawnSync(python, ['-c', 'import cdk_django, cdk_nag, aws_cdk'], { encoding: 'utf8', env });
if (probe.status !== 0) {
  console.log('FAIL the Python venv has no cdk_django: run scripts/install-python-cdk (after npx projen compile)');
  console.log(probe.stderr ?? probe.error?.message);
  console.log('0 of 1 Python examples synthesized clean');
  process.exit(1);
}

const wanted = process.argv.slice(2);
const examples = readdirSync(join(root, 'examples', 'python'))
  .filter((f) => f.endsWith('.py'))
  .map((f) => basename(f, '.py'))
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort();

/** `cdk synth` of one app command into `out`; returns its exit status, output and templates by stack. */
function synth(app: string, out: string): { status: number | null; output: string; templates: Record<string, any> } {
  rmSync(out, { recursive: true, force: true });
  const res = spawnSync('npx', [
    'cdk', 'synth', '--quiet', '--no-notices', '--no-version-reporting', '--ci', '--app', app, '--output', out,
  ], { cwd: root, encoding: 'utf8', env });
  const templates: Record<string, any> = {};
  if (existsSync(out)) {
    for (const f of readdirSync(out).filter((n) => n.endsWith('.template.json'))) {
      templates[basename(f, '.template.json')] = JSON.parse(readFileSync(join(out, f), 'utf8'));
    }
  }
  return { status: res.status, output: (res.stdout ?? '') + (res.stderr ?? ''), templates };
}

/** The resources of a template as 'LogicalId Type' lines, sorted. */
function shape(template: any): string[] {
  return Object.entries<any>(template.Resources ?? {}).map(([id, r]) => `${id} ${r.Type}`).sort();
}

/** What differs between two shapes, as '+ line' (only in Python) and '- line' (only in TypeScript). */
function diff(py: string[], ts: string[]): string[] {
  return [...py.filter((l) => !ts.includes(l)).map((l) => `+ ${l}`), ...ts.filter((l) => !py.includes(l)).map((l) => `- ${l}`)];
}

let failed = 0;
for (const name of examples) {
  const started = Date.now();
  const out = join(root, 'cdk.out', 'python', name);
  const result = synth(`${python} examples/python/${name}.py`, out);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const stacks = Object.keys(result.templates);
  if (result.status !== 0 || stacks.length === 0) {
    failed++;
    console.log(`FAIL ${name}: cdk synth exited ${result.status} after ${seconds}s`);
    console.log(result.output);
    continue;
  }

  const lint = spawnSync(cfnLint, stacks.map((s) => join(out, `${s}.template.json`)), { encoding: 'utf8', env });
  if (lint.status !== 0) {
    failed++;
    console.log(`FAIL ${name}: cfn-lint found problems`);
    console.log((lint.stdout ?? '') + (lint.stderr ?? '') + (lint.error?.message ?? ''));
    continue;
  }

  // The TypeScript twin: from `npx projen synth:examples` when it ran, else synthesized here.
  const twin = name.replace(/_/g, '-');
  let twinTemplates: Record<string, any>;
  const twinOut = join(root, 'cdk.out', twin);
  if (stacks.every((s) => existsSync(join(twinOut, `${s}.template.json`)))) {
    twinTemplates = Object.fromEntries(stacks.map((s) => [s, JSON.parse(readFileSync(join(twinOut, `${s}.template.json`), 'utf8'))]));
  } else {
    const tmp = mkdtempSync(join(tmpdir(), 'cdk-django-twin-'));
    try {
      twinTemplates = synth(`npx tsx --tsconfig tsconfig.typecheck.json examples/${twin}.ts`, tmp).templates;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const differences = stacks.flatMap((s) => (twinTemplates[s] ? diff(shape(result.templates[s]), shape(twinTemplates[s])).map((d) => `${s}: ${d}`) : [`${s}: no such stack in examples/${twin}.ts`]));
  if (differences.length > 0) {
    failed++;
    console.log(`FAIL ${name}: its resources differ from those of examples/${twin}.ts`);
    for (const d of differences) console.log(`  ${d}`);
    continue;
  }
  const resources = stacks.reduce((n, s) => n + shape(result.templates[s]).length, 0);
  console.log(`ok   ${name}: ${stacks.length} stack(s), ${resources} resources (as examples/${twin}.ts), cdk-nag clean, cfn-lint clean, ${seconds}s`);
}

// The deliberate failure: an unencrypted bucket must stop synthesis with an AwsSolutions finding.
let negative = 'skipped (names given)';
let negativeFailed = false;
if (wanted.length === 0) {
  const tmp = mkdtempSync(join(tmpdir(), 'cdk-django-known-bad-'));
  try {
    const bad = synth(`${python} test/fixtures/known_bad_app.py`, tmp);
    if (bad.status === 0 || !/AwsSolutions-S1/.test(bad.output)) {
      negativeFailed = true;
      negative = 'FAILED';
      console.log(`FAIL test/fixtures/known_bad_app.py synthesized (exit ${bad.status}) without the AwsSolutions-S1 finding: the nag check is a no-op`);
      console.log(bad.output);
    } else {
      negative = 'fails as it must (AwsSolutions-S1)';
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
console.log(`known-bad Python app: ${negative}`);
console.log(`${examples.length - failed} of ${examples.length} Python examples synthesized clean`);
process.exit(failed === 0 && !negativeFailed ? 0 : 1);
