import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { DjangoGunicornService, DjangoGunicornServiceProps, GunicornWorkerClass, ReverseProxy, StaticFiles } from '../src';
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

describe('AwsSolutions, NIST 800-53 r5 and HIPAA: every shape of DjangoGunicornService has zero unacknowledged findings', () => {
  const shapes: Array<[string, (stack: Stack) => Partial<DjangoGunicornServiceProps>]> = [
    ['the one-liner', () => ({})],
    ['HTTPS with static files from the image', (s) => ({
      certificate: acm.Certificate.fromCertificateArn(s, 'Cert', CERT),
      allowedHosts: ['example.com'],
      staticFiles: StaticFiles.fromImage('/app/staticfiles'),
    })],
    ['ALB-direct', () => ({ reverseProxy: ReverseProxy.none(), allowedHosts: ['example.com'] })],
    ['sync worker, big task', () => ({ workerClass: GunicornWorkerClass.SYNC, cpu: 4096, memoryLimitMiB: 8192 })],
    ['uvicorn worker, long idle timeout', () => ({ workerClass: GunicornWorkerClass.UVICORN, idleTimeout: Duration.seconds(120) })],
    // the web ACL logs (NIST/HIPAA WAFv2LoggingEnabled) to an encrypted group with retention
    ['a new web ACL', () => ({ waf: true })],
    ['an existing web ACL', () => ({ webAclArn: 'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/site/0123abcd' })],
  ];

  test.each(shapes)('%s', (_name, props) => {
    const stack = newStack();
    new DjangoGunicornService(stack, 'Web', { image: IMAGE, ...props(stack) });
    const findings = nagFindings(stack);
    expect(formatFindings(findings)).toBe('');
  });
});

/** Every acknowledgement under a scope: construct path, rule id and reason. */
function acknowledgementsOf(scope: IConstruct): Array<{ path: string; id: string; reason: string }> {
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
  walk(scope);
  return acks;
}

describe('acknowledgements', () => {
  const stack = newStack();
  new DjangoGunicornService(stack, 'Web', { image: IMAGE, certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', CERT), allowedHosts: ['example.com'] });
  const acks = acknowledgementsOf(stack);

  test('each names one rule on one resource and says why in words', () => {
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) {
      expect(a.id).toMatch(/^(AwsSolutions-[A-Z0-9]+(\[.+\])?|(NIST\.800\.53\.R5|HIPAA\.Security)-[A-Za-z0-9]+)$/);
      expect(a.reason.length).toBeGreaterThan(40);
      expect(a.path).not.toBe('Test'); // never on the whole stack
    }
  });

  test('every NIST 800-53 r5 acknowledgement has its HIPAA twin on the same construct, and the other way round', () => {
    const rest = (pack: string) => acks.filter((a) => a.id.startsWith(`${pack}-`)).map((a) => `${a.path} ${a.id.slice(pack.length + 1)}`).sort();
    expect(rest('NIST.800.53.R5').length).toBeGreaterThan(0);
    expect(rest('HIPAA.Security')).toEqual(rest('NIST.800.53.R5'));
  });

  test('the list is the one reviewed: ALB open to the internet without WAF, env of non-secret settings, SECRET_KEY rotation, the log bucket itself, '
    + 'the redirect listener, inline policies, the public subnets\' route to the internet', () => {
    expect(acks.filter((a) => a.id.startsWith('AwsSolutions-')).map((a) => a.id).sort())
      .toEqual(['AwsSolutions-EC23', 'AwsSolutions-ECS2', 'AwsSolutions-S1', 'AwsSolutions-SMG4']);
    // each of these is acknowledged in both NIST.800.53.R5 and HIPAA.Security (checked above)
    expect(acks.filter((a) => a.id.startsWith('NIST.800.53.R5-')).map((a) => `${a.path.replace(/^Test\/Web\//, '')} ${a.id.replace(/^NIST\.800\.53\.R5-/, '')}`).sort()).toEqual([
      // the ALB access-log bucket: S3 server access logs need SSE-S3, logging it would need another bucket, replication is a DR choice
      'AccessLogs S3BucketLoggingEnabled',
      'AccessLogs S3BucketReplicationEnabled',
      'AccessLogs S3DefaultEncryptionKMS',
      // no web ACL unless `waf: true`
      'LoadBalancer ALBWAFEnabled',
      // deletion protection is switched on after create, not in the template
      'LoadBalancer ELBDeletionProtectionEnabled',
      // the port-80 listener only redirects to HTTPS
      'LoadBalancer/Http ELBv2ACMCertificateRequired',
      'SecretKey SecretsManagerRotationEnabled',
      'Task IAMNoInlinePolicy',
      // the stack's deletion-protection handler
      'Test/CdkDjangoDeletionProtection/Handler LambdaConcurrency',
      'Test/CdkDjangoDeletionProtection/Handler LambdaDLQ',
      'Test/CdkDjangoDeletionProtection/Handler LambdaInsideVPC',
      'Vpc/FlowLogs IAMNoInlinePolicy',
      'Vpc/publicSubnet1 VPCNoUnrestrictedRouteToIGW',
      'Vpc/publicSubnet2 VPCNoUnrestrictedRouteToIGW',
    ]);
  });
});

describe('acknowledgements that depend on the options', () => {
  /** `<path under Test/Web> <rule>` of the NIST 800-53 r5 acknowledgements on the load balancer and its listeners. */
  const albAcks = (props: Partial<DjangoGunicornServiceProps>) => {
    const stack = newStack();
    new DjangoGunicornService(stack, 'Web', { image: IMAGE, ...props });
    return acknowledgementsOf(stack)
      .filter((a) => a.path.startsWith('Test/Web/LoadBalancer') && a.id.startsWith('NIST.800.53.R5-'))
      .map((a) => `${a.path.replace(/^Test\/Web\//, '')} ${a.id.replace(/^NIST\.800\.53\.R5-/, '')}`).sort();
  };

  test('without a certificate the HTTP listener serves the site: its missing certificate and redirect are acknowledged', () => {
    expect(albAcks({})).toEqual([
      'LoadBalancer ALBWAFEnabled',
      'LoadBalancer ELBDeletionProtectionEnabled',
      'LoadBalancer/Http ALBHttpToHttpsRedirection',
      'LoadBalancer/Http ELBv2ACMCertificateRequired',
    ]);
  });

  test('waf: true drops the ALBWAFEnabled acknowledgement; ELBDeletionProtectionEnabled says why either way', () => {
    expect(albAcks({ waf: true })).not.toContain('LoadBalancer ALBWAFEnabled');
    expect(albAcks({ webAclArn: 'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/site/0123abcd' })).not.toContain('LoadBalancer ALBWAFEnabled');
    expect(albAcks({ loadBalancerDeletionProtection: false })).toContain('LoadBalancer ELBDeletionProtectionEnabled');
  });
});
