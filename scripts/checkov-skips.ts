/**
 * The checkov checks that fail on the example templates on purpose, each on the resources it names and
 * with its reason, and the pure matching that scripts/checkov-examples.ts applies to checkov's findings.
 * docs/checkov-skips.md is generated from SKIPS:
 *
 *   npx tsx --tsconfig tsconfig.typecheck.json scripts/checkov-skips.ts
 *
 * test/checkov-skips.test.ts fails when the committed document differs from SKIPS.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the markdown goes. */
export const DOC_PATH = join(__dirname, '..', 'docs', 'checkov-skips.md');

/** The command that regenerates it. */
export const REGENERATE = 'npx tsx --tsconfig tsconfig.typecheck.json scripts/checkov-skips.ts';

/** One justified skip: a checkov check on the resources whose construct path matches. */
export interface CheckovSkip {
  /** The checkov check id, e.g. CKV_AWS_18. */
  readonly check: string;
  /** What the check asks for, in checkov's words. */
  readonly title: string;
  /** The CloudFormation resource type it applies to. */
  readonly type: string;
  /**
   * The construct path (the resource's `aws:cdk:path` metadata without the stack name), as a regular
   * expression anchored at both ends.
   */
  readonly path: string;
  /** Why the finding is right as it stands, in words. */
  readonly reason: string;
}

/** One failed check as checkov reports it, with the construct path of its resource. */
export interface CheckovFinding {
  readonly check: string;
  readonly title: string;
  /** 'AWS::Type.LogicalId' */
  readonly resource: string;
  /** `aws:cdk:path` of the resource without its stack name ('' when the template has none). */
  readonly path: string;
}

/** Any construct path prefix: the same library construct under whatever id and parent the app gives it. */
const ANY = '(?:.+/)?';
const CDK_VPC_SG_HANDLER = 'Custom::VpcRestrictDefaultSGCustomResourceProvider/Handler';
const MIGRATION_FUNCTIONS = `${ANY}Migrations/(?:OnEvent|IsComplete|Provider/framework-(?:onEvent|isComplete|onTimeout))/Resource`;
/** The database's app-user setup and rotation functions (in the VPC) and the cache token functions (outside it). */
const DATABASE_FUNCTIONS = `${ANY}Database/(?:SetupFunction|RotationFunction)/Resource`;
const CACHE_TOKEN_FUNCTIONS = `${ANY}Cache/(?:TokenVersionFunction|RetireTokenFunction)/Resource`;
/** The stack's Custom::DjangoDeletionProtection handler (one per stack, at its root). */
const DELETION_PROTECTION_HANDLER = 'CdkDjangoDeletionProtection/Handler/Resource';

export const SKIPS: CheckovSkip[] = [
  {
    check: 'CKV_AWS_260', title: 'Ensure no security groups allow ingress from 0.0.0.0:0 to port 80',
    type: 'AWS::EC2::SecurityGroup', path: `${ANY}LoadBalancer/SecurityGroup/Resource`,
    reason: 'The internet-facing load balancer of a public web site: port 80 is open to everyone so that plain HTTP reaches it, and with a certificate its listener only redirects to HTTPS.',
  },
  {
    check: 'CKV_AWS_2', title: 'Ensure ALB protocol is HTTPS',
    type: 'AWS::ElasticLoadBalancingV2::Listener', path: `${ANY}LoadBalancer/Http/Resource`,
    reason: 'Only in apps given no certificate (the quickstarts): HTTPS needs a certificate for the user\'s domain. Given `certificate`, the HTTP listener redirects to HTTPS and this check passes.',
  },
  {
    check: 'CKV_AWS_103', title: 'Ensure that Load Balancer Listener is using at least TLS v1.2',
    type: 'AWS::ElasticLoadBalancingV2::Listener', path: `${ANY}LoadBalancer/Http/Resource`,
    reason: 'The same plain-HTTP listener of apps given no certificate; the HTTPS listener, when there is one, uses a TLS 1.2+ policy and passes.',
  },
  {
    check: 'CKV_AWS_18', title: 'Ensure the S3 bucket has access logging enabled',
    type: 'AWS::S3::Bucket', path: `${ANY}(?:AccessLogs|StaticSite/Logs)/Resource`,
    reason: 'These are the log buckets themselves (the load balancer\'s access logs; the static site\'s S3 server access logs): logging a log bucket into another bucket only moves the question. Every other bucket, the CloudFront log bucket included, logs into them.',
  },
  {
    check: 'CKV_AWS_115', title: 'Ensure that AWS Lambda function is configured for function-level concurrent execution limit',
    type: 'AWS::Lambda::Function', path: `${MIGRATION_FUNCTIONS}|${CDK_VPC_SG_HANDLER}|${DATABASE_FUNCTIONS}|${CACHE_TOKEN_FUNCTIONS}|${DELETION_PROTECTION_HANDLER}`,
    reason: 'Custom resource handlers (and the rotation function, which Secrets Manager calls four times per rotation) run a few times per deployment or rotation, one call at a time: reserving concurrency for them would take it from the account\'s functions without limiting anything real.',
  },
  {
    check: 'CKV_AWS_116', title: 'Ensure that AWS Lambda function is configured for a Dead Letter Queue(DLQ)',
    type: 'AWS::Lambda::Function', path: `${MIGRATION_FUNCTIONS}|${CDK_VPC_SG_HANDLER}|${DATABASE_FUNCTIONS}|${CACHE_TOKEN_FUNCTIONS}|${DELETION_PROTECTION_HANDLER}`,
    reason: 'Custom resource handlers: a failed call fails the CloudFormation deployment, which reports it and rolls back; the rotation function is called synchronously step by step by Secrets Manager, which marks a failed rotation. There is no lost event a dead-letter queue could keep.',
  },
  {
    check: 'CKV_AWS_117', title: 'Ensure that AWS Lambda function is configured inside a VPC',
    type: 'AWS::Lambda::Function', path: `${MIGRATION_FUNCTIONS}|${CDK_VPC_SG_HANDLER}|${CACHE_TOKEN_FUNCTIONS}|${DELETION_PROTECTION_HANDLER}`,
    reason: 'Custom resource handlers call only AWS APIs (ECS RunTask/DescribeTasks, EC2 security group rules, Secrets Manager, ElastiCache ModifyReplicationGroup, the load balancer\'s and the database\'s deletion protection, DescribeStacks) and reach no resource inside the VPC; in the VPC they would need a NAT gateway or endpoints for nothing.',
  },
  {
    check: 'CKV_AWS_173', title: 'Check encryption settings for Lambda environment variable',
    type: 'AWS::Lambda::Function', path: `${MIGRATION_FUNCTIONS}|${ANY}Database/RotationFunction/Resource`,
    reason: 'The migrations handlers\' and the rotation function\'s variables hold no secret (cluster, task definition, service, subnet and security group identifiers, all in the template anyway); Lambda encrypts them at rest with its AWS managed key.',
  },
  {
    check: 'CKV_AWS_111', title: 'Ensure IAM policies does not allow write access without constraints',
    type: 'AWS::IAM::Policy', path: `${ANY}Migrations/Provider/waiter-state-machine/Role/DefaultPolicy/Resource`,
    reason: 'Step Functions log delivery to the waiter\'s log group (logs:CreateLogDelivery, PutResourcePolicy, ...) supports no resource-level permissions; the same statement is acknowledged for cdk-nag (AwsSolutions-IAM5).',
  },
  {
    check: 'CKV_AWS_115', title: 'Ensure that AWS Lambda function is configured for function-level concurrent execution limit',
    type: 'AWS::Lambda::Function', path: `${ANY}Deployment/SmokeTest/Resource`,
    reason: 'The smoke test is a deployment lifecycle hook: ECS calls it once per traffic-shifting deployment and waits for its answer; reserving concurrency for it would take it from the account\'s functions without limiting anything real.',
  },
  {
    check: 'CKV_AWS_116', title: 'Ensure that AWS Lambda function is configured for a Dead Letter Queue(DLQ)',
    type: 'AWS::Lambda::Function', path: `${ANY}Deployment/SmokeTest/Resource`,
    reason: 'The smoke test is called synchronously by ECS during a deployment, and a failed or timed-out call fails (and rolls back) that deployment: there is no lost event a dead-letter queue could keep.',
  },
  {
    check: 'CKV_AWS_173', title: 'Check encryption settings for Lambda environment variable',
    type: 'AWS::Lambda::Function', path: `${ANY}Deployment/SmokeTest/Resource`,
    reason: 'The smoke test\'s variables hold no secret (the load balancer name, the test port, protocol, host, path, expected status and timeouts, all in the template anyway); Lambda encrypts them at rest with its AWS managed key.',
  },
  {
    check: 'CKV_AWS_111', title: 'Ensure IAM policies does not allow write access without constraints',
    type: 'AWS::IAM::Policy', path: `${ANY}Deployment/SmokeTestRole/DefaultPolicy/Resource`,
    reason: 'The smoke test runs in the VPC to reach the test listener on private addresses: Lambda needs ec2:CreateNetworkInterface, DeleteNetworkInterface and the address actions for its network interfaces, which support no resource-level constraint (the same set as the AWSLambdaVPCAccessExecutionRole managed policy); its log rights name its own log group.',
  },
  {
    check: 'CKV_AWS_68', title: 'CloudFront Distribution should have WAF enabled',
    type: 'AWS::CloudFront::Distribution', path: `${ANY}StaticSite/Distribution/Resource`,
    reason: 'The distribution serves only collected static and uploaded media files from a private bucket (read through origin access control); the dynamic site sits behind the load balancer, where `waf: true` attaches a web ACL.',
  },
  {
    check: 'CKV_AWS_86', title: 'Ensure CloudFront Distribution has Access Logging enabled',
    type: 'AWS::CloudFront::Distribution', path: `${ANY}StaticSite/Distribution/Resource`,
    reason: 'Standard logging is on under a condition on AWS::Region (Fn::If), which checkov does not evaluate: off only in opt-in regions, where CloudFront delivers no standard logs to buckets (src/regions.ts); a stack for a concrete region has logging on, or in an opt-in region none to have.',
  },
  {
    check: 'CKV_AWS_174', title: 'Verify CloudFront Distribution Viewer Certificate is using TLS v1.2 or higher',
    type: 'AWS::CloudFront::Distribution', path: `${ANY}StaticSite/Distribution/Resource`,
    reason: 'The distribution uses its default *.cloudfront.net certificate, for which CloudFront allows no minimum protocol version to be set; a custom domain and certificate on it would bring TLS 1.2.',
  },
];

/** The skip that covers a finding, if any. */
export function skipFor(finding: CheckovFinding, skips: CheckovSkip[] = SKIPS): CheckovSkip | undefined {
  const type = finding.resource.split('.')[0];
  return skips.find((s) => s.check === finding.check && s.type === type && new RegExp(`^(?:${s.path})$`).test(finding.path));
}

/** Splits findings into those a skip covers and those it does not, and names the skips that covered none. */
export function classify(findings: CheckovFinding[], skips: CheckovSkip[] = SKIPS) {
  const skipped: CheckovFinding[] = [];
  const failed: CheckovFinding[] = [];
  const used = new Set<CheckovSkip>();
  for (const f of findings) {
    const s = skipFor(f, skips);
    if (s) {
      skipped.push(f);
      used.add(s);
    } else {
      failed.push(f);
    }
  }
  return { skipped, failed, unused: skips.filter((s) => !used.has(s)) };
}

/** The markdown of docs/checkov-skips.md. */
export function renderMarkdown(skips: CheckovSkip[] = SKIPS): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    '# checkov: the justified skips',
    '',
    `<!-- Generated by scripts/checkov-skips.ts: do not edit. Regenerate with \`${REGENERATE}\`. -->`,
    '',
    'checkov (`python/requirements-checkov.txt`) scans every example template (`npx projen checkov`, after',
    '`npx projen synth:examples` and `npx projen synth:python`). A failed check fails CI unless one row below',
    'covers it: the same check, resource type and construct path. A row that covers no finding fails CI too.',
    '',
    '| check | what it asks | resource type | construct path | why it stands |',
    '| --- | --- | --- | --- | --- |',
    ...skips.map((s) => `| ${s.check} | ${cell(s.title)} | ${s.type} | \`${cell(s.path)}\` | ${cell(s.reason)} |`),
    '',
  ];
  return lines.join('\n');
}

if (require.main === module) {
  writeFileSync(DOC_PATH, renderMarkdown());
  console.log(`wrote ${DOC_PATH} (${SKIPS.length} skips)`);
}
