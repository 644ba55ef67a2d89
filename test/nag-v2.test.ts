// Both cdk-nag generations honour the library's acknowledgements (src/nag.ts writes both formats):
// - cdk-nag v2 (installed as the alias `cdk-nag-v2`) runs as Aspects and reports findings as
//   Annotations errors/warnings, reading `cdk_nag.rules_to_suppress` resource metadata;
// - cdk-nag v3 runs as a Validations plugin, reading `Validations.acknowledge` metadata.
// The same user-like app is built once per generation and must be clean under both.
import { App, Aspects, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks as AwsSolutionsChecksV3, HIPAASecurityChecks as HIPAASecurityChecksV3, NIST80053R5Checks as NIST80053R5ChecksV3 } from 'cdk-nag';
import {
  AwsSolutionsChecks as AwsSolutionsChecksV2,
  HIPAASecurityChecks as HIPAASecurityChecksV2,
  NIST80053R5Checks as NIST80053R5ChecksV2,
  NagSuppressions,
} from 'cdk-nag-v2';
import { Construct } from 'constructs';
import { DjangoApp, DjangoGunicornService, ReverseProxy } from '../src';
import { acknowledgeFinding, NAG_V2_METADATA_KEY } from '../src/nag';
import { formatFindings, nagFindings } from './helpers/compliance';

/** The app a user writes: a full DjangoApp and an ALB-direct Gunicorn service pulling from ECR. */
function buildUserApp(app: App): Stack {
  const stack = new Stack(app, 'UserStack');
  new DjangoApp(stack, 'Site', {
    image: ecs.ContainerImage.fromRegistry('example/mysite:1'),
    requirements: { websockets: true },
    databaseOptions: {},
    staticSite: { media: true },
    alarms: { createTopic: true },
  });
  const repo = ecr.Repository.fromRepositoryName(stack, 'Repo', 'mysite');
  new DjangoGunicornService(stack, 'Api', {
    image: ecs.ContainerImage.fromEcrRepository(repo, '1.2.3'),
    reverseProxy: ReverseProxy.none(),
    allowedHosts: ['api.example.com'],
  });
  return stack;
}

/** cdk-nag v2 messages: `<RuleId>[<finding>]: <info> <explanation>` (NagReportLogger/AnnotationLogger). */
const V2_MESSAGE = (pack: string) => Match.stringLikeRegexp(`^${pack.replace(/\./g, '\\.')}-`);

function messages(hits: Array<{ id: string; entry: { data?: unknown } }>): string {
  return hits.map((h) => `${h.id}: ${String(h.entry.data).trim()}`).join('\n');
}

/** Builds the user app with the given v2 packs as Aspects (as v2 users do) and synthesizes it. */
function synthWithV2(packs: Array<() => any>): Stack {
  const app = new App();
  for (const pack of packs) Aspects.of(app).add(pack());
  const stack = buildUserApp(app);
  app.synth();
  return stack;
}

describe('cdk-nag v2 (Aspects) honours the acknowledgements', () => {
  const stack = synthWithV2([() => new AwsSolutionsChecksV2({ verbose: true, logIgnores: true })]);
  const annotations = Annotations.fromStack(stack);

  test('no AwsSolutions errors', () => {
    expect(messages(annotations.findError('*', V2_MESSAGE('AwsSolutions')))).toBe('');
  });

  test('no AwsSolutions warnings either', () => {
    expect(messages(annotations.findWarning('*', V2_MESSAGE('AwsSolutions')))).toBe('');
  });

  test('no rule failed to evaluate (CdkNagValidationFailure)', () => {
    // (a malformed suppression, e.g. a finding in `id` or a short reason, makes v2 throw during synth)
    expect(messages(annotations.findWarning('*', Match.stringLikeRegexp('CdkNagValidationFailure')))).toBe('');
  });

  test('the checks ran and the acknowledgements were used: v2 logs them as suppressed (logIgnores)', () => {
    // `CdkNagSuppression[<finding>]: <RuleId> was triggered but suppressed. Provided reason: "..."`
    const suppressed = annotations.findInfo('*', Match.stringLikeRegexp('^CdkNagSuppression'))
      .map((h) => / (AwsSolutions-\S+) was triggered but suppressed/.exec(String(h.entry.data))?.[1]);
    expect(suppressed).toEqual(expect.arrayContaining(['AwsSolutions-IAM5', 'AwsSolutions-S1', 'AwsSolutions-ECS2', 'AwsSolutions-EC23']));
  });

  test('the metadata stays valid next to what v2 itself writes (NagSuppressions.addResourceSuppressions)', () => {
    const app = new App();
    const own = buildUserApp(app);
    const acknowledged = own.node.findAll().filter(CfnResource.isCfnResource)
      .filter((r) => r.getMetadata(NAG_V2_METADATA_KEY) !== undefined);
    expect(acknowledged.length).toBeGreaterThan(0);
    NagSuppressions.addResourceSuppressions(acknowledged[0], [{ id: 'AwsSolutions-L1', reason: 'a suppression written by cdk-nag v2 itself' }]);
    Aspects.of(app).add(new AwsSolutionsChecksV2());
    app.synth();
    expect(messages(Annotations.fromStack(own).findError('*', Match.anyValue()))).toBe('');
    expect(acknowledged[0].getMetadata(NAG_V2_METADATA_KEY).rules_to_suppress.map((r: any) => r.id)).toContain('AwsSolutions-L1');
  });
});

test('v2 also sees an acknowledgement on resources added under the construct after the call (as v3 does)', () => {
  const app = new App();
  Aspects.of(app).add(new AwsSolutionsChecksV2());
  const stack = new Stack(app, 'Late');
  const parent = new Construct(stack, 'Parent');
  acknowledgeFinding(parent, 'AwsSolutions-S1', 'a test bucket that must not log its own access');
  const late = new s3.CfnBucket(parent, 'Late', {});
  app.synth();
  const errors = Annotations.fromStack(stack).findError('/Late/Parent/Late', Match.stringLikeRegexp('^AwsSolutions-S1'));
  expect(errors.map((e) => String(e.entry.data).split(':')[0])).toEqual(expect.arrayContaining(['AwsSolutions-S10'])); // v2 ran
  expect(messages(errors.filter((e) => String(e.entry.data).startsWith('AwsSolutions-S1:')))).toBe('');
  expect(late.getMetadata(NAG_V2_METADATA_KEY).rules_to_suppress).toEqual([
    { id: 'AwsSolutions-S1', reason: 'a test bucket that must not log its own access' },
  ]);
});

describe('cdk-nag v2 and v3 NIST 800-53 r5 and HIPAA packs report the same findings on the same app', () => {
  // Every finding either generation reports, by construct path and rule: a difference means one generation
  // does not see an acknowledgement.
  const key = (path: string, rule: string) => `${path.replace(/^\//, '')} ${rule}`;
  const v3 = nagFindings(buildUserApp(new App()), ['NIST.800.53.R5', 'HIPAA.Security']).map((f) => key(f.resource, f.ruleId));
  const annotations = Annotations.fromStack(synthWithV2([
    () => new NIST80053R5ChecksV2({ logIgnores: true }), () => new HIPAASecurityChecksV2({ logIgnores: true }),
  ]));
  const pattern = Match.stringLikeRegexp('^(NIST\\.800\\.53\\.R5|HIPAA\\.Security)-');
  const v2 = [...annotations.findError('*', pattern), ...annotations.findWarning('*', pattern)]
    .map((h) => key(h.id, String(h.entry.data).split(': ')[0]));

  test('the v2 packs ran and used acknowledgements (the comparison is not vacuous)', () => {
    const suppressed = annotations.findInfo('*', Match.stringLikeRegexp('^CdkNagSuppression'))
      .filter((h) => / (NIST\.800\.53\.R5|HIPAA\.Security)-\S+ was triggered but suppressed/.test(String(h.entry.data)));
    expect(suppressed.length).toBeGreaterThan(0);
  });

  test('the library is clean against both packs: neither generation reports anything', () => {
    expect(v3.sort()).toEqual([]);
    expect(v2.sort()).toEqual([]);
  });

  test('v2 reports nothing that v3 does not', () => {
    expect(v2.filter((f) => !v3.includes(f)).sort()).toEqual([]);
  });

  test('v3 reports nothing that v2 does not', () => {
    expect(v3.filter((f) => !v2.includes(f)).sort()).toEqual([]);
  });
});

describe('cdk-nag v3 (Validations plugin on the App) honours the same acknowledgements', () => {
  test('the same app is clean against AwsSolutions, NIST 800-53 r5 and HIPAA', () => {
    const app = new App();
    buildUserApp(app);
    // the findings, readable on failure (nagFindings runs all three packs)...
    expect(formatFindings(nagFindings(app))).toBe('');
    // ...and the way users run it: synth fails on any unacknowledged finding
    Validations.of(app).addPlugins(new AwsSolutionsChecksV3(app), new NIST80053R5ChecksV3(app), new HIPAASecurityChecksV3(app));
    expect(() => app.synth()).not.toThrow();
  });
});
