import { Aws, CfnResource, CustomResource, Duration, Lazy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, DependencyGroup, IConstruct, IDependable } from 'constructs';
import { warnUser } from '../annotations';
import { acknowledgeInPacks, stackKey } from '../compliance';
import { vpcEndpointsOf } from '../endpoints';
import { Problem, throwIfProblems } from '../errors';
import { acknowledgeFinding } from '../nag';
import { admitOnDefaultPort } from './access';
import { protectAfterCreate } from '../deletion-protection';
import { perCreateName, stackUuidBlock, uniqueName } from '../names';
import { ROTATION_HANDLER_SOURCE } from './rotation-source';
import { secondsOf } from '../services/validation';

/**
 * The default PostgreSQL version, available both as Aurora PostgreSQL and RDS for PostgreSQL in aws-cdk-lib 2.262.
 * Frozen: no release changes it within a major version of cdk-django (it is `DjangoDatabase.DEFAULT_ENGINE_VERSION`),
 * so a library upgrade never changes the `EngineVersion` of a database that relies on the default.
 */
const DEFAULT_ENGINE_VERSION = '17.9';
/** Not 5432: the AwsSolutions-RDS11 rule asks for a non-default port (it only slows down scripted scans). */
const DEFAULT_PORT = 5433;
/** RDS Proxy always listens on the engine's default port, whatever port the database uses. */
const PROXY_PORT = 5432;
const MASTER_USERNAME = 'django';
/**
 * The app's own credentials: two login users that take turns (alternating-users rotation), both members of
 * a NOLOGIN role that owns the tables, so either one sees and migrates the same schema.
 */
const APP_OWNER_ROLE = 'django_app';
const APP_FIRST_USER = 'django_app_a';
/** Characters generated passwords leave out (the rotation function's list): what URLs, shells and the RDS secret format trip on. */
const PASSWORD_EXCLUDE = ' %+~\'"\\/@:;?#[]{}<>|,=&$';

/**
 * Auto-pause (0 ACU) needs at least these Aurora PostgreSQL minor versions (by major version);
 * 17 supports it from its first Aurora release.
 */
const AUTO_PAUSE_MIN_MINOR: { [major: number]: number } = { 13: 15, 14: 12, 15: 7, 16: 3 };

/** Which kind of PostgreSQL the construct creates. */
export enum DatabaseEngineKind {
  /** Aurora PostgreSQL with Serverless v2 instances (a writer, plus a reader in another AZ when multi-AZ). */
  AURORA_SERVERLESS_V2 = 'AURORA_SERVERLESS_V2',
  /** A single RDS for PostgreSQL instance (with a synchronous standby when multi-AZ). */
  RDS_INSTANCE = 'RDS_INSTANCE',
}

/**
 * What a Django service needs to reach its database: the settings to merge into the app container
 * and a way to open the network path.
 */
export interface IDjangoDatabase extends ec2.IConnectable {
  /**
   * Non-secret settings for the app container: `DATABASE_HOST`, `DATABASE_PORT`, `DATABASE_NAME`,
   * `DATABASE_SSLMODE` (`require`), `DJANGO_CONN_MAX_AGE` (seconds) and `DJANGO_CONN_HEALTH_CHECKS` (`true`).
   */
  readonly environment: { [name: string]: string };

  /** `DATABASE_USER` and `DATABASE_PASSWORD`, read by ECS from the `username`/`password` fields of the secret (the app's own user, not the master). */
  readonly secrets: { [name: string]: ecs.Secret };

  /** The Secrets Manager secret holding the app's credentials (RDS JSON format: username, password, host, port, dbname). */
  readonly secret: secretsmanager.ISecret;

  /** The host name the app connects to (the RDS Proxy endpoint when there is one). */
  readonly host: string;

  /** The port the app connects to. */
  readonly port: number;

  /**
   * What must be in place before anything connects: the writer and every other instance (Aurora), the
   * instance (RDS), and the RDS Proxy's target group with `proxy`. The database resources exist before
   * that, but `migrate` or a task started earlier cannot connect. Make your own services, tasks and custom
   * resources that use the database wait on it: `myResource.node.addDependency(database.ready)`.
   * DjangoApp's migrations do; its services wait on the migrations.
   */
  readonly ready: IDependable;

  /** Admits `peer` (typically a Django ECS service) on the database port. */
  allowFrom(peer: ec2.IConnectable): void;
}

/** An existing PostgreSQL database for `DjangoDatabase.fromExisting`. */
export interface ExistingDjangoDatabaseAttributes {
  /** Host name the app connects to (an instance, cluster writer or RDS Proxy endpoint). */
  readonly host: string;

  /** Port the app connects to. */
  readonly port: number;

  /** Secret with `username` and `password` JSON fields (the RDS format). */
  readonly secret: secretsmanager.ISecret;

  /** The security group that guards `host`; `allowFrom` adds ingress rules to it. */
  readonly securityGroup: ec2.ISecurityGroup;

  /**
   * Database name.
   * @default 'django'
   */
  readonly databaseName?: string;

  /**
   * Django `CONN_MAX_AGE`.
   * @default Duration.seconds(60)
   */
  readonly connMaxAge?: Duration;

  /**
   * What must be in place before the database accepts connections, when it is created in the same
   * deployment (e.g. its instances, in another construct of this stack); becomes `ready`.
   * @default - nothing to wait for: the database already accepts connections
   */
  readonly ready?: IDependable;
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
  readonly minCapacity?: number;

  /**
   * Maximum Aurora capacity (ACUs), 1 to 256 in steps of 0.5. Aurora only.
   * @default 4
   */
  readonly maxCapacity?: number;

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
  readonly proxy?: boolean;

  /**
   * Clients of the RDS Proxy must authenticate with IAM tokens instead of the secret's password
   * (the proxy still uses the secret towards the database). Needs `proxy`.
   * @default false
   */
  readonly proxyRequireIam?: boolean;

  /**
   * Django `CONN_MAX_AGE`: how long a connection is kept for reuse. Also with the proxy:
   * persistent client connections save a TLS handshake per request and the proxy multiplexes them anyway
   * (its idle client timeout, 30 minutes, is far longer). `Duration.seconds(0)` closes after each request.
   * @default Duration.seconds(60)
   */
  readonly connMaxAge?: Duration;
}

/** The container settings every flavour (new or existing) exposes. */
function djangoSettings(host: string, port: number, databaseName: string, connMaxAge: Duration, secret: secretsmanager.ISecret) {
  return {
    environment: {
      DATABASE_HOST: host,
      DATABASE_PORT: String(port),
      DATABASE_NAME: databaseName,
      DATABASE_SSLMODE: 'require',
      DJANGO_CONN_MAX_AGE: String(connMaxAge.toSeconds()),
      DJANGO_CONN_HEALTH_CHECKS: 'true',
    },
    secrets: {
      DATABASE_USER: ecs.Secret.fromSecretsManager(secret, 'username'),
      DATABASE_PASSWORD: ecs.Secret.fromSecretsManager(secret, 'password'),
    },
  };
}

/** Seconds of a duration as given, fractional or NaN included: validation must not call `toSeconds()`, which throws on those. */
const seconds = (d: Duration) => secondsOf(d, NaN);
const isWholeDays = (d: Duration) => seconds(d) % 86_400 === 0;
const days = (d: Duration) => seconds(d) / 86_400;
/** A duration for a message; `toHumanString()` is empty for NaN. */
const human = (d: Duration) => d.toHumanString() || `${seconds(d)} seconds`;

function commonProblems(p: { port?: number; databaseName?: string; connMaxAge?: Duration }): Problem[] {
  const problems: Problem[] = [];
  if (p.port !== undefined && !Token.isUnresolved(p.port) && (!Number.isInteger(p.port) || p.port < 1150 || p.port > 65535)) {
    problems.push({ prop: 'port', message: `${p.port} is not a port RDS accepts; use an integer from 1150 to 65535` });
  }
  if (p.databaseName !== undefined && !Token.isUnresolved(p.databaseName) && !/^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(p.databaseName)) {
    problems.push({ prop: 'databaseName', message: `'${p.databaseName}' is not a valid name; start with a letter, then letters, digits or _ (at most 63)` });
  }
  if (p.connMaxAge !== undefined && !Number.isInteger(seconds(p.connMaxAge))) {
    problems.push({ prop: 'connMaxAge', message: 'must be whole seconds (Django reads an integer); use Duration.seconds()' });
  }
  return problems;
}

function validate(props: DjangoDatabaseProps): Problem[] {
  const problems = databaseOptionsProblems(props);
  if (!props.vpcSubnets && props.vpc.isolatedSubnets.length === 0 && props.vpc.privateSubnets.length === 0) {
    problems.push({ prop: 'vpcSubnets', message: 'the VPC has no private subnets and a database must not sit in public ones; add private subnets or pass vpcSubnets' });
  }
  return problems;
}

/**
 * Everything wrong with the options of a new database that needs no VPC to tell: DjangoApp reports these
 * under `database.` before it builds anything.
 * @jsii ignore
 */
export function databaseOptionsProblems(props: DjangoDatabaseOptions): Problem[] {
  const problems = commonProblems(props);
  const kind = props.engine ?? DatabaseEngineKind.AURORA_SERVERLESS_V2;
  const aurora = kind === DatabaseEngineKind.AURORA_SERVERLESS_V2;
  const version = props.engineVersion ?? DEFAULT_ENGINE_VERSION;
  const m = /^(\d+)\.(\d+)$/.exec(version);
  if (!m) {
    problems.push({ prop: 'engineVersion', message: `'${version}' is not a PostgreSQL version; use 'major.minor', e.g. '${DEFAULT_ENGINE_VERSION}'` });
  } else if (Number(m[1]) < 13) {
    problems.push({ prop: 'engineVersion', message: `PostgreSQL ${version} is out of standard support; use 13 or later (default ${DEFAULT_ENGINE_VERSION})` });
  }

  // Sizing props of the other engine kind would be silently ignored: say so instead.
  const auroraOnly = { minCapacity: props.minCapacity, maxCapacity: props.maxCapacity };
  const instanceOnly = { instanceType: props.instanceType, allocatedStorage: props.allocatedStorage, maxAllocatedStorage: props.maxAllocatedStorage };
  for (const [prop, value] of Object.entries(aurora ? instanceOnly : auroraOnly)) {
    if (value !== undefined) {
      problems.push({
        prop,
        message: `applies only to engine ${aurora ? 'RDS_INSTANCE' : 'AURORA_SERVERLESS_V2'}; remove it or set engine accordingly`,
      });
    }
  }

  if (aurora) {
    const min = props.minCapacity ?? 0.5;
    const max = props.maxCapacity ?? 4;
    let capacitiesValid = true;
    for (const [prop, value, low] of [['minCapacity', min, 0], ['maxCapacity', max, 1]] as const) {
      if (value < low || value > 256 || !Number.isInteger(value * 2)) {
        problems.push({ prop, message: `${value} ACUs is not valid; use ${low} to 256 in steps of 0.5` });
        capacitiesValid = false;
      }
    }
    // Compared only when both are valid: an invalid one is already reported, and the comparison would
    // name a prop the caller may not have set (a default minCapacity 0.5 against maxCapacity 0).
    if (capacitiesValid && min > max) {
      const maxText = props.maxCapacity === undefined ? `the default maxCapacity ${max}` : `maxCapacity ${max}`;
      problems.push({ prop: 'minCapacity', message: `${min} is above ${maxText}; lower minCapacity or raise maxCapacity` });
    }
    if (min === 0) {
      if (props.proxy) {
        problems.push({ prop: 'minCapacity', message: '0 (auto-pause) with proxy: the proxy keeps connections open, so the cluster would never pause; use 0.5 or more, or drop the proxy' });
      }
      const need = m ? AUTO_PAUSE_MIN_MINOR[Number(m[1])] : undefined;
      if (m && need !== undefined && Number(m[2]) < need) {
        problems.push({ prop: 'minCapacity', message: `0 (auto-pause) needs Aurora PostgreSQL ${m[1]}.${need} or later; raise engineVersion or use 0.5` });
      }
    }
  } else {
    const allocated = props.allocatedStorage ?? 20;
    const maxAllocated = props.maxAllocatedStorage ?? Math.max(100, allocated);
    if (!Number.isInteger(allocated) || allocated < 20 || allocated > 65536) {
      problems.push({ prop: 'allocatedStorage', message: `${allocated} GiB is not valid for gp3; use an integer from 20 to 65536` });
    }
    if (!Number.isInteger(maxAllocated) || maxAllocated < allocated || maxAllocated > 65536) {
      problems.push({ prop: 'maxAllocatedStorage', message: `${maxAllocated} GiB must be an integer from allocatedStorage (${allocated}) to 65536` });
    }
  }

  const retention = props.backupRetention ?? Duration.days(7);
  if (!isWholeDays(retention) || days(retention) < 1 || days(retention) > 35) {
    problems.push({ prop: 'backupRetention', message: `${human(retention)} is not valid; use whole days from 1 to 35 (Duration.days(n))` });
  }

  if (props.removalPolicy === RemovalPolicy.DESTROY && props.deletionProtection !== false) {
    problems.push({ prop: 'removalPolicy', message: 'DESTROY cannot delete a database with deletion protection; also set deletionProtection: false, or use SNAPSHOT/RETAIN' });
  }

  if (props.rotation === false && props.rotationInterval !== undefined) {
    problems.push({ prop: 'rotationInterval', message: 'is set but rotation is false; remove rotationInterval or turn rotation on' });
  }
  if (props.rotationInterval !== undefined) {
    const r = props.rotationInterval;
    if (!isWholeDays(r) || days(r) < 1 || days(r) > 1000) {
      problems.push({ prop: 'rotationInterval', message: `${human(r)} is not valid; use whole days from 1 to 1000 (Duration.days(n))` });
    }
  }

  if (props.monitoringInterval !== undefined && ![0, 1, 5, 10, 15, 30, 60].includes(seconds(props.monitoringInterval))) {
    problems.push({ prop: 'monitoringInterval', message: `${human(props.monitoringInterval)} is not valid; use 0 (off), 1, 5, 10, 15, 30 or 60 seconds` });
  }

  if (props.proxyRequireIam && !props.proxy) {
    problems.push({ prop: 'proxyRequireIam', message: 'needs an RDS Proxy; set proxy: true or remove proxyRequireIam' });
  }
  return problems;
}


/**
 * The L2s open the rotation function and the proxy to the database on the port *attribute* of the
 * database (a GetAtt token). The port is known here: write it, so the rules read as what they are and
 * rule checkers (NIST/HIPAA EC2RestrictedCommonPorts) can evaluate them.
 */
function pinIndirectPorts(securityGroup: ec2.SecurityGroup, port: number): void {
  for (const child of securityGroup.node.children) {
    if ((child instanceof ec2.CfnSecurityGroupIngress || child instanceof ec2.CfnSecurityGroupEgress) && Token.isUnresolved(child.fromPort)) {
      child.fromPort = port;
      child.toPort = port;
    }
  }
}

/**
 * The resources a client needs before it can connect. Not the L2 constructs themselves: those also hold the
 * rotation (whose schedule may wait on the app's network), and depending on them would wait for it too.
 * Aurora: every instance, not only the writer. The writer is what `migrate` and the app connect to; the
 * readers follow it (aws-cdk-lib creates each after the writer) and are what the reader endpoint and a
 * failover need, and the proxy's target group waits for all of them anyway. Waiting costs time only on the
 * first create: an update does not re-create instances.
 */
function readiness(target: rds.DatabaseCluster | rds.DatabaseInstance, proxy: rds.DatabaseProxy | undefined): IDependable {
  const ready = new DependencyGroup();
  const cfnOf = (c: IConstruct) => (CfnResource.isCfnResource(c) ? c : c.node.defaultChild);
  ready.add(target.node.defaultChild!);
  for (const child of target.node.children) {
    const cfn = cfnOf(child);
    if (cfn instanceof rds.CfnDBInstance) ready.add(cfn);
  }
  if (proxy) {
    ready.add(proxy.node.defaultChild!);
    ready.add(proxy.node.findChild('ProxyTargetGroup'));
  }
  return ready;
}

/**
 * An RDS identifier (letters, digits, single hyphens, starting with a letter, at most 63 characters):
 * the construct path, unique per stack, plus the stack's UUID block, new on every create. The
 * PostgreSQL log groups RDS writes to are named after it and outlive `cdk destroy`: the next create
 * of the same stack gets a new identifier, so its log groups never collide with the retained ones.
 */
function physicalIdentifier(scope: Construct): { identifier: string; base: string } {
  const base = uniqueName(scope, { maxLength: 50, allowed: '-', lowerCase: true });
  return { identifier: `${base}-${stackUuidBlock()}`, base };
}

/**
 * PostgreSQL for a Django app on ECS Fargate: Aurora Serverless v2 (default) or an RDS instance,
 * encrypted with a rotating customer-managed key, backed up, deletion-protected, multi-AZ, on a
 * non-default port, with generated and rotated credentials, exported logs, Performance Insights,
 * enhanced monitoring, TLS enforced by the server, and optionally an RDS Proxy.
 *
 * Merge `environment` and `secrets` into the Django container and call `allowFrom(service)`.
 * Nobody is admitted until then (except the rotation function and the proxy).
 *
 * The database has an identifier of its own (construct path plus the stack's UUID block, see
 * `physicalIdentifier`): CloudFormation then refuses changes that would replace (and so empty) the
 * database instead of quietly doing it, and the log groups can be created, encrypted and retained
 * before RDS starts writing to them, under names no later create of the stack asks for again.
 */
export class DjangoDatabase extends Construct implements IDjangoDatabase {
  /**
   * The PostgreSQL version used when `engineVersion` is not given: '17.9', frozen for every release
   * within this major version of cdk-django (a new default comes only with a new major version).
   */
  public static readonly DEFAULT_ENGINE_VERSION: string = DEFAULT_ENGINE_VERSION;

  /**
   * Settings surface for a database created elsewhere (another stack, or outside CDK).
   */
  public static fromExisting(scope: Construct, id: string, attrs: ExistingDjangoDatabaseAttributes): IDjangoDatabase {
    return new ExistingDjangoDatabase(scope, id, attrs);
  }

  public readonly environment: { [name: string]: string };
  public readonly secrets: { [name: string]: ecs.Secret };
  public readonly secret: secretsmanager.ISecret;
  public readonly host: string;
  public readonly port: number;
  /** The connections of what the app talks to: the proxy when there is one, else the database. */
  public readonly connections: ec2.Connections;
  /** Every instance (Aurora writer and readers, or the RDS instance) and, with `proxy`, the proxy's target group. */
  public readonly ready: IDependable;

  /** The engine kind created. */
  public readonly engineKind: DatabaseEngineKind;
  /** The port of the database itself (the proxy, if any, listens on 5432). */
  public readonly databasePort: number;
  /** The key encrypting storage, secret, Performance Insights and (if it could be granted) logs. */
  public readonly encryptionKey: kms.IKey;
  /** The security group of the database. */
  public readonly securityGroup: ec2.ISecurityGroup;
  /** The log groups RDS exports PostgreSQL logs to. */
  public readonly logGroups: logs.ILogGroup[];
  /** The Aurora cluster (engine AURORA_SERVERLESS_V2). */
  public readonly cluster?: rds.DatabaseCluster;
  /** The RDS instance (engine RDS_INSTANCE). */
  public readonly instance?: rds.DatabaseInstance;
  /** The RDS Proxy, when `proxy` is on. */
  public readonly proxy?: rds.DatabaseProxy;
  /** The master user's secret (attached to the database). Only the setup and rotation functions read it; the app never does. */
  public readonly masterSecret: secretsmanager.ISecret;
  /**
   * Creates the app's owner role and first login user on the first deploy (and checks them on every update).
   * Whatever connects as the app (migrations, services) must depend on it; DjangoApp does.
   */
  public readonly appUser: CustomResource;
  /** The function behind `appUser`. */
  public readonly setupFunction: lambda.IFunction;
  /** The rotation function of both secrets, when `rotation` is on. */
  public readonly rotationFunction?: lambda.IFunction;

  private readonly redeployServices: ecs.IBaseService[] = [];
  private readonly redeployPolicy?: iam.ManagedPolicy;

  private readonly iamAuthentication: boolean;
  private readonly proxyRequireIam: boolean;

  constructor(scope: Construct, id: string, props: DjangoDatabaseProps) {
    super(scope, id);
    throwIfProblems(this, validate(props));

    this.engineKind = props.engine ?? DatabaseEngineKind.AURORA_SERVERLESS_V2;
    const aurora = this.engineKind === DatabaseEngineKind.AURORA_SERVERLESS_V2;
    const version = props.engineVersion ?? DEFAULT_ENGINE_VERSION;
    const majorVersion = version.split('.')[0];
    const databaseName = props.databaseName ?? 'django';
    this.databasePort = props.port ?? DEFAULT_PORT;
    this.iamAuthentication = props.iamAuthentication ?? true;
    this.proxyRequireIam = props.proxyRequireIam ?? false;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.SNAPSHOT;
    // What is left behind with the database (its key, secret and logs) follows it, except on DESTROY.
    const helperRemovalPolicy = removalPolicy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const vpcSubnets = props.vpcSubnets ?? {
      subnetType: props.vpc.isolatedSubnets.length > 0 ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS,
    };
    const { identifier, base: identifierBase } = physicalIdentifier(this);

    this.encryptionKey = props.encryptionKey ?? new kms.Key(this, 'Key', {
      description: `Encrypts the Django PostgreSQL database ${identifierBase}, its secret, logs, Performance Insights and backup vault`,
      enableKeyRotation: true,
      removalPolicy: helperRemovalPolicy,
    });
    const backupPlan = props.backupPlan ?? this.createBackupPlan(this.encryptionKey);

    // No egress: RDS needs none, and the ingress side is opened only by allowFrom (and rotation/proxy).
    const dbSecurityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `PostgreSQL ${identifierBase}: admits only what allowFrom() names`,
      allowAllOutbound: false,
    });
    this.securityGroup = dbSecurityGroup;

    // Created here rather than by the L2 so its removal policy follows the database's.
    const masterSecret = new rds.DatabaseSecret(this, 'Secret', {
      username: MASTER_USERNAME,
      dbname: databaseName,
      encryptionKey: this.encryptionKey,
    });
    masterSecret.applyRemovalPolicy(helperRemovalPolicy);

    const logTypes = aurora ? ['postgresql'] : ['postgresql', 'upgrade'];
    this.logGroups = this.createLogGroups(aurora ? 'cluster' : 'instance', identifier, logTypes, props.logRetention, helperRemovalPolicy);

    const monitoringInterval = props.monitoringInterval ?? Duration.seconds(60);
    const monitoringRole = monitoringInterval.toSeconds() > 0 ? this.createMonitoringRole() : undefined;
    const performanceInsights = props.performanceInsights ?? true;
    // RDS for PostgreSQL 15+ already defaults to 1, Aurora does not: set it so every shape refuses plain-text clients.
    const parameters = { 'rds.force_ssl': '1' };
    const common = {
      vpc: props.vpc,
      vpcSubnets,
      securityGroups: [dbSecurityGroup],
      port: this.databasePort,
      credentials: rds.Credentials.fromSecret(masterSecret),
      // Left out of the template, set by protectAfterCreate below.
      deletionProtection: false,
      removalPolicy,
      iamAuthentication: this.iamAuthentication,
      cloudwatchLogsExports: logTypes,
      monitoringInterval: monitoringRole ? monitoringInterval : undefined,
      monitoringRole,
      parameters,
      copyTagsToSnapshot: true,
    };

    let target: rds.DatabaseCluster | rds.DatabaseInstance;
    let dbHost: string;
    if (aurora) {
      const instanceOptions = {
        autoMinorVersionUpgrade: true,
        publiclyAccessible: false,
        // the same as the cluster's, stated per instance so CDK does not warn about a mismatch
        enablePerformanceInsights: performanceInsights,
        performanceInsightEncryptionKey: performanceInsights ? this.encryptionKey : undefined,
      };
      this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
        ...common,
        engine: rds.DatabaseClusterEngine.auroraPostgres({
          version: rds.AuroraPostgresEngineVersion.of(version, majorVersion),
        }),
        clusterIdentifier: identifier,
        defaultDatabaseName: databaseName,
        storageEncryptionKey: this.encryptionKey,
        backup: { retention: props.backupRetention ?? Duration.days(7) },
        serverlessV2MinCapacity: props.minCapacity ?? 0.5,
        serverlessV2MaxCapacity: props.maxCapacity ?? 4,
        enablePerformanceInsights: performanceInsights,
        performanceInsightEncryptionKey: performanceInsights ? this.encryptionKey : undefined,
        autoMinorVersionUpgrade: true,
        writer: rds.ClusterInstance.serverlessV2('Writer', instanceOptions),
        // Tier 0-1 and scaled with the writer, so a failover lands on an instance already as big as the writer was.
        readers: (props.multiAz ?? true) ? [rds.ClusterInstance.serverlessV2('Reader', { ...instanceOptions, scaleWithWriter: true })] : [],
      });
      target = this.cluster;
      dbHost = this.cluster.clusterEndpoint.hostname;
      for (const member of ['Writer', 'Reader']) {
        const child = this.cluster.node.tryFindChild(member);
        if (child) {
          acknowledgeFinding(child, 'CloudFormation-Validate::W9008',
            'Aurora encrypts storage per cluster (StorageEncrypted and KmsKeyId are set on the DBCluster); member instances take no such property.');
        }
      }
      // cdk-nag's RDSInBackupPlan looks for each DB instance in a backup selection, but AWS Backup
      // protects Aurora per cluster (instances cannot be selected), and the cluster is selected below.
      for (const child of this.cluster.node.children) {
        if (child.node.defaultChild instanceof rds.CfnDBInstance || child instanceof rds.CfnDBInstance) {
          acknowledgeInPacks(child, 'RDSInBackupPlan',
            'AWS Backup protects Aurora at the cluster level; this cluster is in the backup plan, its instances cannot be selected individually.');
        }
      }
    } else {
      this.instance = new rds.DatabaseInstance(this, 'Instance', {
        ...common,
        engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.of(version, majorVersion) }),
        instanceIdentifier: identifier,
        databaseName,
        instanceType: props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.M6G, ec2.InstanceSize.LARGE),
        storageType: rds.StorageType.GP3,
        allocatedStorage: props.allocatedStorage ?? 20,
        maxAllocatedStorage: props.maxAllocatedStorage ?? Math.max(100, props.allocatedStorage ?? 20),
        storageEncryptionKey: this.encryptionKey,
        multiAz: props.multiAz ?? true,
        backupRetention: props.backupRetention ?? Duration.days(7),
        enablePerformanceInsights: performanceInsights,
        performanceInsightEncryptionKey: performanceInsights ? this.encryptionKey : undefined,
        autoMinorVersionUpgrade: true,
        publiclyAccessible: false,
      });
      target = this.instance;
      dbHost = this.instance.dbInstanceEndpointAddress;
    }
    const protection = props.deletionProtection ?? true;
    const cfnTarget = target.node.defaultChild as rds.CfnDBCluster | rds.CfnDBInstance;
    cfnTarget.addPropertyDeletionOverride('DeletionProtection');
    if (this.cluster) {
      protectAfterCreate(this.cluster, 'DBCluster', this.cluster.clusterIdentifier, this.cluster.clusterArn, protection,
        this.cluster.node.children.filter((c) => c.node.defaultChild instanceof rds.CfnDBInstance));
    } else {
      protectAfterCreate(this.instance!, 'DBInstance', this.instance!.instanceIdentifier, this.instance!.instanceArn, protection);
    }
    if (protection) {
      const reason = 'Deletion protection is switched on by Custom::DjangoDeletionProtection once the database exists, not in the template, so that the rollback of a failed first create can delete it.';
      acknowledgeFinding(cfnTarget, 'AwsSolutions-RDS10', reason);
      acknowledgeInPacks(cfnTarget, 'RDSInstanceDeletionProtectionEnabled', reason);
    }
    // RDS creates the log groups itself as soon as it exports; ours must exist first.
    this.logGroups.forEach((g) => target.node.addDependency(g));
    this.masterSecret = target.secret!; // the attached secret: host, port and engine filled in by RDS

    // The app's own user, not the master: tasks hold this secret's AWSCURRENT from their start, and
    // alternating-users rotation keeps that user's password valid for a whole interval after it is
    // superseded, while the redeploy replaces every task holding it. Weighed and not taken:
    // single-user rotation (every new connection fails from setSecret until a redeploy); a redeploy
    // on rotation alone (the same gap, only shorter); RDS-managed master passwords (single-user, for
    // the master only); IAM authentication (a token per connection needs code in the user's Django
    // project, and boto3 in its image).
    const appSecret = new secretsmanager.Secret(this, 'AppSecret', {
      description: `The Django app's own PostgreSQL user of ${identifier} (alternating users; rotation replaces the one not in use)`,
      encryptionKey: this.encryptionKey,
      generateSecretString: {
        secretStringTemplate: Stack.of(this).toJsonString({
          engine: 'postgres',
          host: dbHost,
          port: this.databasePort,
          dbname: databaseName,
          username: APP_FIRST_USER,
          role: APP_OWNER_ROLE,
          masterarn: this.masterSecret.secretArn,
        }),
        generateStringKey: 'password',
        passwordLength: 32,
        excludeCharacters: PASSWORD_EXCLUDE,
      },
    });
    appSecret.applyRemovalPolicy(helperRemovalPolicy);
    this.secret = appSecret;

    const rotation = props.rotation ?? true;
    const handlers = this.createCredentialHandlers(props.vpc, vpcSubnets, dbSecurityGroup, rotation);
    this.setupFunction = handlers.setup;
    this.rotationFunction = handlers.rotate;
    this.redeployPolicy = handlers.redeployPolicy;
    this.appUser = new CustomResource(this, 'AppUser', {
      serviceToken: handlers.setup.functionArn,
      resourceType: 'Custom::DjangoDatabaseAppUser',
      properties: { AppSecretArn: appSecret.secretArn, MasterSecretArn: this.masterSecret.secretArn },
    });
    // Users can only be created once the database (every instance: the writer) accepts connections,
    // its master secret is attached, and the function may reach it.
    this.appUser.node.addDependency(target, this.masterSecret, handlers.securityGroup, dbSecurityGroup);

    new backup.BackupSelection(this, 'BackupSelection', {
      backupPlan,
      resources: [this.cluster
        ? backup.BackupResource.fromRdsDatabaseCluster(this.cluster)
        : backup.BackupResource.fromRdsDatabaseInstance(this.instance!)],
    });
    const role = this.node.findChild('BackupSelection').node.tryFindChild('Role');
    if (role) {
      acknowledgeFinding(role, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
        'AWS Backup runs the selection with the service\'s own managed backup policy; the selection limits it to this database.');
    }

    if (handlers.rotate) {
      const intervalDays = (props.rotationInterval ?? Duration.days(30)).toDays();
      for (const [scheduleId, secret] of [['AppRotation', appSecret], ['MasterRotation', this.masterSecret]] as const) {
        const schedule = new secretsmanager.CfnRotationSchedule(this, scheduleId, {
          secretId: secret.secretArn,
          rotationLambdaArn: handlers.rotate.functionArn,
          rotationRules: { scheduleExpression: `rate(${intervalDays} days)` },
          // The passwords are fresh; the first rotation comes one interval after create.
          rotateImmediatelyOnUpdate: false,
        });
        // A rotation needs its users in place, and may only run once it may invoke the function.
        schedule.node.addDependency(this.appUser, handlers.permission!);
      }
    }

    if (props.proxy) {
      // Own security group without egress; binding the proxy to its target opens proxy -> database on the database port.
      const proxySecurityGroup = new ec2.SecurityGroup(this, 'ProxySecurityGroup', {
        vpc: props.vpc,
        description: `RDS Proxy of PostgreSQL ${identifierBase}: admits only what allowFrom() names`,
        allowAllOutbound: false,
      });
      this.proxy = new rds.DatabaseProxy(this, 'Proxy', {
        // Proxy names are unique per account and region (at most 60 characters); the L2 would name it 'Proxy'.
        dbProxyName: `${uniqueName(this, { maxLength: 54, allowed: '-' })}-proxy`,
        proxyTarget: this.cluster ? rds.ProxyTarget.fromCluster(this.cluster) : rds.ProxyTarget.fromInstance(this.instance!),
        // The same secret, seen without its key: otherwise the L2 also grants the role on the key
        // policy, a dependency cycle (key -> role -> policy -> secret -> key). createProxyRole covers the key.
        secrets: [secretsmanager.Secret.fromSecretCompleteArn(this, 'ProxySecret', this.secret.secretArn)],
        vpc: props.vpc,
        vpcSubnets,
        securityGroups: [proxySecurityGroup],
        role: this.createProxyRole(),
        requireTLS: true,
        iamAuth: this.proxyRequireIam,
      });
      pinIndirectPorts(proxySecurityGroup, this.databasePort);
      this.connections = new ec2.Connections({ securityGroups: [proxySecurityGroup], defaultPort: ec2.Port.tcp(PROXY_PORT) });
      this.host = this.proxy.endpoint;
      this.port = PROXY_PORT;
    } else {
      this.connections = new ec2.Connections({ securityGroups: [dbSecurityGroup], defaultPort: ec2.Port.tcp(this.databasePort) });
      this.host = dbHost;
      this.port = this.databasePort;
    }

    pinIndirectPorts(dbSecurityGroup, this.databasePort);
    this.ready = readiness(target, this.proxy);

    const settings = djangoSettings(this.host, this.port, databaseName, props.connMaxAge ?? Duration.seconds(60), this.secret);
    this.environment = settings.environment;
    this.secrets = settings.secrets;
  }

  /**
   * Redeploys `services` (a new deployment, the same task definition) right after each rotation of the
   * app's credentials, so no task keeps the previous user until the rotation after next changes its
   * password. Give every service that holds `secrets`; DjangoApp gives its own. Does nothing without rotation.
   */
  public redeployOnRotation(...services: ecs.IBaseService[]): void {
    if (!this.redeployPolicy) return;
    this.redeployServices.push(...services);
    this.redeployPolicy.addStatements(new iam.PolicyStatement({
      actions: ['ecs:UpdateService'],
      resources: services.map((s) => s.serviceArn),
    }));
  }

  /** Admits `peer` on the port the app connects to (the proxy's, when there is one). */
  public allowFrom(peer: ec2.IConnectable): void {
    admitOnDefaultPort(this.connections, peer, 'Django to PostgreSQL');
  }

  /**
   * Grants `grantee` `rds-db:connect` as `dbUser`: on the proxy when `proxyRequireIam`, else on the database
   * (needs `iamAuthentication`). The database user must exist and hold the `rds_iam` role.
   */
  public grantConnect(grantee: iam.IGrantable, dbUser: string): iam.Grant {
    if (this.proxy) {
      throwIfProblems(this, this.proxyRequireIam ? [] : [{
        prop: 'proxyRequireIam',
        message: 'grantConnect through the RDS Proxy needs IAM authentication at the proxy; set proxyRequireIam: true',
      }]);
      return this.proxy.grantConnect(grantee, dbUser);
    }
    throwIfProblems(this, this.iamAuthentication ? [] : [{
      prop: 'iamAuthentication',
      message: 'grantConnect needs IAM database authentication; leave iamAuthentication at its default (true)',
    }]);
    return this.cluster ? this.cluster.grantConnect(grantee, dbUser) : this.instance!.grantConnect(grantee, dbUser);
  }

  /**
   * The log groups RDS would otherwise create unencrypted and without retention
   * (the L2's `cloudwatchLogsRetention` does it with a custom-resource Lambda and no encryption).
   */
  private createLogGroups(kind: 'cluster' | 'instance', identifier: string, types: string[], retention: logs.RetentionDays | undefined,
    removalPolicy: RemovalPolicy): logs.ILogGroup[] {
    const prefix = `/aws/rds/${kind}/${identifier}`;
    const { statementAdded } = this.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      resources: ['*'], // in a key policy, '*' is this key
      conditions: {
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${prefix}/*` },
      },
    }), true);
    if (!statementAdded) {
      warnUser(this, 'database-logs-unencrypted',
        'The imported encryptionKey\'s policy cannot be extended here, so the PostgreSQL log groups use CloudWatch Logs\' default encryption.');
    }
    return types.map((type) => new logs.LogGroup(this, `Logs-${type}`, {
      logGroupName: `${prefix}/${type}`,
      retention: retention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: statementAdded ? this.encryptionKey : undefined,
      removalPolicy,
    }));
  }

  /**
   * Daily backups kept 35 days (`BackupPlanRule.daily()`), in a vault of its own, encrypted with the
   * database's key rather than AWS Backup's own. The vault is retained (it holds the recovery points)
   * and so named per create (`perCreateName`): the next create of the stack after `cdk destroy` makes a
   * new vault instead of failing on the old name.
   */
  private createBackupPlan(encryptionKey: kms.IKey): backup.BackupPlan {
    const vault = new backup.BackupVault(this, 'BackupVault', {
      backupVaultName: perCreateName(this, { maxLength: 50, allowed: '-_' }),
      encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Plan names are unique per account and region (daily35DayRetention would name it 'BackupPlan').
    const plan = new backup.BackupPlan(this, 'BackupPlan', { backupPlanName: uniqueName(this, { maxLength: 50, allowed: '-_' }), backupVault: vault });
    plan.addRule(backup.BackupPlanRule.daily());
    return plan;
  }

  /**
   * The proxy's role, with its permissions in a customer-managed policy: the L2 would put them in an
   * inline policy (NIST/HIPAA IAMNoInlinePolicy). The role handed to the proxy ignores the L2's grants.
   */
  private createProxyRole(): iam.IRole {
    const policy = new iam.ManagedPolicy(this, 'ProxyPolicy', {
      description: 'Lets the RDS Proxy read the database credentials',
      statements: [
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          resources: [this.secret.secretArn],
        }),
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [this.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
        }),
      ],
    });
    const role = new iam.Role(this, 'ProxyRole', {
      assumedBy: new iam.ServicePrincipal('rds.amazonaws.com'),
      managedPolicies: [policy],
    });
    return role.withoutPolicyUpdates();
  }

  private createMonitoringRole(): iam.Role {
    const role = new iam.Role(this, 'MonitoringRole', {
      assumedBy: new iam.ServicePrincipal('monitoring.rds.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonRDSEnhancedMonitoringRole')],
    });
    acknowledgeFinding(role, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
      'The AWS-managed enhanced monitoring policy only lets RDS write OS metrics to the RDSOSMetrics log group; AWS keeps it in step with the service.');
    return role;
  }

  /**
   * The setup and rotation functions: the library's inline Python (no Serverless Application Repository,
   * no transform), in the VPC next to the database, each with its own role, so the rotation function's
   * redeploy rights (which name the services) are no input of the setup the services wait for.
   */
  private createCredentialHandlers(vpc: ec2.IVpc, dbSubnets: ec2.SubnetSelection, dbSecurityGroup: ec2.SecurityGroup, rotation: boolean) {
    // The functions call AWS APIs (Secrets Manager, ECS, and the custom resource response to S3): run
    // them where there is a route out, falling back to the database subnets (which then need endpoints).
    const withEgress = vpc.privateSubnets.length > 0;
    // A VPC this library created without NAT has endpoints: add what these functions call.
    const endpoints = withEgress ? undefined : vpcEndpointsOf(vpc);
    if (endpoints) {
      endpoints.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER);
      if (rotation) endpoints.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.ECS);
    } else if (!withEgress) {
      warnUser(this, 'database-rotation-endpoint',
        `The VPC has no subnets with egress: the database setup${rotation ? ' and rotation functions run in the database subnets and need' : ' function runs in the database subnets and needs'} a Secrets Manager interface endpoint${rotation ? ' and an ECS one (the redeploy after a rotation)' : ''} with private DNS, and an S3 gateway endpoint on their route tables (CloudFormation takes the setup's answer at a presigned S3 URL).`);
    }
    const subnets = withEgress ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : dbSubnets;
    const securityGroup = new ec2.SecurityGroup(this, 'CredentialsSecurityGroup', {
      vpc,
      description: 'cdk-django database setup and rotation functions: PostgreSQL and AWS APIs (HTTPS) out',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs (Secrets Manager, ECS, the CloudFormation response)');
    dbSecurityGroup.connections.allowFrom(securityGroup, ec2.Port.tcp(this.databasePort), 'Credentials setup and rotation to PostgreSQL');

    const secretArns = [this.masterSecret.secretArn, Lazy.string({ produce: () => this.secret.secretArn })];
    const kmsStatement = (actions: string[]) => new iam.PolicyStatement({
      actions,
      resources: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
    });
    /** A role with its rights in a customer-managed policy (no inline policy), and the log group its function writes. */
    const role = (id: string, description: string, statements: iam.PolicyStatement[], extra: iam.IManagedPolicy[] = []) => {
      const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention: logs.RetentionDays.ONE_YEAR, encryptionKey: stackKey(this) });
      const policy = new iam.ManagedPolicy(this, `${id}Policy`, {
        description,
        statements: [...statements, new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] })],
      });
      const r = new iam.Role(this, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description,
        managedPolicies: [policy, ...extra, iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole')],
      });
      acknowledgeFinding(r, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        'The AWS-managed policy that lets a function in a VPC create and delete its network interfaces; it grants nothing else.');
      return { role: r.withoutPolicyUpdates(), logGroup, policy };
    };
    const fn = (id: string, handler: string, r: { role: iam.IRole; logGroup: logs.ILogGroup }, environment?: { [k: string]: string }) => {
      const f = new lambda.Function(this, id, {
        code: lambda.Code.fromInline(ROTATION_HANDLER_SOURCE),
        handler: `index.${handler}`,
        runtime: lambda.Runtime.PYTHON_3_14,
        timeout: Duration.minutes(2),
        memorySize: 256,
        role: r.role,
        vpc,
        vpcSubnets: subnets,
        securityGroups: [securityGroup],
        logGroup: r.logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        environment,
        description: `cdk-django: ${handler === 'setup' ? 'creates the app user of' : 'rotates the credentials of'} ${this.node.path}`.slice(0, 256),
      });
      acknowledgeInPacks(f, 'LambdaConcurrency',
        handler === 'setup' ? 'CloudFormation invokes it once per deployment of the app user resource.' : 'Secrets Manager invokes it four times per rotation, one secret at a time.');
      acknowledgeInPacks(f, 'LambdaDLQ',
        handler === 'setup' ? 'A failure is reported to CloudFormation (the deployment fails); there is nothing to dead-letter.'
          : 'Secrets Manager invokes it synchronously, step by step, and marks a failed rotation (RotationFailed event); there is nothing to dead-letter.');
      return f;
    };

    const setupRole = role('SetupFunction', 'cdk-django: reads the database credentials to create the app user', [
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: secretArns }),
      kmsStatement(['kms:Decrypt']),
    ]);
    const setup = fn('SetupFunction', 'setup', setupRole);
    if (!rotation) return { setup, securityGroup };

    const redeployPolicy = new iam.ManagedPolicy(this, 'RedeployPolicy', {
      description: 'cdk-django: redeploys the services holding the app credentials after a rotation',
      // A placeholder until redeployOnRotation names services: a policy needs a statement.
      statements: [new iam.PolicyStatement({ actions: ['ecs:DescribeServices'], resources: [`arn:${Aws.PARTITION}:ecs:${Aws.REGION}:${Aws.ACCOUNT_ID}:service/none/none`] })],
    });
    const rotateRole = role('RotationFunction', 'cdk-django: rotates the database credentials', [
      new iam.PolicyStatement({
        actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        resources: secretArns,
      }),
      new iam.PolicyStatement({ actions: ['secretsmanager:GetRandomPassword'], resources: ['*'] }),
      kmsStatement(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']),
    ], [redeployPolicy]);
    acknowledgeFinding(rotateRole.policy, 'AwsSolutions-IAM5[Resource::*]',
      'secretsmanager:GetRandomPassword acts on no resource (it returns a random string); every other action names the two secrets.');
    const rotate = fn('RotationFunction', 'rotate', rotateRole, {
      REDEPLOY_SERVICES: Lazy.string({
        produce: () => Stack.of(this).toJsonString(this.redeployServices.map((s) => [s.cluster.clusterArn, s.serviceArn])),
      }),
    });
    const permission = new lambda.CfnPermission(this, 'RotationInvoke', {
      action: 'lambda:InvokeFunction',
      functionName: rotate.functionArn,
      principal: 'secretsmanager.amazonaws.com',
      sourceAccount: Aws.ACCOUNT_ID,
    });
    return { setup, rotate, redeployPolicy, permission, securityGroup };
  }
}

/** The settings surface over a database this app does not manage. */
class ExistingDjangoDatabase extends Construct implements IDjangoDatabase {
  public readonly environment: { [name: string]: string };
  public readonly secrets: { [name: string]: ecs.Secret };
  public readonly secret: secretsmanager.ISecret;
  public readonly host: string;
  public readonly port: number;
  public readonly connections: ec2.Connections;
  public readonly ready: IDependable;

  constructor(scope: Construct, id: string, attrs: ExistingDjangoDatabaseAttributes) {
    super(scope, id);
    throwIfProblems(this, commonProblems(attrs));
    this.ready = attrs.ready ?? new DependencyGroup();
    this.host = attrs.host;
    this.port = attrs.port;
    this.secret = attrs.secret;
    this.connections = new ec2.Connections({ securityGroups: [attrs.securityGroup], defaultPort: ec2.Port.tcp(attrs.port) });
    const settings = djangoSettings(attrs.host, attrs.port, attrs.databaseName ?? 'django', attrs.connMaxAge ?? Duration.seconds(60), attrs.secret);
    this.environment = settings.environment;
    this.secrets = settings.secrets;
  }

  public allowFrom(peer: ec2.IConnectable): void {
    admitOnDefaultPort(this.connections, peer, 'Django to PostgreSQL');
  }
}
