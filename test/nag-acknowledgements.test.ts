// docs/nag-acknowledgements.md is generated from the apps the library builds: this keeps it current and
// keeps every acknowledgement granular and explained.
import { readFileSync } from 'node:fs';
import {
  AcknowledgementRow, AcknowledgementSite, DOC_PATH, REGENERATE, collectAcknowledgements, renderMarkdown, ruleOf, rowsOf, SHAPES,
} from '../scripts/nag-acknowledgements';

/**
 * cdk-nag rules that report granular findings (`Rule[finding]`): IAM4 (managed policies), IAM5 (wildcards),
 * and the log-export rules. An acknowledgement of one of these must name the finding, never the whole rule.
 * (From the cdk-nag rules that return findings instead of NON_COMPLIANT: IAMNoManagedPolicies,
 * IAMNoWildcardPermissions, AuroraMySQLLogging, OpenSearchSlowLogsToCloudWatch, DocumentDBClusterLogExports,
 * RDSLoggingEnabled.)
 */
const GRANULAR_RULES = [
  'AwsSolutions-IAM4', 'AwsSolutions-IAM5', 'AwsSolutions-RDS16', 'AwsSolutions-OS9', 'AwsSolutions-DOC5',
  'NIST.800.53.R5-RDSLoggingEnabled', 'HIPAA.Security-RDSLoggingEnabled',
];

/**
 * The allow-list of bare acknowledgements of granular rules: empty. An entry would need a rule whose
 * findings cannot be named in advance (e.g. a finding id that embeds a value only known at deploy
 * time); for IAM4/IAM5, the library names each managed policy and each wildcard resource instead.
 * Rules that report no findings (S1, SMG4, EC23, ...) can only be acknowledged bare; that is on the
 * one construct that triggers them, which the test below on owners checks.
 */
const BARE_GRANULAR_ALLOWED: Record<string, string> = {};

let sites: AcknowledgementSite[];
let rows: AcknowledgementRow[];
let library: AcknowledgementSite[];

beforeAll(() => {
  sites = collectAcknowledgements();
  rows = rowsOf(sites);
  library = sites.filter((s) => s.v2 !== 'none');
}, 300_000);

const list = (xs: AcknowledgementSite[]) => xs.map((s) => `${s.shape}: ${s.owner}/${s.path} ${s.rawRule}`).join('\n');

test('docs/nag-acknowledgements.md is current', () => {
  const committed = readFileSync(DOC_PATH, 'utf8');
  const generated = renderMarkdown(rows);
  if (generated !== committed) {
    const gen = generated.split('\n');
    const old = committed.split('\n');
    const diff = [...old.filter((l) => !gen.includes(l)).map((l) => `- ${l}`), ...gen.filter((l) => !old.includes(l)).map((l) => `+ ${l}`)];
    throw new Error(`docs/nag-acknowledgements.md is out of date: run \`${REGENERATE}\` and commit the result.`
      + `\n\nLines that change (- committed, + generated):\n${diff.slice(0, 60).join('\n')}`);
  }
});

test('every shape was built and the library acknowledges something in the service and data shapes', () => {
  const shapes = new Set(library.map((s) => s.shape));
  expect(Object.keys(SHAPES).filter((name) => !shapes.has(name))).toEqual([]);
});

test('every acknowledgement of the library has a reason of at least 30 characters', () => {
  expect(list(library.filter((s) => s.reason.trim().length < 30))).toBe('');
});

test('no acknowledgement is a bare granular rule: IAM4/IAM5 and the like always name the finding', () => {
  const bare = library.filter((s) => GRANULAR_RULES.includes(s.rawRule) && !(s.rawRule in BARE_GRANULAR_ALLOWED));
  expect(list(bare)).toBe('');
  // the allow-list only holds granular rules (anything else needs no entry)
  expect(Object.keys(BARE_GRANULAR_ALLOWED).filter((r) => !GRANULAR_RULES.includes(r))).toEqual([]);
});

test('every granular finding names something ([Resource::...], [Policy::...], [Action::...] or a log type)', () => {
  const findings = library.filter((s) => GRANULAR_RULES.includes(ruleOf(s.rawRule)));
  expect(findings.length).toBeGreaterThan(0);
  expect(list(findings.filter((s) => !/\[(Resource|Policy|Action)::.+\]$|\[[A-Za-z]+\]$/s.test(s.rawRule)))).toBe('');
});

test('every acknowledgement is on a construct of the library, never on a stack or an app', () => {
  expect(list(library.filter((s) => s.owner.startsWith('(')))).toBe('');
});

test('the cdk-nag v2 form is on the resource of each acknowledged construct', () => {
  // v3 acknowledgements also cover resources added under the construct later (cdk-nag v3 walks the
  // ancestors); the v2 form is written on the resources present at the call, which must include
  // the construct's own resource, the one cdk-nag flags.
  expect(list(sites.filter((s) => s.v2 === 'other'))).toBe('');
});

test('the document holds no app-specific names (logical IDs, stack names)', () => {
  const specific = rows.filter((r) => /[A-Za-z][A-Za-z0-9]*[0-9A-F]{8}\b/.test(r.rule)
    || Object.keys(SHAPES).some((shape) => r.rule.includes(shape) || r.path.includes(shape)));
  expect(specific.map((r) => r.rule)).toEqual([]);
});

test('the count by rule covers every library row', () => {
  const counted = rows.filter((r) => r.library).map((r) => ruleOf(r.rule));
  expect(counted.length).toBeGreaterThan(0);
  expect(renderMarkdown(rows)).toContain(`| **total** | **${counted.length}** |`);
});
