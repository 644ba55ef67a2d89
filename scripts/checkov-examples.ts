/**
 * Runs checkov (.venv-checkov, from python/requirements-checkov.txt: scripts/install-python-cdk) on every
 * example template: cdk.out/<example>/*.template.json from `npx projen synth:examples` and
 * cdk.out/python/<example>/*.template.json from `npx projen synth:python`. A failed check fails unless a
 * skip in scripts/checkov-skips.ts (docs/checkov-skips.md) covers it; a skip that covers nothing fails too.
 * test/fixtures/checkov-known-bad.template.json must fail (the scan is not a no-op).
 * Prints passed / failed / skipped per example.
 *
 *   npx projen checkov
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CheckovFinding, classify } from './checkov-skips';

const root = join(__dirname, '..');
const checkov = join(root, '.venv-checkov', 'bin', 'checkov');

if (!existsSync(checkov)) {
  console.log('FAIL checkov is not installed: run scripts/install-python-cdk');
  process.exit(1);
}

/** checkov on some templates: its passed count and its failed checks, with construct paths. */
function scan(templates: string[]): { passed: number; findings: CheckovFinding[] } {
  const args = ['--framework', 'cloudformation', '--skip-download', '--compact', '--output', 'json'];
  for (const t of templates) args.push('-f', t);
  const res = spawnSync(checkov, args, {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, BC_SKIP_MAPPING: 'TRUE', CHECKOV_RUN_SCA_PACKAGE_SCAN_V2: 'false' },
  });
  // Exit 1 means "some check failed"; anything else without JSON is checkov itself failing.
  let reports: any;
  try {
    reports = JSON.parse(res.stdout);
  } catch {
    throw new Error(`checkov exited ${res.status} without a JSON report:\n${res.stdout}\n${res.stderr}`);
  }
  reports = Array.isArray(reports) ? reports : [reports];
  if (reports.some((r: any) => r.summary?.parsing_errors > 0)) throw new Error(`checkov could not parse: ${templates.join(' ')}`);
  const paths = new Map<string, string>();
  for (const t of templates) {
    const template = JSON.parse(readFileSync(t, 'utf8'));
    const stack = basename(t, '.template.json');
    for (const [id, r] of Object.entries<any>(template.Resources ?? {})) {
      const p: string = r.Metadata?.['aws:cdk:path'] ?? '';
      paths.set(`${r.Type}.${id}`, p.startsWith(`${stack}/`) ? p.slice(stack.length + 1) : p);
    }
  }
  let passed = 0;
  const findings: CheckovFinding[] = [];
  for (const r of reports) {
    passed += r.summary?.passed ?? 0;
    for (const c of r.results?.failed_checks ?? []) {
      findings.push({ check: c.check_id, title: c.check_name, resource: c.resource, path: paths.get(c.resource) ?? '' });
    }
  }
  return { passed, findings };
}

const examples: [string, string][] = [
  ...readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ts')).map((f): [string, string] => [basename(f, '.ts'), join(root, 'cdk.out', basename(f, '.ts'))]),
  ...readdirSync(join(root, 'examples', 'python')).filter((f) => f.endsWith('.py')).map((f): [string, string] => [`python/${basename(f, '.py')}`, join(root, 'cdk.out', 'python', basename(f, '.py'))]),
].sort();

let failed = 0;
const all: CheckovFinding[] = [];
for (const [name, dir] of examples) {
  const templates = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.template.json')).map((f) => join(dir, f)) : [];
  if (templates.length === 0) {
    failed++;
    console.log(`FAIL ${name}: no template in ${dir} (run npx projen synth:examples and synth:python first)`);
    continue;
  }
  const started = Date.now();
  const { passed, findings } = scan(templates);
  all.push(...findings);
  const result = classify(findings);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`${result.failed.length === 0 ? 'ok  ' : 'FAIL'} ${name}: ${passed} passed, ${result.failed.length} failed, ${result.skipped.length} skipped (docs/checkov-skips.md), ${seconds}s`);
  for (const f of result.failed) console.log(`  ${f.check} ${f.title}: ${f.resource} (${f.path})`);
  if (result.failed.length > 0) failed++;
}

const unused = classify(all).unused;
for (const s of unused) console.log(`FAIL skip ${s.check} on ${s.type} ${s.path} covers no finding: remove it (scripts/checkov-skips.ts)`);
if (unused.length > 0) failed++;

// The deliberate failure: a bucket with nothing set must fail, and no skip may cover it.
const bad = scan([join(root, 'test', 'fixtures', 'checkov-known-bad.template.json')]);
const badResult = classify(bad.findings);
if (badResult.failed.length === 0) {
  failed++;
  console.log('FAIL test/fixtures/checkov-known-bad.template.json passed checkov: the scan is a no-op');
} else {
  console.log(`known-bad template: fails as it must (${badResult.failed.map((f) => f.check).sort().join(', ')})`);
}

console.log(`${examples.length - failed} of ${examples.length} examples checkov clean`);
process.exit(failed === 0 ? 0 : 1);
