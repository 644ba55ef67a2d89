import { App, Errors, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { DjangoStaticFiles, DjangoStaticFilesProps } from '../../src/data/static-site';
import { Finding, formatFindings, nagFindings } from '../helpers/compliance';
import { newStack, only } from '../helpers/template';

const CERT = 'arn:aws:acm:us-east-1:111111111111:certificate/abc';
const WEB_ACL = 'arn:aws:wafv2:us-east-1:111111111111:global/webacl/site/0123abcd';

function synth(props: (scope: Construct) => DjangoStaticFilesProps = () => ({})) {
  const stack = newStack();
  const site = new DjangoStaticFiles(stack, 'Static', props(stack));
  return { stack, site, template: Template.fromStack(stack) };
}

function errorOf(build: (scope: Stack) => void): any {
  const stack = newStack();
  try {
    build(stack);
  } catch (e) {
    return e;
  }
  throw new Error('expected an error, nothing was thrown');
}

/** Logical ids of the buckets of a site. */
function bucketIds(site: DjangoStaticFiles): Record<string, string> {
  const stack = Stack.of(site);
  const ref = (b?: { bucketName: string }) => (b ? stack.resolve(b.bucketName).Ref : undefined);
  return { Static: ref(site.bucket), Media: ref(site.mediaBucket), Logs: ref(site.logBucket), CdnLogs: ref(site.cdnLogBucket) };
}

// GIVEN the defaults, and everything on (built once: every Template costs time)
const quick = synth();
const quickIds = bucketIds(quick.site);
const dist = only(quick.template, 'AWS::CloudFront::Distribution').DistributionConfig;
const full = synth((s) => ({
  media: true,
  domainNames: ['static.example.com'],
  certificate: acm.Certificate.fromCertificateArn(s, 'Cert', CERT),
  webAclArn: WEB_ACL,
}));
const fullIds = bucketIds(full.site);
const fullDist = only(full.template, 'AWS::CloudFront::Distribution').DistributionConfig;

describe('DjangoStaticFiles buckets', () => {
  test('the static bucket is private, versioned, SSE-KMS with a rotating key and bucket keys, logged, retained', () => {
    const [keyId] = Object.keys(quick.template.findResources('AWS::KMS::Key'));
    quick.template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } },
          }],
        },
        LoggingConfiguration: { DestinationBucketName: { Ref: quickIds.Logs }, LogFilePrefix: 's3/static/' },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      },
    });
    quick.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('every bucket policy denies plain HTTP and TLS below 1.2', () => {
    for (const name of ['Static', 'Logs']) {
      quick.template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: quickIds[name] },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
          ]),
        },
      });
    }
  });

  test('the access-log bucket: SSE-S3 (what S3 access logs need), no ACLs, delivery under a bucket policy, private, expiring after a year', () => {
    const logs = quick.template.toJSON().Resources[quickIds.Logs];
    expect(logs.DeletionPolicy).toBe('Retain');
    expect(logs.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: 365 })] },
    });
    expect(logs.Properties.AccessControl).toBeUndefined();
    const policy = Object.values(quick.template.findResources('AWS::S3::BucketPolicy'))
      .find((p: any) => p.Properties.Bucket.Ref === quickIds.Logs) as any;
    const delivery = policy.Properties.PolicyDocument.Statement.filter((st: any) => st.Principal?.Service === 'logging.s3.amazonaws.com');
    expect(delivery.map((st: any) => st.Action)).toEqual(['s3:PutObject', 's3:PutObject']);
    for (const st of delivery) expect(Object.keys(st.Condition).sort()).toEqual(['ArnLike', 'StringEquals']);
  });

  test('the CloudFront log bucket: ACLs on (CloudFront standard logging needs them), no legacy AccessControl, its own access logged', () => {
    const cdn = quick.template.toJSON().Resources[quickIds.CdnLogs];
    expect(cdn.DeletionPolicy).toBe('Retain');
    expect(cdn.Properties).toMatchObject({
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: quickIds.Logs }, LogFilePrefix: 's3/cdn-logs/' },
    });
    expect(cdn.Properties.AccessControl).toBeUndefined();
  });

  test('no media bucket unless asked; with media, a second private bucket that is always retained', () => {
    expect(quickIds.Media).toBeUndefined();
    expect(quick.site.mediaBucket).toBeUndefined();
    const media = full.template.toJSON().Resources[fullIds.Media];
    expect(media.DeletionPolicy).toBe('Retain');
    expect(media.Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { LogFilePrefix: 's3/media/' },
    });
  });

  test('removalPolicy applies to the static bucket only', () => {
    const { template, site } = synth(() => ({ media: true, removalPolicy: RemovalPolicy.DESTROY }));
    const ids = bucketIds(site);
    const resources = template.toJSON().Resources;
    expect(resources[ids.Static].DeletionPolicy).toBe('Delete');
    expect(resources[ids.Media].DeletionPolicy).toBe('Retain');
    expect(resources[ids.Logs].DeletionPolicy).toBe('Retain');
    // no auto-delete custom resource (a Lambda function) is added
    template.resourceCountIs('AWS::Lambda::Function', 0);
  });
});

describe('DjangoStaticFiles distribution', () => {
  test('reads the bucket through origin access control, and only this distribution may', () => {
    expect(dist.Origins).toHaveLength(1);
    expect(dist.Origins[0].OriginAccessControlId).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Id'] });
    expect(dist.Origins[0].DomainName).toEqual({ 'Fn::GetAtt': [quickIds.Static, 'RegionalDomainName'] });
    quick.template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
    });
    const [distId] = Object.keys(quick.template.findResources('AWS::CloudFront::Distribution'));
    quick.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: quickIds.Static },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Allow',
          Action: 's3:GetObject',
          Principal: { Service: 'cloudfront.amazonaws.com' },
          Condition: { StringEquals: { 'AWS:SourceArn': Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([{ Ref: distId }])] }) } },
        })]),
      },
    });
    // the key lets CloudFront decrypt for reads, nothing more
    quick.template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 'kms:Decrypt' })]) },
    });
  });

  test('redirects HTTP to HTTPS, compresses, GET/HEAD only, HTTP/2 and 3', () => {
    expect(dist.DefaultCacheBehavior).toMatchObject({ ViewerProtocolPolicy: 'redirect-to-https', Compress: true, AllowedMethods: ['GET', 'HEAD'] });
    expect(dist.HttpVersion).toBe('http2and3');
  });

  test('TLSv1.2_2021 over SNI with a certificate; the default certificate without one', () => {
    expect(fullDist.ViewerCertificate).toEqual({ AcmCertificateArn: CERT, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' });
    expect(fullDist.Aliases).toEqual(['static.example.com']);
    // no ViewerCertificate: CloudFront uses its default certificate (and TLS 1.0, hence the CFR4 acknowledgement)
    expect(dist.ViewerCertificate).toBeUndefined();
  });

  test('standard logs go to the log bucket under cloudfront/, in the regions CloudFront delivers them to', () => {
    expect(dist.Logging).toEqual({
      'Fn::If': ['CdkDjangoCloudFrontLogsDelivered', {
        Bucket: { 'Fn::GetAtt': [quickIds.CdnLogs, 'RegionalDomainName'] }, Prefix: 'cloudfront/', IncludeCookies: false,
      }, { Ref: 'AWS::NoValue' }],
    });
  });

  test('in a concrete opt-in region: no standard logs, no log bucket for them, CFR3 acknowledged with the reason', () => {
    const stack = new Stack(new App(), 'OptIn', { env: { region: 'eu-south-1' } });
    const site = new DjangoStaticFiles(stack, 'Static');
    expect(site.cdnLogBucket).toBeUndefined();
    expect(only(Template.fromStack(stack), 'AWS::CloudFront::Distribution').DistributionConfig.Logging).toBeUndefined();
    expect(JSON.stringify(site.distribution.node.metadata)).toContain('CloudFront delivers no standard logs to buckets in opt-in regions');
  });

  test('a year-long cache for static files keyed on the path and encoding only', () => {
    const policy = only(quick.template, 'AWS::CloudFront::CachePolicy').CachePolicyConfig;
    expect(policy).toMatchObject({ DefaultTTL: 31536000, MaxTTL: 31536000, MinTTL: 0 });
    expect(policy.ParametersInCacheKeyAndForwardedToOrigin).toMatchObject({
      EnableAcceptEncodingGzip: true,
      EnableAcceptEncodingBrotli: true,
      QueryStringsConfig: { QueryStringBehavior: 'none' },
      HeadersConfig: { HeaderBehavior: 'none' },
      CookiesConfig: { CookieBehavior: 'none' },
    });
  });

  test('security headers on every response: HSTS, nosniff, frame DENY, referrer policy, CORS GET/HEAD', () => {
    const [policyId] = Object.keys(quick.template.findResources('AWS::CloudFront::ResponseHeadersPolicy'));
    const config = only(quick.template, 'AWS::CloudFront::ResponseHeadersPolicy').ResponseHeadersPolicyConfig;
    expect(config.SecurityHeadersConfig).toEqual({
      StrictTransportSecurity: { AccessControlMaxAgeSec: 63072000, IncludeSubdomains: false, Override: true },
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'strict-origin-when-cross-origin', Override: true },
    });
    expect(config.CorsConfig).toMatchObject({ AccessControlAllowMethods: { Items: ['GET', 'HEAD'] }, AccessControlAllowCredentials: false });
    expect(dist.DefaultCacheBehavior.ResponseHeadersPolicyId).toEqual({ Ref: policyId });
  });

  test('media: /media/* from the media bucket through its own OAC origin, same headers', () => {
    expect(fullDist.Origins).toHaveLength(2);
    const [media] = fullDist.CacheBehaviors;
    expect(fullDist.CacheBehaviors).toHaveLength(1);
    expect(media).toMatchObject({ PathPattern: '/media/*', ViewerProtocolPolicy: 'redirect-to-https', Compress: true });
    expect(media.ResponseHeadersPolicyId).toEqual(fullDist.DefaultCacheBehavior.ResponseHeadersPolicyId);
    const origin = fullDist.Origins.find((o: any) => o.Id === media.TargetOriginId);
    expect(origin.DomainName).toEqual({ 'Fn::GetAtt': [fullIds.Media, 'RegionalDomainName'] });
    expect(origin.OriginAccessControlId).toBeDefined();
  });

  test('webAclArn is attached', () => {
    expect(fullDist.WebACLId).toBe(WEB_ACL);
  });
});

describe('DjangoStaticFiles settings', () => {
  test('without a domain: the distribution name, the bucket, the location', () => {
    const [distId] = Object.keys(quick.template.findResources('AWS::CloudFront::Distribution'));
    const env = quick.stack.resolve(quick.site.environment);
    expect(env).toEqual({
      DJANGO_STATIC_URL: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distId, 'DomainName'] }, '/static/']] },
      DJANGO_STATIC_BUCKET: { Ref: quickIds.Static },
      DJANGO_STATIC_LOCATION: 'static',
      DJANGO_STATIC_DOMAIN: { 'Fn::GetAtt': [distId, 'DomainName'] },
    });
  });

  test('with domain names and media: the first domain name, and the media settings', () => {
    expect(full.stack.resolve(full.site.environment)).toEqual({
      DJANGO_STATIC_URL: 'https://static.example.com/static/',
      DJANGO_STATIC_BUCKET: { Ref: fullIds.Static },
      DJANGO_STATIC_LOCATION: 'static',
      DJANGO_STATIC_DOMAIN: 'static.example.com',
      DJANGO_MEDIA_URL: 'https://static.example.com/media/',
      DJANGO_MEDIA_BUCKET: { Ref: fullIds.Media },
      DJANGO_MEDIA_LOCATION: 'media',
    });
  });
});

describe('DjangoStaticFiles grants', () => {
  function granted(media: boolean, grant: (site: DjangoStaticFiles, role: iam.Role) => void) {
    const stack = newStack();
    const site = new DjangoStaticFiles(stack, 'Static', { media });
    const role = new iam.Role(stack, 'Task', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    grant(site, role);
    const template = Template.fromStack(stack);
    return { stack, site, template, statements: only(template, 'AWS::IAM::Policy').PolicyDocument.Statement as any[], ids: bucketIds(site) };
  }

  test('grantWrite: object actions on static/* only, listing limited to static/, the bucket key, no wildcard action', () => {
    const { statements, ids } = granted(false, (site, role) => site.grantWrite(role));
    const [keyId] = Object.keys(quick.template.findResources('AWS::KMS::Key'));
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.Static, 'Arn'] }, '/static/*']] },
      },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: { 'Fn::GetAtt': [ids.Static, 'Arn'] },
        Condition: { StringLike: { 's3:prefix': ['static/*'] } },
      },
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': [keyId, 'Arn'] } },
    ]);
  });

  test('grantReadWriteMedia: the same on media/* of the media bucket', () => {
    const { statements, ids } = granted(true, (site, role) => site.grantReadWriteMedia(role));
    expect(statements[0].Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.Media, 'Arn'] }, '/media/*']] });
    expect(statements[1]).toMatchObject({ Resource: { 'Fn::GetAtt': [ids.Media, 'Arn'] }, Condition: { StringLike: { 's3:prefix': ['media/*'] } } });
    expect(JSON.stringify(statements)).not.toContain(ids.Static);
  });

  test('grantReadWriteMedia without media is a ValidationError naming media', () => {
    const e = errorOf((s) => {
      const site = new DjangoStaticFiles(s, 'Static');
      site.grantReadWriteMedia(new iam.Role(s, 'Task', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') }));
    });
    expect(Errors.isValidationError(e)).toBe(true);
    expect(e.message).toMatch(/^media: /);
  });
});

describe('DjangoStaticFiles bad input: a ValidationError naming the prop', () => {
  const cases: Array<[string, string, (scope: Construct) => DjangoStaticFilesProps]> = [
    ['domain names without a certificate', 'domainNames', () => ({ domainNames: ['static.example.com'] })],
    ['an empty domain name list', 'domainNames', () => ({ domainNames: [] })],
    ['a wildcard first domain name', 'domainNames', (s) => ({ domainNames: ['*.example.com'], certificate: acm.Certificate.fromCertificateArn(s, 'C', CERT) })],
    ['a certificate without domain names', 'certificate', (s) => ({ certificate: acm.Certificate.fromCertificateArn(s, 'C', CERT) })],
    ['a certificate outside us-east-1', 'certificate', (s) => ({
      domainNames: ['static.example.com'],
      certificate: acm.Certificate.fromCertificateArn(s, 'C', 'arn:aws:acm:eu-west-1:111111111111:certificate/abc'),
    })],
    ['a WAF Classic id instead of a WAFv2 ARN', 'webAclArn', () => ({ webAclArn: '473e64fd-f30b-4765-81a0-62ad96dd167a' })],
    ['a regional WAFv2 web ACL', 'webAclArn', () => ({ webAclArn: 'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/site/0123' })],
  ];

  test.each(cases)('%s', (_name, prop, props) => {
    const e = errorOf((s) => new DjangoStaticFiles(s, 'Static', props(s)));
    expect(Errors.isValidationError(e)).toBe(true);
    expect(e.message).toMatch(new RegExp(`^${prop}: `));
  });

  test('a certificate ARN only known at deploy time is not second-guessed', () => {
    const stack = newStack();
    const cert = acm.Certificate.fromCertificateArn(stack, 'C', Stack.of(stack).formatArn({ service: 'acm', region: 'us-east-1', resource: 'certificate', resourceName: 'abc' }));
    expect(() => new DjangoStaticFiles(stack, 'Static', { domainNames: ['static.example.com'], certificate: cert })).not.toThrow();
  });
});

describe('DjangoStaticFiles compliance', () => {
  const mine = (findings: Finding[]) => findings.filter((f) => f.resource.startsWith('Test/Static/'));

  test.each<[string, () => Stack]>([
    ['defaults (env-agnostic)', () => quick.stack],
    ['media, custom domain, WAF', () => full.stack],
    ['media in a region-bound stack, with a task role granted', () => {
      const stack = new Stack(new App(), 'Test', { env: { account: '111111111111', region: 'us-east-1' } });
      const site = new DjangoStaticFiles(stack, 'Static', { media: true });
      const role = new iam.Role(stack, 'Task', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
      site.grantWrite(role);
      site.grantReadWriteMedia(role);
      return stack;
    }],
  ])('AwsSolutions: no unacknowledged findings: %s', (_name, make) => {
    // The grants name objects under a prefix (static/*, media/*); the grant acknowledges exactly that
    // resource wildcard on the grantee's policy.
    expect(formatFindings(nagFindings(make(), ['AwsSolutions']))).toBe('');
  });

  test('the grant acknowledges only its own prefix wildcard', () => {
    const stack = new Stack(new App(), 'Test');
    const site = new DjangoStaticFiles(stack, 'Static', { media: true });
    const role = new iam.Role(stack, 'Task', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    site.grantWrite(role);
    // a wildcard the grant did not make is still reported
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [site.bucket.arnForObjects('other/*')] }));
    const findings = nagFindings(stack, ['AwsSolutions']);
    expect(findings.map((f) => f.ruleId)).toEqual([expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<Static\w+\.Arn>\/other\/\*\]$/)]);
  });

  test('acknowledgements: CFR1 always, CFR2 and CFR4 only without a web ACL and certificate, S1 on the log bucket; '
    + 'in NIST and HIPAA replication on every bucket, SSE-S3 on the log buckets, logging of the access-log bucket', () => {
    const acks = (root: IConstruct) => {
      const out: string[] = [];
      const walk = (c: IConstruct) => {
        for (const m of c.node.metadata) {
          if (m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
            for (const [id, reason] of Object.entries<string>(m.data)) {
              if (id.startsWith('CloudFormation-Validate::')) continue;
              expect(reason.length).toBeGreaterThan(40);
              out.push(`${c.node.path.replace(/^Test\/Static\//, '')} ${id.replace(/^Annotation::/, '')}`);
            }
          }
        }
        c.node.children.forEach(walk);
      };
      walk(root);
      return out.sort();
    };
    /** Each rule acknowledged in both NIST 800-53 r5 and HIPAA. */
    const inPacks = (path: string, ...rules: string[]) => rules.flatMap((r) => [`${path} HIPAA.Security-${r}`, `${path} NIST.800.53.R5-${r}`]);
    // Replication needs a second bucket in another region: a disaster-recovery decision left to the caller.
    // S3 server access logs are delivered only to SSE-S3 buckets; CloudFront standard logs likewise here.
    // The access-log bucket is the log destination itself.
    const compliance = (...withMedia: string[]) => [
      ...inPacks('CdnLogs', 'S3BucketReplicationEnabled', 'S3DefaultEncryptionKMS'),
      ...inPacks('Logs', 'S3BucketLoggingEnabled', 'S3BucketReplicationEnabled', 'S3DefaultEncryptionKMS'),
      ...withMedia.flatMap((m) => inPacks(m, 'S3BucketReplicationEnabled')),
      ...inPacks('Static', 'S3BucketReplicationEnabled'),
    ];
    expect(acks(quick.site)).toEqual([
      'Distribution AwsSolutions-CFR1',
      'Distribution AwsSolutions-CFR2',
      'Distribution AwsSolutions-CFR4',
      'Logs AwsSolutions-S1',
      ...compliance(),
    ].sort());
    expect(acks(full.site)).toEqual(['Distribution AwsSolutions-CFR1', 'Logs AwsSolutions-S1', ...compliance('Media')].sort());
  });

  test('no unacknowledged synth warnings (the OAC wildcard key policy warning is acknowledged with its reason)', () => {
    Annotations.fromStack(full.stack).hasNoWarning('*', Match.anyValue());
  });

  test.each([['defaults (env-agnostic)', () => quick], ['media, custom domain, WAF', () => full]])(
    'NIST 800-53 r5 and HIPAA: nothing remains open: %s (replication and SSE-S3 on the log buckets are acknowledged)', (_name, built) => {
      const open = mine(nagFindings(built().stack, ['NIST.800.53.R5', 'HIPAA.Security']));
      expect(formatFindings(open)).toBe('');
    });
});
