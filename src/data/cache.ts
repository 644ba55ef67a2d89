import { Aws, CustomResource, Duration, RemovalPolicy, SecretValue, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { admitOnDefaultPort } from '../access';
import { ChannelLayerOptions } from '../channel-layer';
import { acknowledgeInPacks, stackKey } from '../compliance';
import { throwIfProblems } from '../errors';
import { acknowledgeFinding } from '../nag';
import { perCreateName } from '../names';
import { Problem } from '../problems';

/** The Redis-compatible engine and version of a DjangoCache. */
export class CacheEngine {
  /**
   * Valkey 8.0: the open-source fork of Redis OSS 7.2, wire-compatible with redis-py, django-redis and
   * channels_redis, and priced about 20% below Redis OSS on ElastiCache.
   */
  public static readonly VALKEY_8_0 = new CacheEngine('valkey', '8.0');
  /** Redis OSS 7.1, the last Redis OSS version on ElastiCache. */
  public static readonly REDIS_7_1 = new CacheEngine('redis', '7.1');

  /**
   * Any other engine version ElastiCache supports (see `aws elasticache describe-cache-engine-versions`).
   * @param engine 'valkey' or 'redis'
   * @param version e.g. '7.2'
   */
  public static of(engine: string, version: string): CacheEngine {
    return new CacheEngine(engine, version);
  }

  /** The ElastiCache engine name. */
  public readonly engine: string;
  /** The engine version. */
  public readonly version: string;

  private constructor(engine: string, version: string) {
    this.engine = engine;
    this.version = version;
  }
}

/** The settings surface of a Redis cache, new or existing, as the Django containers consume it. */
export interface IDjangoCache extends ec2.IConnectable {
  /** Non-secret settings for the app containers: `REDIS_URL` (`rediss://host:port/0`, no credentials). */
  readonly environment: { [name: string]: string };
  /** Secret settings for the app containers: `REDIS_PASSWORD` (the AUTH token), when the cache has one. */
  readonly secrets: { [name: string]: ecs.Secret };
  /** Host name of the primary endpoint. */
  readonly endpointAddress: string;
  /** The port clients connect to. */
  readonly port: number;
  /** Admits `peer` (e.g. an ECS service) to the cache port. */
  allowFrom(peer: ec2.IConnectable): void;
  /** The cache as this library's Channels layer (`DjangoDaphneService` `channelLayer`). */
  channelLayer(): ChannelLayerOptions;
}

/** Props of DjangoCache. */
export interface DjangoCacheProps extends DjangoCacheOptions {
  /** The VPC the cache lives in. */
  readonly vpc: ec2.IVpc;
}

/** Everything about a new DjangoCache but its VPC (also DjangoApp's `cache` prop). */
export interface DjangoCacheOptions {
  /**
   * Subnets of the cache nodes.
   * @default - the VPC's isolated subnets if it has any (the cache needs no internet), else its private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Engine and version.
   * @default CacheEngine.VALKEY_8_0
   */
  readonly engine?: CacheEngine;
  /**
   * Node type. The smallest Graviton burstable type: enough for Django's cache and the Channels layer of
   * a small site; move to cache.t4g.small (1.37 GiB) or an m7g/r7g type when memory or network runs short.
   * @default 'cache.t4g.micro'
   */
  readonly nodeType?: string;
  /**
   * Number of nodes: one primary plus `numNodes - 1` read replicas, 1 to 6.
   * @default 2
   */
  readonly numNodes?: number;
  /**
   * Spread the nodes over availability zones and fail over automatically to a replica
   * (needs `numNodes` of at least 2).
   * @default true
   */
  readonly multiAz?: boolean;
  /**
   * The port. Not the well-known 6379, so untargeted scans for open Redis miss it (AwsSolutions-AEC5).
   * @default 6380
   */
  readonly port?: number;
  /**
   * Days of automatic daily snapshots to keep, 0 (none) to 35. The default meets the 15 days
   * NIST 800-53 r5 and HIPAA (cdk-nag ElastiCacheRedisClusterAutomaticBackup) ask for; the snapshots of a
   * micro cache cost cents. Set 0 when the cache holds nothing worth restoring.
   * @default 15
   */
  readonly snapshotRetentionLimit?: number;
  /**
   * What happens to the replication group when it leaves the stack. SNAPSHOT takes a final snapshot
   * (named by CloudFormation; the L1 has no property to choose its name).
   * @default RemovalPolicy.SNAPSHOT
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Customer-managed key for data at rest, the AUTH token secret and the log groups. A statement letting
   * CloudWatch Logs use it is added to its policy; an imported key's policy must allow that already.
   * @default - a new key with yearly rotation
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Retention of the slow log and engine log groups.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The generation of the AUTH token, a positive integer: raise it to get a new token. The cache and every
   * task read one version of the secret, the one of this generation, so they change together in one deploy:
   * the cache first (CloudFormation changes the token with ElastiCache's ROTATE: the previous one keeps
   * working), then the tasks, then (with `retirePreviousTokenAfter`) SET drops the previous token.
   * @default 1
   */
  readonly authTokenGeneration?: number;
}

/** How to reach a Redis cache that already exists. */
export interface DjangoCacheAttributes {
  /** Host name of the primary endpoint. */
  readonly endpointAddress: string;
  /**
   * The port.
   * @default 6379
   */
  readonly port?: number;
  /**
   * Whether the cache requires TLS (`rediss://`). ElastiCache accepts an AUTH token only over TLS.
   * @default true
   */
  readonly tls?: boolean;
  /**
   * The secret holding the AUTH token as a plain string.
   * @default - no password
   */
  readonly authSecret?: secretsmanager.ISecret;
  /**
   * The cache's security group; `allowFrom` adds ingress rules to it.
   * @default - none: `allowFrom` does nothing and access must be opened where the cache is managed
   */
  readonly securityGroup?: ec2.ISecurityGroup;
}

/** `allowFrom` for new and existing caches. */
function admit(cache: IDjangoCache, peer: ec2.IConnectable): void {
  admitOnDefaultPort(cache.connections, peer, 'Django to Redis');
}

/** `channelLayer` for new and existing caches. */
function layerOf(cache: IDjangoCache): ChannelLayerOptions {
  return {
    redisUrl: cache.environment.REDIS_URL,
    password: cache.secrets.REDIS_PASSWORD,
    connections: cache,
    port: cache.port,
  };
}

class ExistingDjangoCache extends Construct implements IDjangoCache {
  public readonly connections: ec2.Connections;
  public readonly endpointAddress: string;
  public readonly port: number;
  public readonly environment: { [name: string]: string };
  public readonly secrets: { [name: string]: ecs.Secret };

  constructor(scope: Construct, id: string, attrs: DjangoCacheAttributes) {
    super(scope, id);
    const problems: Problem[] = [];
    const tls = attrs.tls ?? true;
    if (attrs.authSecret && !tls) {
      problems.push({ prop: 'tls', message: 'ElastiCache accepts an AUTH token only with in-transit encryption; set tls: true (the cache must have TLS on) or leave authSecret out' });
    }
    checkPort(problems, attrs.port);
    throwIfProblems(this, problems);

    this.endpointAddress = attrs.endpointAddress;
    this.port = attrs.port ?? 6379;
    this.connections = new ec2.Connections({
      securityGroups: attrs.securityGroup ? [attrs.securityGroup] : [],
      defaultPort: ec2.Port.tcp(this.port),
    });
    this.environment = { REDIS_URL: redisUrl(tls, this.endpointAddress, this.port) };
    this.secrets = attrs.authSecret ? { REDIS_PASSWORD: ecs.Secret.fromSecretsManager(attrs.authSecret) } : {};
  }

  public allowFrom(peer: ec2.IConnectable): void {
    admit(this, peer);
  }

  public channelLayer(): ChannelLayerOptions {
    return layerOf(this);
  }
}

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
  public readonly endpointAddress: string;
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
    this.allowLogsToUseKey();

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

    this.endpointAddress = this.replicationGroup.attrPrimaryEndPointAddress;
    this.environment = { REDIS_URL: redisUrl(true, this.endpointAddress, this.port) };
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
      const logGroup = new logs.LogGroup(this, 'RetireTokenLogs', { retention: logs.RetentionDays.ONE_YEAR, encryptionKey: stackKey(this) });
      const policy = new iam.ManagedPolicy(this, 'RetireTokenPolicy', {
        description: 'cdk-django: retires the previous AUTH token of the cache',
        statements: [
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
          new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
        ],
      });
      const fn = this.tokenFunction('RetireToken', 'retire', policy, logGroup, 'retires the previous AUTH token after a new one rolled out');
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
    const logGroup = new logs.LogGroup(this, 'TokenVersionLogs', { retention: logs.RetentionDays.ONE_YEAR, encryptionKey: stackKey(this) });
    const policy = new iam.ManagedPolicy(this, 'TokenVersionPolicy', {
      description: 'cdk-django: writes a new AUTH token version',
      statements: [
        new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], resources: [this.authSecret.secretArn] }),
        new iam.PolicyStatement({ actions: ['secretsmanager:GetRandomPassword'], resources: ['*'] }),
        new iam.PolicyStatement({
          actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [this.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
        }),
        new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
      ],
    });
    acknowledgeFinding(policy, 'AwsSolutions-IAM5[Resource::*]',
      'secretsmanager:GetRandomPassword acts on no resource (it returns a random string); the other actions name the token secret and its key.');
    const fn = this.tokenFunction('TokenVersion', 'version', policy, logGroup, 'writes the AUTH token of each generation');
    const version = new CustomResource(this, 'TokenVersion', {
      serviceToken: fn.functionArn,
      resourceType: 'Custom::DjangoCacheAuthTokenVersion',
      properties: { SecretArn: this.authSecret.secretArn, Generation: generation },
    });
    version.node.addDependency(policy);
    return version.getAttString('VersionId');
  }

  /** A handler of the token source, outside the VPC (it calls only AWS APIs), its rights in `policy`. */
  private tokenFunction(id: string, handler: string, policy: iam.ManagedPolicy, logGroup: logs.ILogGroup, what: string): lambda.Function {
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `cdk-django: ${what}`,
      managedPolicies: [policy],
    });
    const fn = new lambda.Function(this, `${id}Function`, {
      code: lambda.Code.fromInline(TOKEN_SOURCE),
      handler: `index.${handler}`,
      runtime: lambda.Runtime.PYTHON_3_14,
      timeout: Duration.minutes(1),
      memorySize: 128,
      role: role.withoutPolicyUpdates(),
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: `cdk-django: ${what} (${this.node.path})`.slice(0, 256),
    });
    acknowledgeInPacks(fn, 'LambdaConcurrency', 'CloudFormation invokes it once per token generation.');
    acknowledgeInPacks(fn, 'LambdaDLQ', 'A failure is reported to CloudFormation (the deployment fails); there is nothing to dead-letter.');
    acknowledgeInPacks(fn, 'LambdaInsideVPC', 'It calls only AWS APIs (Secrets Manager, ElastiCache) and the CloudFormation response URL, and reaches nothing in the VPC.');
    return fn;
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

  /**
   * CloudWatch Logs encrypts with the key itself, so the key policy must let the regional logs service
   * use it (a no-op on imported keys). The condition names any log group of this account and region: naming ours would make the key
   * depend on the log groups that depend on the key.
   */
  private allowLogsToUseKey(): void {
    this.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: {
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` },
      },
    }));
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

function redisUrl(tls: boolean, host: string, port: number): string {
  // Database 0 for both the cache and the Channels layer: their keys do not collide (':1:' and 'asgi'
  // prefixes), and one URL keeps REDIS_URL the same when a service gets both.
  return `${tls ? 'rediss' : 'redis'}://${host}:${port}/0`;
}

function checkPort(problems: Problem[], port: number | undefined): void {
  if (port !== undefined && !Token.isUnresolved(port) && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    problems.push({ prop: 'port', message: `${port} is not a TCP port; give an integer from 1 to 65535` });
  }
}

function cacheProblems(props: DjangoCacheProps, r: { multiAz: boolean; subnets: ec2.SelectedSubnets }): Problem[] {
  const problems = cacheOptionsProblems(props);
  const zones = r.subnets.availabilityZones;
  if (r.multiAz && !zones.some((z) => Token.isUnresolved(z)) && new Set(zones).size < 2) {
    problems.push({ prop: 'vpcSubnets', message: `multi-AZ needs subnets in at least 2 availability zones, the selection has ${new Set(zones).size}; select more subnets or set multiAz: false` });
  }
  return problems;
}

/**
 * Everything wrong with the options of a new cache that needs no VPC to tell: DjangoApp reports these
 * under `cache.` before it builds anything.
 * @jsii ignore
 */
export function cacheOptionsProblems(props: DjangoCacheOptions): Problem[] {
  const r = {
    nodeType: props.nodeType ?? 'cache.t4g.micro',
    numNodes: props.numNodes ?? 2,
    multiAz: props.multiAz ?? true,
    retention: props.snapshotRetentionLimit ?? 15,
  };
  const problems: Problem[] = [];
  checkPort(problems, props.port);
  if (!Token.isUnresolved(r.nodeType) && !r.nodeType.startsWith('cache.')) {
    problems.push({ prop: 'nodeType', message: `'${r.nodeType}' is not an ElastiCache node type; use a 'cache.' type such as 'cache.t4g.micro'` });
  }
  if (!Number.isInteger(r.numNodes) || r.numNodes < 1 || r.numNodes > 6) {
    problems.push({ prop: 'numNodes', message: `${r.numNodes} nodes: a replication group has 1 to 6 (one primary, up to 5 replicas)` });
  } else if (r.multiAz && r.numNodes < 2) {
    problems.push({ prop: 'numNodes', message: 'multi-AZ failover needs a replica to fail over to; give numNodes of 2 or more, or multiAz: false' });
  }
  if (props.authTokenGeneration !== undefined && (!Number.isInteger(props.authTokenGeneration) || props.authTokenGeneration < 1)) {
    problems.push({ prop: 'authTokenGeneration', message: `${props.authTokenGeneration} is not a generation; give a positive integer, one more than the last, to get a new token` });
  }
  if (!Number.isInteger(r.retention) || r.retention < 0 || r.retention > 35) {
    problems.push({ prop: 'snapshotRetentionLimit', message: `${r.retention} days: ElastiCache keeps 0 (no snapshots) to 35 days` });
  }
  return problems;
}

/**
 * The custom resource handlers of the AUTH token (inline Python, boto3 only).
 * `version`: Create and Update write a random token as the version whose id is derived from the stack,
 * the logical id and the generation (reused if it exists); Delete leaves the secret alone.
 * `retire`: an Update that changed the version sets the token with ElastiCache's SET strategy, dropping
 * the previous one (Create has no previous token; a rollback returns to a token that still works).
 */
const TOKEN_SOURCE = String.raw`import json, urllib.request, uuid

import boto3


def version(event, context):
    def run(props):
        sm = boto3.client('secretsmanager')
        arn = props['SecretArn']
        vid = str(uuid.uuid5(uuid.NAMESPACE_URL, '%s/%s/%s' % (event['StackId'], event['LogicalResourceId'], props['Generation'])))
        try:
            sm.get_secret_value(SecretId=arn, VersionId=vid)
        except sm.exceptions.ResourceNotFoundException:
            token = sm.get_random_password(PasswordLength=64, ExcludePunctuation=True, IncludeSpace=False)['RandomPassword']
            sm.put_secret_value(SecretId=arn, ClientRequestToken=vid, SecretString=token)
        return vid, {'VersionId': vid}
    respond(event, context, run)


def retire(event, context):
    def run(props):
        old = event.get('OldResourceProperties') or {}
        if event['RequestType'] == 'Update' and old.get('VersionId') not in (None, props['VersionId']):
            token = boto3.client('secretsmanager').get_secret_value(SecretId=props['SecretArn'], VersionId=props['VersionId'])['SecretString']
            boto3.client('elasticache').modify_replication_group(
                ReplicationGroupId=props['ReplicationGroupId'], AuthToken=token, AuthTokenUpdateStrategy='SET', ApplyImmediately=True)
        return 'retire-' + props['ReplicationGroupId'], {}
    respond(event, context, run)


def respond(event, context, run):
    status, reason, physical, data = 'SUCCESS', '', event.get('PhysicalResourceId', 'none'), {}
    try:
        if event['RequestType'] in ('Create', 'Update'):
            physical, data = run(event['ResourceProperties'])
    except Exception as e:  # reported to CloudFormation, which otherwise waits an hour
        status, reason = 'FAILED', ('%s: %s' % (type(e).__name__, e))[:1000]
    body = json.dumps({
        'Status': status, 'Reason': reason or 'see the function log', 'PhysicalResourceId': physical, 'Data': data,
        'StackId': event['StackId'], 'RequestId': event['RequestId'], 'LogicalResourceId': event['LogicalResourceId'],
    }).encode()
    urllib.request.urlopen(urllib.request.Request(event['ResponseURL'], data=body, method='PUT', headers={'Content-Type': ''}), timeout=30).read()
`;
