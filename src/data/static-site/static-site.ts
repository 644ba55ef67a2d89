import { Annotations, Aws, Duration, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DjangoStaticFilesProps } from './options';
import { staticFilesProblems } from './validation';
import { acknowledgeInPacks } from '../../compliance';
import { regionCondition } from '../../conditions';
import { throwIfProblems } from '../../errors';
import { acknowledgeFinding } from '../../nag';
import { perRegionName } from '../../names';
import { cloudFrontStandardLogsDelivered, regionsWithCloudFrontStandardLogs } from '../../regions';

/** Key prefix of the static files in their bucket, and URL path under the distribution. */
const STATIC_LOCATION = 'static';
/** Key prefix of the uploads in their bucket, and URL path under the distribution. */
const MEDIA_LOCATION = 'media';

const LOG_REPLICATION = 'Logs expire after a year and are not needed to restore service; cross-region replication is a disaster-recovery choice left to the account.';

/**
 * Django static files (and optionally user uploads) in private S3 buckets behind CloudFront.
 *
 * - Buckets: no public access, TLS 1.2+ only, versioned, SSE-KMS with a rotating customer-managed key
 *   and S3 Bucket Keys (few KMS calls), server access logs to a log bucket. CloudFront reads them
 *   through origin access control; CDK adds the key policy statement it needs.
 * - Distribution: HTTPS only (HTTP redirects), HTTP/2 and 3, compression, standard logs to the log bucket,
 *   a long-lived cache policy for `/static/*` (ManifestStaticFilesStorage names are content-hashed),
 *   a shorter one for `/media/*`, and security headers (HSTS, nosniff, frame DENY, referrer policy,
 *   CORS `*` for GET/HEAD so web fonts load from the app's own domain).
 * - The log bucket encrypts with SSE-S3 and has ACLs on: S3 server access logging does not deliver to
 *   SSE-KMS buckets, and CloudFront standard logging writes through the bucket ACL.
 *
 * Give `environment` to the app containers (django-storages: `bucket_name`, `location`, `custom_domain`),
 * `grantWrite` to the task running collectstatic, `grantReadWriteMedia` to the app tasks.
 */
export class DjangoStaticFiles extends Construct {
  /** Bucket of the static files (under `static/`). */
  public readonly bucket: s3.Bucket;
  /** Bucket of the user uploads (under `media/`), when `media` is on. */
  public readonly mediaBucket?: s3.Bucket;
  /** Bucket of the S3 server access logs (policy-based delivery, no ACLs). */
  public readonly logBucket: s3.Bucket;
  /**
   * Bucket of the CloudFront standard logs (CloudFront delivers them through a bucket ACL). Absent in a
   * stack for a concrete opt-in region, where CloudFront delivers no standard logs; an environment-agnostic
   * stack has it and turns logging off by a condition on `AWS::Region` there.
   */
  public readonly cdnLogBucket?: s3.Bucket;
  /** The key encrypting the static and media buckets. */
  public readonly encryptionKey: kms.Key;
  /** The CloudFront distribution. */
  public readonly distribution: cloudfront.Distribution;
  /** Host name the files are served from: the first domain name, else the distribution's. */
  public readonly domainName: string;
  /** `https://<domainName>/static/` */
  public readonly staticUrl: string;
  /** `https://<domainName>/media/`, when `media` is on. */
  public readonly mediaUrl?: string;
  /**
   * Settings for the app containers: `DJANGO_STATIC_URL`, `DJANGO_STATIC_BUCKET`, `DJANGO_STATIC_LOCATION`,
   * `DJANGO_STATIC_DOMAIN`, and with media `DJANGO_MEDIA_URL`, `DJANGO_MEDIA_BUCKET`, `DJANGO_MEDIA_LOCATION`.
   */
  public readonly environment: { [name: string]: string };

  constructor(scope: Construct, id: string, props: DjangoStaticFilesProps = {}) {
    super(scope, id);
    throwIfProblems(this, staticFilesProblems(props));

    this.encryptionKey = new kms.Key(this, 'Key', {
      description: `${this.node.path}: static files and uploads`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.logBucket = this.createLogBucket();
    const region = Stack.of(this).region;
    // CloudFront delivers standard logs to no bucket in an opt-in region (src/regions.ts).
    const standardLogs = Token.isUnresolved(region) || cloudFrontStandardLogsDelivered(region);
    if (standardLogs) this.cdnLogBucket = this.createCdnLogBucket();
    this.bucket = this.createContentBucket('Static', props.removalPolicy ?? RemovalPolicy.RETAIN, Duration.days(30));
    if (props.media) {
      // Uploads are user data: always retained, old versions kept longer to undo deletes and overwrites.
      this.mediaBucket = this.createContentBucket('Media', RemovalPolicy.RETAIN, Duration.days(90));
    }

    const headers = this.createResponseHeadersPolicy();
    // One origin access control for both buckets, named per region: it is account-global.
    const originAccessControl = new cloudfront.S3OriginAccessControl(this, 'OriginAccessControl', {
      originAccessControlName: perRegionName(this, { maxLength: 64, allowed: '-' }),
      description: `Django static files (${this.node.path})`.slice(0, 256),
    });
    const behavior = (bucket: s3.IBucket, cachePolicy: cloudfront.ICachePolicy): cloudfront.BehaviorOptions => ({
      origin: origins.S3BucketOrigin.withOriginAccessControl(bucket, { originAccessControl }),
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      cachePolicy,
      responseHeadersPolicy: headers,
      compress: true,
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `Django static files (${this.node.path})`.slice(0, 128),
      // Everything not under /media/ comes from the static bucket; /static/x is its key static/x.
      defaultBehavior: behavior(this.bucket, this.createStaticCachePolicy()),
      additionalBehaviors: this.mediaBucket ? {
        // Upload names are not content-hashed and may be overwritten: CloudFront's standard 1-day policy.
        [`/${MEDIA_LOCATION}/*`]: behavior(this.mediaBucket, cloudfront.CachePolicy.CACHING_OPTIMIZED),
      } : undefined,
      domainNames: props.domainNames,
      certificate: props.certificate,
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      sslSupportMethod: cloudfront.SSLMethod.SNI,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: props.priceClass,
      webAclId: props.webAclArn,
      enableLogging: standardLogs,
      logBucket: this.cdnLogBucket,
      logFilePrefix: standardLogs ? 'cloudfront/' : undefined,
    });
    if (standardLogs && Token.isUnresolved(region)) this.switchOffLoggingWhereUndelivered();
    this.acknowledgeDistributionRules(props, standardLogs);
    // With SSE-KMS, CDK lets any distribution of the account decrypt (naming this one would be circular);
    // the bucket policy still admits only this distribution, so no other one can read the objects.
    Annotations.of(this).acknowledgeWarning('@aws-cdk/aws-cloudfront-origins:wildcardKeyPolicyForOac',
      'The bucket policies restrict s3:GetObject to this distribution; the key condition only adds the account.');

    this.domainName = props.domainNames?.[0] ?? this.distribution.distributionDomainName;
    this.staticUrl = `https://${this.domainName}/${STATIC_LOCATION}/`;
    this.environment = {
      DJANGO_STATIC_URL: this.staticUrl,
      DJANGO_STATIC_BUCKET: this.bucket.bucketName,
      DJANGO_STATIC_LOCATION: STATIC_LOCATION,
      DJANGO_STATIC_DOMAIN: this.domainName,
    };
    if (this.mediaBucket) {
      this.mediaUrl = `https://${this.domainName}/${MEDIA_LOCATION}/`;
      this.environment.DJANGO_MEDIA_URL = this.mediaUrl;
      this.environment.DJANGO_MEDIA_BUCKET = this.mediaBucket.bucketName;
      this.environment.DJANGO_MEDIA_LOCATION = MEDIA_LOCATION;
    }
  }

  /**
   * Lets `grantee` (the task running `collectstatic`) list, read, write and delete under `static/`,
   * and use the bucket key. Read and list matter: collectstatic and ManifestStaticFilesStorage check
   * what exists and read the manifest.
   */
  public grantWrite(grantee: iam.IGrantable): iam.Grant {
    return this.grantPrefix(this.bucket, STATIC_LOCATION, grantee);
  }

  /** Lets `grantee` (the app tasks) list, read, write and delete uploads under `media/`. Needs `media: true`. */
  public grantReadWriteMedia(grantee: iam.IGrantable): iam.Grant {
    if (!this.mediaBucket) {
      throwIfProblems(this, [{ prop: 'media', message: 'grantReadWriteMedia needs the media bucket; set media: true' }]);
    }
    return this.grantPrefix(this.mediaBucket!, MEDIA_LOCATION, grantee);
  }

  /** Object actions on `<prefix>/*` and listing limited to that prefix: no action wildcards. */
  private grantPrefix(bucket: s3.IBucket, prefix: string, grantee: iam.IGrantable): iam.Grant {
    const objects = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
      resourceArns: [bucket.arnForObjects(`${prefix}/*`)],
    });
    const list = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucket'],
      resourceArns: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${prefix}/*`] } },
    });
    // GenerateDataKey to write, Decrypt to read and to complete multipart uploads.
    const key = this.encryptionKey.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey');
    // The one wildcard is the object key under the prefix: acknowledge exactly that, on the policy it landed in.
    const policy = grantee.grantPrincipal instanceof iam.Role ? grantee.grantPrincipal.node.tryFindChild('DefaultPolicy') : undefined;
    if (policy) {
      const bucketId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
      acknowledgeFinding(policy, `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}/*]`,
        `Objects under ${prefix}/ of this one bucket: ${prefix === STATIC_LOCATION ? 'collectstatic writes' : 'uploads get'} file names not known in advance.`);
    }
    return objects.combine(list).combine(key);
  }

  private createLogBucket(): s3.Bucket {
    const bucket = new s3.Bucket(this, 'Logs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      // Server access logs are delivered under a bucket policy: no ACLs (an ACL-enabled target
      // would need the legacy AccessControl: LogDeliveryWrite).
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
    });
    const selfLogging = 'This bucket is itself the destination of the server access logs of the site buckets; logging it to another bucket would only move the question.';
    acknowledgeFinding(bucket, 'AwsSolutions-S1', selfLogging);
    acknowledgeInPacks(bucket, 'S3BucketLoggingEnabled', selfLogging);
    acknowledgeInPacks(bucket, 'S3DefaultEncryptionKMS', 'S3 server access log delivery supports only SSE-S3 (AES256) on the destination bucket.');
    acknowledgeInPacks(bucket, 'S3BucketReplicationEnabled', LOG_REPLICATION);
    return bucket;
  }

  private createCdnLogBucket(): s3.Bucket {
    const bucket = new s3.Bucket(this, 'CdnLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      // CloudFront standard logging grants itself write access through the bucket ACL.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
    });
    this.logAccessTo(bucket, 's3/cdn-logs/');
    acknowledgeInPacks(bucket, 'S3DefaultEncryptionKMS', 'CloudFront standard logs are written with SSE-S3 here; the logs hold request metadata of public files only.');
    acknowledgeInPacks(bucket, 'S3BucketReplicationEnabled', LOG_REPLICATION);
    return bucket;
  }

  /**
   * S3 server access logging of `bucket` into the log bucket, delivered under a bucket policy.
   * (CDK's serverAccessLogsBucket uses the legacy LogDeliveryWrite ACL unless the app sets the
   * `@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy` flag, which a library cannot count on.)
   */
  private logAccessTo(bucket: s3.Bucket, prefix: string): void {
    (bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = {
      destinationBucketName: this.logBucket.bucketName,
      logFilePrefix: prefix,
    };
    this.logBucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: `S3ServerAccessLogs${prefix.replace(/[^A-Za-z0-9]/g, '')}`,
      principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
      actions: ['s3:PutObject'],
      resources: [this.logBucket.arnForObjects(`${prefix}*`)],
      conditions: {
        ArnLike: { 'aws:SourceArn': bucket.bucketArn },
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      },
    }));
  }

  private createContentBucket(id: string, removalPolicy: RemovalPolicy, keepOldVersions: Duration): s3.Bucket {
    const bucket = new s3.Bucket(this, id, {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      removalPolicy,
      lifecycleRules: [{ noncurrentVersionExpiration: keepOldVersions, abortIncompleteMultipartUploadAfter: Duration.days(7) }],
    });
    this.logAccessTo(bucket, `s3/${id.toLowerCase()}/`);
    acknowledgeInPacks(bucket, 'S3BucketReplicationEnabled',
      'Versioned and retained in this region; cross-region replication needs a bucket in a second region, a disaster-recovery choice left to the account (static files can also be rebuilt by collectstatic).');
    return bucket;
  }

  /**
   * Static file names carry a content hash, so an edge copy never goes stale: keep it a year.
   * Nothing varies the response but the path and the encoding.
   */
  private createStaticCachePolicy(): cloudfront.CachePolicy {
    return new cloudfront.CachePolicy(this, 'StaticCachePolicy', {
      comment: 'Django static files (content-hashed names)',
      defaultTtl: Duration.days(365),
      maxTtl: Duration.days(365),
      minTtl: Duration.seconds(0),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
  }

  private createResponseHeadersPolicy(): cloudfront.ResponseHeadersPolicy {
    return new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      responseHeadersPolicyName: perRegionName(this, { maxLength: 128, allowed: '-_' }),
      comment: 'Django static files: security headers, CORS for fonts',
      securityHeadersBehavior: {
        // includeSubdomains would bind every subdomain of a custom domain to HTTPS: the site's call, not ours.
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: false, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
      },
      // Browsers fetch fonts (and module scripts) cross-origin with CORS; the files are public anyway.
      corsBehavior: {
        accessControlAllowCredentials: false,
        accessControlAllowHeaders: ['*'],
        accessControlAllowMethods: ['GET', 'HEAD'],
        accessControlAllowOrigins: ['*'],
        originOverride: true,
      },
    });
  }

  /**
   * In an environment-agnostic stack, standard logging only where CloudFront delivers it: a condition on
   * `AWS::Region` keeps the distribution's Logging to the regions known to get it (not opt-in), and
   * leaves it out elsewhere, also in a region newer than the list.
   */
  private switchOffLoggingWhereUndelivered(): void {
    const delivered = regionCondition(this, 'CdkDjangoCloudFrontLogsDelivered', regionsWithCloudFrontStandardLogs());
    const cfn = this.distribution.node.defaultChild as cloudfront.CfnDistribution;
    const logging = { Bucket: this.cdnLogBucket!.bucketRegionalDomainName, Prefix: 'cloudfront/', IncludeCookies: false };
    cfn.addPropertyOverride('DistributionConfig.Logging', Fn.conditionIf(delivered.logicalId, logging, Aws.NO_VALUE));
  }

  private acknowledgeDistributionRules(props: DjangoStaticFilesProps, standardLogs: boolean): void {
    const distribution = this.distribution;
    if (!standardLogs) {
      acknowledgeFinding(distribution, 'AwsSolutions-CFR3',
        'CloudFront delivers no standard logs to buckets in opt-in regions such as this stack\'s; log the application at the load balancer (ALB access logs) instead.');
    }
    acknowledgeFinding(distribution, 'AwsSolutions-CFR1',
      'Static files and public uploads are meant for every visitor of the site; restrict countries on the application if needed, not on its assets.');
    if (!props.webAclArn) {
      acknowledgeFinding(distribution, 'AwsSolutions-CFR2',
        'No webAclArn given: the distribution serves only cached GET/HEAD of files from S3 (no application logic to attack); a WAFv2 web ACL costs at least 5 USD a month and can be passed as webAclArn.');
    }
    if (!props.certificate) {
      acknowledgeFinding(distribution, 'AwsSolutions-CFR4',
        'No certificate given: on the default *.cloudfront.net certificate CloudFront accepts TLS 1.0 whatever the security policy; pass certificate and domainNames to require TLS 1.2.');
    }
  }
}
