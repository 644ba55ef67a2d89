/**
 * Synthesizes every examples/*.ts app with the real `cdk synth` into cdk.out/<example>/.
 * Each example registers the cdk-nag packs on its App, so synth fails on any unacknowledged
 * finding. Then cfn-lint checks every template (loudly skipped if cfn-lint is absent).
 * Prints one summary line per example; exits non-zero if any example fails.
 *
 *   npx projen synth:examples [name ...]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';

const root = join(__dirname, '..');
const wanted = process.argv.slice(2);
const examples = readdirSync(join(root, 'examples'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => basename(f, '.ts'))
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort();

// cfn-lint pinned in python/requirements-cdk.txt (.venv-cdk, scripts/install-python-cdk), else the one on PATH.
const CFN_LINT = existsSync(join(root, '.venv-cdk', 'bin', 'cfn-lint')) ? join(root, '.venv-cdk', 'bin', 'cfn-lint') : 'cfn-lint';
const cfnLint = spawnSync(CFN_LINT, ['--version'], { encoding: 'utf8' });
const haveCfnLint = cfnLint.status === 0;
if (!haveCfnLint) {
  console.error('!!! cfn-lint is NOT installed: templates are NOT linted. Install it (scripts/install-python-cdk).');
}

let failed = 0;
for (const name of examples) {
  const out = join(root, 'cdk.out', name);
  rmSync(out, { recursive: true, force: true });
  const started = Date.now();
  const synth = spawnSync('npx', [
    'cdk', 'synth', '--quiet', '--no-notices', '--no-version-reporting', '--ci',
    '--app', `npx tsx --tsconfig tsconfig.typecheck.json examples/${name}.ts`,
    '--output', out,
  ], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (synth.status !== 0) {
    failed++;
    console.log(`FAIL ${name}: cdk synth exited ${synth.status} after ${seconds}s`);
    console.log((synth.stdout + synth.stderr).split('\n').filter((l) => !/nodedir/.test(l)).join('\n'));
    continue;
  }
  const templates = existsSync(out) ? readdirSync(out).filter((f) => f.endsWith('.template.json')) : [];
  const resources = templates.reduce((n, t) => n + Object.keys(JSON.parse(readFileSync(join(out, t), 'utf8')).Resources ?? {}).length, 0);
  let lint = 'cfn-lint SKIPPED (not installed)';
  if (haveCfnLint) {
    const res = spawnSync(CFN_LINT, templates.map((t) => join(out, t)), { encoding: 'utf8' });
    if (res.status !== 0) {
      failed++;
      console.log(`FAIL ${name}: cfn-lint found problems`);
      console.log(res.stdout + res.stderr);
      continue;
    }
    lint = 'cfn-lint clean';
  }
  const warnings = (synth.stdout + synth.stderr).split('\n').filter((l) => /^WARNING /.test(l));
  for (const w of warnings) console.log(`  ${w.trim()}`);
  console.log(`ok   ${name}: ${templates.length} stack(s), ${resources} resources, cdk-nag clean, ${lint}, ${warnings.length} warning(s), ${seconds}s`);
}
console.log(`${examples.length - failed} of ${examples.length} examples synthesized clean`);
process.exit(failed === 0 ? 0 : 1);
