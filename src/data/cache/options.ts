import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { CacheEngine } from './engine';

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
