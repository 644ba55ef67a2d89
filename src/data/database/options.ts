import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';

/**
 * The default PostgreSQL version, available both as Aurora PostgreSQL and RDS for PostgreSQL in aws-cdk-lib 2.262.
 * Frozen: no release changes it within a major version of cdk-django (it is `DjangoDatabase.DEFAULT_ENGINE_VERSION`),
 * so a library upgrade never changes the `EngineVersion` of a database that relies on the default.
 */
export const DEFAULT_ENGINE_VERSION = '17.9';
/** Not 5432: the AwsSolutions-RDS11 rule asks for a non-default port (it only slows down scripted scans). */
export const DEFAULT_PORT = 5433;
/** RDS Proxy always listens on the engine's default port, whatever port the database uses. */
export const PROXY_PORT = 5432;

/**
 * Auto-pause (0 ACU) needs at least these Aurora PostgreSQL minor versions (by major version);
 * 17 supports it from its first Aurora release.
 */
export const AUTO_PAUSE_MIN_MINOR: { [major: number]: number } = { 13: 15, 14: 12, 15: 7, 16: 3 };

/** Which kind of PostgreSQL the construct creates. */
export enum DatabaseEngineKind {
  /** Aurora PostgreSQL with Serverless v2 instances (a writer, plus a reader in another AZ when multi-AZ). */
  AURORA_SERVERLESS_V2 = 'AURORA_SERVERLESS_V2',
  /** A single RDS for PostgreSQL instance (with a synchronous standby when multi-AZ). */
  RDS_INSTANCE = 'RDS_INSTANCE',
}

/** Props of `DjangoDatabase`. */
export interface DjangoDatabaseProps extends DjangoDatabaseOptions {
  /** The VPC to put the database in (the one the Django service runs in). */
  readonly vpc: ec2.IVpc;
}

/** Everything about a new DjangoDatabase but its VPC (also DjangoApp's `database` prop). */
export interface DjangoDatabaseOptions {
  /**
   * Subnets for the database (and the RDS Proxy).
   * @default - PRIVATE_ISOLATED subnets if the VPC has any, else PRIVATE_WITH_EGRESS
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Aurora Serverless v2 cluster or RDS instance.
   * @default DatabaseEngineKind.AURORA_SERVERLESS_V2
   */
  readonly engine?: DatabaseEngineKind;

  /**
   * PostgreSQL version, `major.minor` (e.g. '16.13'). Must exist for the chosen engine kind in the region.
   * The default is frozen (`DjangoDatabase.DEFAULT_ENGINE_VERSION`): no release of cdk-django changes it
   * within its major version, so upgrading the library never changes your database's `EngineVersion`.
   * Set it to choose when to upgrade; minor versions still move forward in maintenance windows
   * (automatic minor version upgrade), which leaves the template unchanged.
   * @default '17.9'
   */
  readonly engineVersion?: string;

  /**
   * Name of the database created for Django.
   * @default 'django'
   */
  readonly databaseName?: string;

  /**
   * Database port. The RDS Proxy, if any, always listens on 5432.
   * @default 5433
   */
  readonly port?: number;

  /**
   * Minimum Aurora capacity (ACUs), 0 to 256 in steps of 0.5. 0 lets the cluster pause when idle
   * (the first request after a pause waits for it to resume). Aurora only.
   * @default 0.5
   */
  readonly serverlessV2MinCapacity?: number;

  /**
   * Maximum Aurora capacity (ACUs), 1 to 256 in steps of 0.5. Aurora only.
   * @default 4
   */
  readonly serverlessV2MaxCapacity?: number;

  /**
   * Instance class of the RDS instance. RDS instance only. Burstable classes (t4g) are cheaper
   * but throttle to their baseline when CPU credits run out.
   * @default db.m6g.large
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * Initial storage of the RDS instance in GiB (gp3), 20 to 65536. RDS instance only.
   * @default 20
   */
  readonly allocatedStorage?: number;

  /**
   * Upper limit for storage autoscaling of the RDS instance in GiB. RDS instance only.
   * @default 100
   */
  readonly maxAllocatedStorage?: number;

  /**
   * Keep a standby in another AZ: an Aurora reader (sized with the writer, failover tier 0)
   * or an RDS Multi-AZ standby.
   * @default true
   */
  readonly multiAz?: boolean;

  /**
   * How long automated backups are kept, 1 to 35 days.
   * @default Duration.days(7)
   */
  readonly backupRetention?: Duration;

  /**
   * An AWS Backup plan to add the database to (the cluster for Aurora, the instance for RDS), on top
   * of RDS's automated backups (point-in-time recovery within `backupRetention`).
   * @default - a new plan: daily backups kept 35 days in a new vault encrypted with `encryptionKey`
   */
  readonly backupPlan?: backup.IBackupPlan;

  /**
   * Refuse deletion of the database through the API and CloudFormation, switched on once the stack's create
   * succeeded (never in the template: a failed first create must be able to roll back). Turn it off, and
   * deploy, before destroying the stack; a snapshot is taken then (`removalPolicy`).
   * @default true
   */
  readonly deletionProtection?: boolean;

  /**
   * What happens to the database when it leaves the stack. DESTROY needs `deletionProtection: false`.
   * With DESTROY the key, secret and log groups are deleted too; otherwise they are retained.
   * @default RemovalPolicy.SNAPSHOT
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * KMS key for storage, the credentials secret, Performance Insights, the exported logs and the default backup vault.
   * The log groups are only encrypted with it if its key policy can be extended here (not for imported keys).
   * @default - a new customer-managed key with yearly automatic rotation
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Turn on IAM database authentication on the database. Password authentication keeps working;
   * a database user only accepts IAM tokens once granted the `rds_iam` role.
   * @default true
   */
  readonly iamAuthentication?: boolean;

  /**
   * Rotate the credentials on a schedule, with the library's own rotation function in the VPC (no
   * Serverless Application Repository, so every region): the app's credentials with alternating users
   * (the user running tasks hold keeps working until the rotation after next, and every service given
   * to `redeployOnRotation` is redeployed right after each rotation), the master's single-user (only
   * the rotation and setup functions use it, reading it anew each time).
   * @default true
   */
  readonly rotation?: boolean;

  /**
   * How often the passwords are rotated, 1 to 1000 days.
   * @default Duration.days(30)
   */
  readonly rotationInterval?: Duration;

  /**
   * Retention of the exported PostgreSQL logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Enhanced monitoring interval: 0 (off), 1, 5, 10, 15, 30 or 60 seconds.
   * @default Duration.seconds(60)
   */
  readonly monitoringInterval?: Duration;

  /**
   * Performance Insights (7 days retention, free tier), encrypted with the database key.
   * @default true
   */
  readonly performanceInsights?: boolean;

  /**
   * Put an RDS Proxy (TLS required) in front of the database; the settings then point at it.
   * @default false
   */
  readonly rdsProxy?: boolean;

  /**
   * Clients of the RDS Proxy must authenticate with IAM tokens instead of the secret's password
   * (the proxy still uses the secret towards the database). Needs `rdsProxy`.
   * @default false
   */
  readonly rdsProxyRequireIam?: boolean;

  /**
   * Django `CONN_MAX_AGE`: how long a connection is kept for reuse. Also with the proxy:
   * persistent client connections save a TLS handshake per request and the proxy multiplexes them anyway
   * (its idle client timeout, 30 minutes, is far longer). `Duration.seconds(0)` closes after each request.
   * @default Duration.seconds(60)
   */
  readonly connMaxAge?: Duration;
}
