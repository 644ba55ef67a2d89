import { CfnResource, CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, DependencyGroup, IConstruct, IDependable } from 'constructs';
import { createBackupPlan, selectForBackup } from './backup';
import { createAppCredentials, MASTER_USERNAME, scheduleRotation } from './credentials';
import { ExistingDjangoDatabase, ExistingDjangoDatabaseAttributes } from './existing';
import { DatabaseEngineKind, DEFAULT_ENGINE_VERSION, DEFAULT_PORT, DjangoDatabaseProps, PROXY_PORT } from './options';
import { createRdsProxy, pinIndirectPorts } from './rds-proxy';
import { djangoSettings, IDjangoDatabase } from './settings';
import { databaseProblems } from './validation';
import { admitOnDefaultPort } from '../../access';
import { warnUser } from '../../annotations';
import { acknowledgeInPacks } from '../../compliance';
import { protectAfterCreate } from '../../deletion-protection';
import { throwIfProblems } from '../../errors';
import { allowLogsToUseKey } from '../../logs-key';
import { acknowledgeFinding } from '../../nag';
import { stackUuidBlock, uniqueName } from '../../names';

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
  /** Every instance (Aurora writer and readers, or the RDS instance) and, with `rdsProxy`, the proxy's target group. */
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
  /** The RDS Proxy, when `rdsProxy` is on. */
  public readonly rdsProxy?: rds.DatabaseProxy;
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
  private readonly rdsProxyRequireIam: boolean;

  constructor(scope: Construct, id: string, props: DjangoDatabaseProps) {
    super(scope, id);
    throwIfProblems(this, databaseProblems(props));

    this.engineKind = props.engine ?? DatabaseEngineKind.AURORA_SERVERLESS_V2;
    const aurora = this.engineKind === DatabaseEngineKind.AURORA_SERVERLESS_V2;
    const version = props.engineVersion ?? DEFAULT_ENGINE_VERSION;
    const majorVersion = version.split('.')[0];
    const databaseName = props.databaseName ?? 'django';
    this.databasePort = props.port ?? DEFAULT_PORT;
    this.iamAuthentication = props.iamAuthentication ?? true;
    this.rdsProxyRequireIam = props.rdsProxyRequireIam ?? false;
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
    const backupPlan = props.backupPlan ?? createBackupPlan(this, this.encryptionKey);

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
        serverlessV2MinCapacity: props.serverlessV2MinCapacity ?? 0.5,
        serverlessV2MaxCapacity: props.serverlessV2MaxCapacity ?? 4,
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

    const credentials = createAppCredentials(this, {
      vpc: props.vpc,
      dbSubnets: vpcSubnets,
      dbSecurityGroup,
      databasePort: this.databasePort,
      databaseName,
      dbHost,
      identifier,
      encryptionKey: this.encryptionKey,
      masterSecret: this.masterSecret,
      target,
      rotation: props.rotation ?? true,
      redeployServices: this.redeployServices,
    }, helperRemovalPolicy);
    this.secret = credentials.secret;
    this.appUser = credentials.appUser;
    this.setupFunction = credentials.setup;
    this.rotationFunction = credentials.rotate;
    this.redeployPolicy = credentials.redeployPolicy;

    selectForBackup(this, backupPlan, target);
    scheduleRotation(this, credentials, this.masterSecret, props.rotationInterval);

    if (props.rdsProxy) {
      const { proxy, securityGroup: proxySecurityGroup } = createRdsProxy(this, {
        vpc: props.vpc,
        vpcSubnets,
        target,
        secret: this.secret,
        encryptionKey: this.encryptionKey,
        databasePort: this.databasePort,
        identifierBase,
        requireIam: this.rdsProxyRequireIam,
      });
      this.rdsProxy = proxy;
      this.connections = new ec2.Connections({ securityGroups: [proxySecurityGroup], defaultPort: ec2.Port.tcp(PROXY_PORT) });
      this.host = this.rdsProxy.endpoint;
      this.port = PROXY_PORT;
    } else {
      this.connections = new ec2.Connections({ securityGroups: [dbSecurityGroup], defaultPort: ec2.Port.tcp(this.databasePort) });
      this.host = dbHost;
      this.port = this.databasePort;
    }

    pinIndirectPorts(dbSecurityGroup, this.databasePort);
    this.ready = readiness(target, this.rdsProxy);

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
   * Grants `grantee` `rds-db:connect` as `dbUser`: on the proxy when `rdsProxyRequireIam`, else on the database
   * (needs `iamAuthentication`). The database user must exist and hold the `rds_iam` role.
   */
  public grantConnect(grantee: iam.IGrantable, dbUser: string): iam.Grant {
    if (this.rdsProxy) {
      throwIfProblems(this, this.rdsProxyRequireIam ? [] : [{
        prop: 'rdsProxyRequireIam',
        message: 'grantConnect through the RDS Proxy needs IAM authentication at the proxy; set rdsProxyRequireIam: true',
      }]);
      return this.rdsProxy.grantConnect(grantee, dbUser);
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
    const statementAdded = allowLogsToUseKey(this.encryptionKey, `${prefix}/*`);
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

  private createMonitoringRole(): iam.Role {
    const role = new iam.Role(this, 'MonitoringRole', {
      assumedBy: new iam.ServicePrincipal('monitoring.rds.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonRDSEnhancedMonitoringRole')],
    });
    acknowledgeFinding(role, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
      'The AWS-managed enhanced monitoring policy only lets RDS write OS metrics to the RDSOSMetrics log group; AWS keeps it in step with the service.');
    return role;
  }
}
