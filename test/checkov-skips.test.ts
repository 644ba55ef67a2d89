// docs/checkov-skips.md is generated from scripts/checkov-skips.ts: this keeps it current, keeps every
// skip narrow and explained, and shows the matching lets through only what a skip names.
import { readFileSync } from 'node:fs';
import { CheckovFinding, CheckovSkip, DOC_PATH, REGENERATE, SKIPS, classify, renderMarkdown } from '../scripts/checkov-skips';

test(`docs/checkov-skips.md is current (regenerate: ${REGENERATE})`, () => {
  expect(readFileSync(DOC_PATH, 'utf8')).toBe(renderMarkdown());
});

test.each(SKIPS.map((s) => [`${s.check} ${s.type} ${s.path}`, s]))('%s is narrow and explained', (_label, skip) => {
  const s = skip as CheckovSkip;
  expect(s.check).toMatch(/^CKV2?_AWS_\d+$/);
  expect(s.type).toMatch(/^AWS::\w+::\w+$/);
  // named constructs, not a catch-all: an unrelated construct's resource does not match
  expect(() => new RegExp(s.path)).not.toThrow();
  expect(new RegExp(`^(?:${s.path})$`).test('Site/Unrelated/Thing/Resource')).toBe(false);
  expect(s.path).not.toMatch(/^\.\*|\|\.\*|\.\*$/);
  expect(s.reason.split(/\s+/).length).toBeGreaterThanOrEqual(8);
});

test('no two skips name the same check on the same path', () => {
  const keys = SKIPS.map((s) => `${s.check} ${s.type} ${s.path}`);
  expect(new Set(keys).size).toBe(keys.length);
});

describe('classify', () => {
  const skip: CheckovSkip = { check: 'CKV_AWS_18', title: 'access logging', type: 'AWS::S3::Bucket', path: 'Site/AccessLogs/Resource', reason: 'r' };
  const finding = (over: Partial<CheckovFinding>): CheckovFinding => ({
    check: 'CKV_AWS_18', title: 'access logging', resource: 'AWS::S3::Bucket.SiteAccessLogs1234', path: 'Site/AccessLogs/Resource', ...over,
  });

  test('a finding the skip names is skipped', () => {
    const r = classify([finding({})], [skip]);
    expect(r.skipped).toHaveLength(1);
    expect(r.failed).toHaveLength(0);
    expect(r.unused).toHaveLength(0);
  });

  test.each([
    ['another check', { check: 'CKV_AWS_19' }],
    ['another resource type', { resource: 'AWS::S3::BucketPolicy.SiteAccessLogsPolicy' }],
    ['another construct', { path: 'Site/Media/Resource' }],
    ['a longer path (the pattern is anchored)', { path: 'Site/AccessLogs/Resource/Extra' }],
    ['a template without construct paths', { path: '' }],
  ])('a finding on %s fails', (_label, over) => {
    const r = classify([finding(over as Partial<CheckovFinding>)], [skip]);
    expect(r.failed).toHaveLength(1);
    expect(r.unused).toEqual([skip]);
  });
});
