import { Aws, CustomResource, Duration, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CacheEngine } from './engine';
import { DjangoCacheAttributes, ExistingDjangoCache } from './existing';
import { DjangoCacheProps } from './options';
import { admit, IDjangoCache, layerOf, redisUrl } from './settings';
import { TOKEN_SOURCE } from './token-source';
import { cacheProblems } from './validation';
import { ChannelLayerOptions } from '../../channel-layer';
import { acknowledgeInPacks } from '../../compliance';
import { throwIfProblems } from '../../errors';
import { inlineFunction, InlineFunction } from '../../inline-function';
import { allowLogsToUseKey } from '../../logs-key';
import { acknowledgeFinding } from '../../nag';
import { perCreateName } from '../../names';

/**
 * An ElastiCache (Valkey or Redis OSS) replication group for Django's cache and the Channels layer:
 * encrypted at rest with a customer-managed key and in transit with TLS, an AUTH token generated in
 * Secrets Manager, two nodes in two zones with automatic failover, a non-default port, daily snapshots,
 * slow and engine logs in CloudWatch. Give `environment` and `secrets` to the app containers and call
 * `allowFrom(service)`; or pass `channelLayer()` to a DjangoDaphneService.
 */
export class DjangoCache extends Construct implements IDjangoCache {
  /** Settings for a cache that already exists (not managed by this stack). */
  public static fromExisting(scope: Construct, id: string, attrs: DjangoCacheAttributes): IDjangoCache {
    return new ExistingDjangoCache(scope, id, attrs);
  }

  /** The cache's security group, default port the cache port. */
  public readonly connections: ec2.Connections;
  /** Host name of the primary endpoint. */
  public readonly host: string;
  /** The port clients connect to. */
  public readonly port: number;
  /** `REDIS_URL`: `rediss://<primary endpoint>:<port>/0`, no credentials. */
  public readonly environment: { [name: string]: string };
  /** `REDIS_PASSWORD`: the AUTH token, from Secrets Manager. */
  public readonly secrets: { [name: string]: ecs.Secret };
  /** The cache's security group (no ingress until `allowFrom`). */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The secret holding the AUTH token (a plain string). */
  public readonly authSecret: secretsmanager.Secret;
  /** The key encrypting the data, the secret and the logs. */
  public readonly encryptionKey: kms.IKey;
  /** The L1 replication group, for what the props do not cover. */
  public readonly replicationGroup: elasticache.CfnReplicationGroup;
  /**
   * The version of `authSecret` that holds the token of `authTokenGeneration`: the cache and the tasks
   * read exactly this version, never AWSCURRENT, so changing the secret outside the stack changes neither.
   */
  public readonly authTokenVersionId: string;

  private retireToken?: CustomResource;

  constructor(scope: Construct, id: string, props: DjangoCacheProps) {
    super(scope, id);
    const engine = props.engine ?? CacheEngine.VALKEY_8_0;
    const nodeType = props.nodeType ?? 'cache.t4g.micro';
    const numNodes = props.numNodes ?? 2;
    const multiAz = props.multiAz ?? true;
    const retention = props.snapshotRetentionLimit ?? 15;
    this.port = props.port ?? 6380;
    const subnets = props.vpc.selectSubnets(props.vpcSubnets ?? {
      subnetType: props.vpc.isolatedSubnets.length > 0 ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS,
    });
    throwIfProblems(this, cacheProblems(props, { multiAz, subnets }));

    this.encryptionKey = props.encryptionKey ?? new kms.Key(this, 'Key', {
      description: `${this.node.path}: ElastiCache data, AUTH token and logs`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.authSecret = new secretsmanager.Secret(this, 'AuthToken', {
      description: `${this.node.path}: ElastiCache AUTH token`,
      encryptionKey: this.encryptionKey,
      // Letters and digits only: ElastiCache forbids @ " / (16-128 printable characters), and a token
      // without punctuation is safe to put in a URL or a shell.
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });
    const noRotation = 'Secrets Manager has no rotation function for ElastiCache AUTH tokens (only for RBAC users); the token is rotated by raising authTokenGeneration, which rolls the cache (ROTATE: both tokens work) and then the tasks in one deploy.';
    acknowledgeFinding(this.authSecret, 'AwsSolutions-SMG4', noRotation);
    acknowledgeInPacks(this.authSecret, 'SecretsManagerRotationEnabled', noRotation);
    this.authTokenVersionId = this.createTokenVersion(props.authTokenGeneration ?? 1);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${this.node.path}: Redis clients in`,
      allowAllOutbound: false, // the nodes only answer; replication stays inside ElastiCache
    });
    this.connections = new ec2.Connections({ securityGroups: [this.securityGroup], defaultPort: ec2.Port.tcp(this.port) });

    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'Subnets', {
      description: `${this.node.path}`,
      subnetIds: subnets.subnetIds,
    });

    const slowLog = this.createLogGroup('SlowLog', 'slow-log', props.logRetention);
    const engineLog = this.createLogGroup('EngineLog', 'engine-log', props.logRetention);
    // CloudWatch Logs encrypts with the key itself (a no-op on imported keys). Any log group of the account and region:
    // naming ours would make the key depend on the log groups that depend on the key.
    allowLogsToUseKey(this.encryptionKey);

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'Resource', {
      replicationGroupDescription: `Django cache and Channels layer (${this.node.path})`,
      engine: engine.engine,
      engineVersion: engine.version,
      cacheNodeType: nodeType,
      numCacheClusters: numNodes,
      multiAzEnabled: multiAz,
      automaticFailoverEnabled: multiAz,
      port: this.port,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      atRestEncryptionEnabled: true,
      kmsKeyId: this.encryptionKey.keyArn,
      // A new group with TLS on accepts TLS connections only ('required'). TransitEncryptionMode is left out:
      // it exists to migrate existing groups through 'preferred', and the API may refuse it on create.
      transitEncryptionEnabled: true,
      // A {{resolve:secretsmanager:<arn>:SecretString:::<version id>}} dynamic reference: CloudFormation reads
      // the value at deploy time, the template never holds it. CloudFormation re-reads a reference only when
      // its text changes, so it names the version: a new generation changes the text, and the tasks'
      // secret reference names the same version, so both move together.
      authToken: SecretValue.secretsManager(this.authSecret.secretArn, { versionId: this.authTokenVersionId }).unsafeUnwrap(),
      snapshotRetentionLimit: retention,
      autoMinorVersionUpgrade: true,
      logDeliveryConfigurations: [
        logDelivery('slow-log', slowLog),
        logDelivery('engine-log', engineLog),
      ],
    });
    this.replicationGroup.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.SNAPSHOT);

    this.host = this.replicationGroup.attrPrimaryEndPointAddress;
    this.environment = { REDIS_URL: redisUrl(true, this.host, this.port) };
    this.secrets = { REDIS_PASSWORD: ecs.Secret.fromSecretsManagerVersion(this.authSecret, { versionId: this.authTokenVersionId }) };
  }

  /** Admits `peer` (e.g. an ECS service) to the cache port. */
  public allowFrom(peer: ec2.IConnectable): void {
    admit(this, peer);
  }

  /** The cache as this library's Channels layer (`DjangoDaphneService` `channelLayer`). */
  public channelLayer(): ChannelLayerOptions {
    return layerOf(this);
  }

  /**
   * After a deploy that raised `authTokenGeneration` has rolled out `services` (every task holds the new
   * token), retire the previous token: ElastiCache's SET, the step after the ROTATE CloudFormation made.
   * Give every service whose tasks hold `secrets`; DjangoApp gives its own. Tasks outside these services
   * that hold the previous token lose the cache at that moment.
   */
  public retirePreviousTokenAfter(...services: ecs.IBaseService[]): void {
    if (!this.retireToken) {
      const { function: fn, policy } = this.tokenFunction('RetireToken', 'retire', 'retires the previous AUTH token after a new one rolled out', [
        new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.authSecret.secretArn] }),
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [this.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
        }),
        new iam.PolicyStatement({
          actions: ['elasticache:ModifyReplicationGroup'],
          resources: [`arn:${Aws.PARTITION}:elasticache:${Aws.REGION}:${Aws.ACCOUNT_ID}:replicationgroup:${this.replicationGroup.ref}`],
        }),
      ]);
      this.retireToken = new CustomResource(this, 'RetirePreviousToken', {
        serviceToken: fn.functionArn,
        resourceType: 'Custom::DjangoCacheRetireAuthToken',
        properties: {
          SecretArn: this.authSecret.secretArn,
          VersionId: this.authTokenVersionId,
          ReplicationGroupId: this.replicationGroup.ref,
        },
      });
      this.retireToken.node.addDependency(policy, this.replicationGroup);
    }
    for (const s of services) this.retireToken.node.addDependency(s);
  }

  /**
   * A custom resource that writes the token of a generation as a new version of the secret and returns its
   * id. The version id is derived from the stack, the resource and the generation, so an update that rolls
   * back finds the previous generation's version again instead of minting a third token.
   */
  private createTokenVersion(generation: number): string {
    const { function: fn, policy } = this.tokenFunction('TokenVersion', 'version', 'writes the AUTH token of each generation', [
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], resources: [this.authSecret.secretArn] }),
      new iam.PolicyStatement({ actions: ['secretsmanager:GetRandomPassword'], resources: ['*'] }),
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
      }),
    ]);
    acknowledgeFinding(policy, 'AwsSolutions-IAM5[Resource::*]',
      'secretsmanager:GetRandomPassword acts on no resource (it returns a random string); the other actions name the token secret and its key.');
    const version = new CustomResource(this, 'TokenVersion', {
      serviceToken: fn.functionArn,
      resourceType: 'Custom::DjangoCacheAuthTokenVersion',
      properties: { SecretArn: this.authSecret.secretArn, Generation: generation },
    });
    version.node.addDependency(policy);
    return version.getAttString('VersionId');
  }

  /** A handler of the token source, outside the VPC (it calls only AWS APIs), with `statements` as its rights. */
  private tokenFunction(name: string, handler: string, what: string, statements: iam.PolicyStatement[]): InlineFunction {
    return inlineFunction(this, name, {
      functionId: `${name}Function`,
      source: TOKEN_SOURCE,
      language: 'python',
      handler,
      description: `cdk-django: ${what} (${this.node.path})`,
      roleDescription: `cdk-django: ${what}`,
      timeout: Duration.minutes(1),
      memorySize: 128,
      statements,
      concurrency: 'CloudFormation invokes it once per token generation.',
      deadLetter: 'A failure is reported to CloudFormation (the deployment fails); there is nothing to dead-letter.',
      outsideVpc: 'It calls only AWS APIs (Secrets Manager, ElastiCache) and the CloudFormation response URL, and reaches nothing in the VPC.',
    });
  }

  /**
   * A retained log group under `/aws/vendedlogs/`, where log delivery needs no entry of its own in the
   * account's CloudWatch Logs resource policy (5,120 characters for all of them), named per create so
   * the next create after `cdk destroy` does not collide with the retained group.
   */
  private createLogGroup(id: string, logType: string, retention: logs.RetentionDays | undefined): logs.LogGroup {
    return new logs.LogGroup(this, id, {
      logGroupName: `/aws/vendedlogs/elasticache/${perCreateName(this, { maxLength: 200, allowed: '-_' })}/${logType}`,
      retention: retention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: this.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

function logDelivery(logType: string, group: logs.ILogGroup): elasticache.CfnReplicationGroup.LogDeliveryConfigurationRequestProperty {
  return {
    logType,
    logFormat: 'json',
    destinationType: 'cloudwatch-logs',
    destinationDetails: { cloudWatchLogsDetails: { logGroup: group.logGroupName } },
  };
}
