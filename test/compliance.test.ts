import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { DjangoGunicornService, DjangoGunicornServiceProps, GunicornWorkerClass, Proxy, StaticFiles } from '../src';
import { formatFindings, nagFindings } from './helpers/compliance';
import { IMAGE, newStack } from './helpers/template';

const CERT = 'arn:aws:acm:us-east-1:111111111111:certificate/abc';

describe('the compliance helper', () => {
  test('reports a known-bad resource (an unencrypted bucket without logs or TLS enforcement)', () => {
    const stack = newStack();
    new s3.CfnBucket(stack, 'Bad', {});
    const rules = nagFindings(stack).map((f) => f.ruleId);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
  });

  test('reports NIST 800-53 r5 and HIPAA findings too when asked', () => {
    const stack = newStack();
    new s3.CfnBucket(stack, 'Bad', {});
    const packs = new Set(nagFindings(stack, ['NIST.800.53.R5', 'HIPAA.Security']).map((f) => f.pack));
    expect([...packs].sort()).toEqual(['HIPAA.Security', 'NIST.800.53.R5']);
  });

  test('honours an acknowledgement, and only for the rule acknowledged', () => {
    const stack = newStack();
    const bucket = new s3.CfnBucket(stack, 'Bad', {});
    Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: 'test' });
    const rules = nagFindings(stack).map((f) => f.ruleId);
    expect(rules).not.toContain('AwsSolutions-S1');
    expect(rules).toContain('AwsSolutions-S10');
  });
});

describe('AwsSolutions: every shape of DjangoGunicornService has zero unacknowledged findings', () => {
  const shapes: Array<[string, (stack: Stack) => Partial<DjangoGunicornServiceProps>]> = [
    ['the one-liner', () => ({})],
    ['HTTPS with static files from the image', (s) => ({
      certificate: acm.Certificate.fromCertificateArn(s, 'Cert', CERT),
      domainNames: ['example.com'],
      staticFiles: StaticFiles.fromImage('/app/staticfiles'),
    })],
    ['ALB-direct', () => ({ proxy: Proxy.none(), domainNames: ['example.com'] })],
    ['sync worker, big task', () => ({ workerClass: GunicornWorkerClass.SYNC, cpu: 4096, memoryLimitMiB: 8192 })],
    ['uvicorn worker, long idle timeout', () => ({ workerClass: GunicornWorkerClass.UVICORN, idleTimeout: Duration.seconds(120) })],
  ];

  test.each(shapes)('%s', (_name, props) => {
    const stack = newStack();
    new DjangoGunicornService(stack, 'Web', { image: IMAGE, ...props(stack) });
    const findings = nagFindings(stack);
    expect(formatFindings(findings)).toBe('');
  });
});

describe('acknowledgements', () => {
  const stack = newStack();
  new DjangoGunicornService(stack, 'Web', { image: IMAGE, certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', CERT), domainNames: ['example.com'] });

  const acks: Array<{ path: string; id: string; reason: string }> = [];
  const walk = (c: IConstruct) => {
    for (const m of c.node.metadata) {
      if (m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
        for (const [id, reason] of Object.entries<string>(m.data)) {
          // aws-cdk-lib acknowledges its own CloudFormation-Validate checks; ours are cdk-nag rules
          if (!id.startsWith('CloudFormation-Validate::')) acks.push({ path: c.node.path, id: id.replace(/^Annotation::/, ''), reason });
        }
      }
    }
    c.node.children.forEach(walk);
  };
  walk(stack);

  test('each names one rule on one resource and says why in words', () => {
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) {
      expect(a.id).toMatch(/^AwsSolutions-[A-Z0-9]+(\[.+\])?$/);
      expect(a.reason.length).toBeGreaterThan(40);
      expect(a.path).not.toBe('Test'); // never on the whole stack
    }
  });

  test('the list is the one reviewed: ALB open to the internet, env of non-secret settings, SECRET_KEY rotation, the log bucket itself', () => {
    expect(acks.map((a) => a.id).sort()).toEqual(['AwsSolutions-EC23', 'AwsSolutions-ECS2', 'AwsSolutions-S1', 'AwsSolutions-SMG4']);
  });
});
