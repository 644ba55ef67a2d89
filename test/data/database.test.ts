import { CfnElement, Duration, Errors, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import { DatabaseEngineKind, DjangoDatabase, DjangoDatabaseProps, IDjangoDatabase } from '../../src/data/database';
import { createVpc } from '../../src/services/network';
import { formatFindings, nagFindings } from '../helpers/compliance';
import { IMAGE, newStack, only, text } from '../helpers/template';

/** The library's own VPC (public + PRIVATE_WITH_EGRESS subnets) and a database in it. */
function build(props: Partial<DjangoDatabaseProps> = {}) {
  const stack = newStack();
  const vpc = createVpc(stack);
  const db = new DjangoDatabase(stack, 'Db', { vpc, ...props });
  return { stack, vpc, db };
}

function logicalId(c: IConstruct): string {
  const el = (c.node.defaultChild ?? c) as CfnElement;
  return Stack.of(c).getLogicalId(el);
}

/** Every ingress rule of a security group: inline ones and standalone AWS::EC2::SecurityGroupIngress. */
function ingressOf(template: Template, sg: IConstruct): any[] {
  const id = logicalId(sg);
  const inline = template.toJSON().Resources[id].Properties.SecurityGroupIngress ?? [];
  const standalone = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))
    .map((r: any) => r.Properties)
    .filter((p: any) => JSON.stringify(p.GroupId) === JSON.stringify({ 'Fn::GetAtt': [id, 'GroupId'] }));
  return [...inline, ...standalone];
}

/** Builds props that must be refused; returns the error (asserting it is aws-cdk-lib's ValidationError). */
function refused(props: Partial<DjangoDatabaseProps>, vpcOf: (s: Stack) => ec2.IVpc = createVpc): Error {
  const stack = newStack();
  const vpc = vpcOf(stack);
  try {
    new DjangoDatabase(stack, 'Db', { vpc, ...props });
  } catch (e: any) {
    expect(Errors.isValidationError(e)).toBe(true);
    return e;
  }
  throw new Error(`expected a ValidationError for ${JSON.stringify(props)}`);
}

/** All acknowledgements recorded under a scope: path, rule id and reason. */
function acknowledgements(scope: IConstruct): Array<{ path: string; id: string; reason: string }> {
  const acks: Array<{ path: string; id: string; reason: string }> = [];
  const walk = (c: IConstruct) => {
    for (const m of c.node.metadata) {
      if (m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
        for (const [id, reason] of Object.entries<string>(m.data)) acks.push({ path: c.node.path, id: id.replace(/^Annotation::/i, ''), reason });
      }
    }
    c.node.children.forEach(walk);
  };
  walk(scope);
  return acks;
}

describe('Aurora Serverless v2 defaults', () => {
  const { stack, db } = build();
  const template = Template.fromStack(stack);
  const cluster = only(template, 'AWS::RDS::DBCluster');
  const keyId = logicalId(db.encryptionKey);
  // the VPC's flow log group is not ours
  const dbLogGroups = () => Object.entries(template.findResources('AWS::Logs::LogGroup')).filter(([id]) => id.startsWith('DbLogs')) as Array<[string, any]>;
  // the stack also holds CdkDjangoKey (for the VPC flow logs): the database's own key is found by its logical ID
  const dbKey = () => template.toJSON().Resources[keyId].Properties;

  test('storage, secret, Performance Insights and logs are encrypted with a new rotating customer-managed key', () => {
    // one key of the database's own (the default backup plan's vault uses the AWS Backup key)
    expect(Object.keys(template.findResources('AWS::KMS::Key')).filter((id) => id.startsWith('Db'))).toEqual([keyId]);
    expect(dbKey().EnableKeyRotation).toBe(true);
    const keyArn = { 'Fn::GetAtt': [keyId, 'Arn'] };
    expect(cluster.StorageEncrypted).toBe(true);
    expect(cluster.KmsKeyId).toEqual(keyArn);
    expect(cluster.PerformanceInsightsEnabled).toBe(true);
    expect(cluster.PerformanceInsightsKmsKeyId).toEqual(keyArn);
    // the master's secret and the app's
    expect(Object.values(template.findResources('AWS::SecretsManager::Secret')).map((r: any) => r.Properties.KmsKeyId)).toEqual([keyArn, keyArn]);
    expect(dbLogGroups().map(([, g]) => g.Properties.KmsKeyId)).toEqual([keyArn]);
  });

  test('deletion protection on once created (not in the template), snapshot on delete and on replacement; key, secret and logs retained', () => {
    // In the template, protection would turn the rollback of a failed first create into ROLLBACK_FAILED.
    expect(cluster.DeletionProtection).toBeUndefined();
    const [clusterId] = Object.keys(template.findResources('AWS::RDS::DBCluster'));
    const protection = Object.values<any>(template.findResources('Custom::DjangoDeletionProtection'));
    expect(protection.map((r) => r.Properties)).toEqual([expect.objectContaining({ Kind: 'DBCluster', Target: { Ref: clusterId }, Enabled: 'true' })]);
    // it waits for the cluster's instances: RDS refuses to modify a cluster while they are added
    const instanceIds = Object.keys(template.findResources('AWS::RDS::DBInstance'));
    expect(protection[0].DependsOn).toEqual(expect.arrayContaining(instanceIds));
    template.hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot' });
    for (const type of ['AWS::KMS::Key', 'AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup']) {
      template.hasResource(type, { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  test('the default engine version is frozen at exactly 17.9 (a library upgrade never changes EngineVersion)', () => {
    // Changing this value changes every user's database on their next deploy: only in a new major version.
    expect(DjangoDatabase.DEFAULT_ENGINE_VERSION).toBe('17.9');
    expect(cluster.EngineVersion).toBe(DjangoDatabase.DEFAULT_ENGINE_VERSION);
  });

  test('PostgreSQL 17.9 on port 5433 (not the default 5432), 7 days of backups, IAM auth on, TLS forced', () => {
    expect(cluster.Engine).toBe('aurora-postgresql');
    expect(cluster.EngineVersion).toBe('17.9');
    expect(cluster.Port).toBe(5433);
    expect(cluster.BackupRetentionPeriod).toBe(7);
    expect(cluster.EnableIAMDatabaseAuthentication).toBe(true);
    expect(cluster.DatabaseName).toBe('django');
    expect(only(template, 'AWS::RDS::DBClusterParameterGroup').Parameters).toEqual({ 'rds.force_ssl': '1' });
  });

  test('0.5 to 4 ACUs; a serverless writer and a reader that scales with it (tier 1), both monitored every 60 s', () => {
    expect(cluster.ServerlessV2ScalingConfiguration).toEqual({ MinCapacity: 0.5, MaxCapacity: 4 });
    const instances = Object.values(template.findResources('AWS::RDS::DBInstance')).map((r: any) => r.Properties);
    expect(instances.map((i) => i.DBInstanceClass)).toEqual(['db.serverless', 'db.serverless']);
    expect(instances.map((i) => i.PromotionTier).sort()).toEqual([0, 1]);
    for (const i of instances) {
      expect(i.MonitoringInterval).toBe(60);
      expect(i.PubliclyAccessible).toBe(false);
      expect(i.AutoMinorVersionUpgrade).toBe(true);
    }
  });

  test('the postgresql log is exported to a KMS-encrypted log group kept a year, created before the cluster', () => {
    expect(cluster.EnableCloudwatchLogsExports).toEqual(['postgresql']);
    const groups = dbLogGroups();
    expect(groups).toHaveLength(1);
    const [groupId, group] = groups[0];
    // named after the cluster identifier, which carries the stack's UUID block (new on every create)
    expect(text(group.Properties.LogGroupName)).toBe(`/aws/rds/cluster/${text(cluster.DBClusterIdentifier)}/postgresql`);
    expect(text(cluster.DBClusterIdentifier)).toMatch(/^test-db-[0-9a-f]{8}-\{"Fn::Select":\[0,\{"Fn::Split":\["-",\{"Fn::Select":\[2,\{"Fn::Split":\["\/",\{"Ref":"AWS::StackId"\}\]\}\]\}\]\}\]\}$/);
    expect(group.Properties.RetentionInDays).toBe(365);
    expect(group.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    template.hasResource('AWS::RDS::DBCluster', { DependsOn: Match.arrayWith([groupId]) });
    // and CloudWatch Logs may use the key, only for this database's log groups
    const statements = dbKey().KeyPolicy.Statement;
    const logs = statements.find((s: any) => JSON.stringify(s.Principal).includes('logs.'));
    expect(text(logs.Condition.ArnLike['kms:EncryptionContext:aws:logs:arn'])).toContain(`log-group:/aws/rds/cluster/${text(cluster.DBClusterIdentifier)}/*`);
  });

  test('both secrets rotate every 30 days with the library\'s own function: no Serverless Application Repository, no transform', () => {
    const schedules = Object.values(template.findResources('AWS::SecretsManager::RotationSchedule')) as any[];
    expect(schedules.map((r) => r.Properties.SecretId).sort()).toEqual([
      { Ref: logicalId(db.node.findChild('AppSecret')) }, { Ref: logicalId(db.masterSecret.node.defaultChild as any ?? db.masterSecret) },
    ].sort((a, b) => a.Ref.localeCompare(b.Ref)));
    for (const r of schedules) {
      expect(r.Properties).toMatchObject({
        RotationRules: { ScheduleExpression: 'rate(30 days)' },
        RotationLambdaARN: { 'Fn::GetAtt': [logicalId(db.rotationFunction!), 'Arn'] },
        RotateImmediatelyOnUpdate: false,
      });
      // a rotation needs its users in place
      expect(r.DependsOn).toContain(logicalId(db.appUser));
    }
    template.resourceCountIs('AWS::Serverless::Application', 0);
    expect(template.toJSON().Transform).toBeUndefined();
  });

  test('the app has its own user: the app secret names django_app_a (owner role django_app) and the master secret', () => {
    const app = template.toJSON().Resources[logicalId(db.node.findChild('AppSecret'))].Properties.GenerateSecretString;
    const secretTemplate = JSON.stringify(app.SecretStringTemplate);
    expect(secretTemplate).toContain('\\"username\\":\\"django_app_a\\"');
    expect(secretTemplate).toContain('\\"role\\":\\"django_app\\"');
    expect(secretTemplate).toContain('masterarn');
    expect(app.GenerateStringKey).toBe('password');
    expect(db.secret).not.toBe(db.masterSecret);
    // the setup resource creates it once the database and its secret are there
    const appUser = template.toJSON().Resources[logicalId(db.appUser)];
    expect(appUser.Type).toBe('Custom::DjangoDatabaseAppUser');
    expect(appUser.DependsOn).toEqual(expect.arrayContaining([logicalId(db.cluster!), expect.stringMatching(/^DbClusterWriter/)]));
  });

  test('no secret value in the template: passwords are generated by Secrets Manager and only referenced', () => {
    for (const secret of Object.values(template.findResources('AWS::SecretsManager::Secret')).map((r: any) => r.Properties)) {
      expect(secret.SecretString).toBeUndefined();
      expect(secret.GenerateSecretString.GenerateStringKey).toBe('password');
    }
    const found: string[] = [];
    const walk = (v: any, key = '') => {
      if (Array.isArray(v)) v.forEach((x) => walk(x, key));
      else if (v && typeof v === 'object') Object.entries(v).forEach(([k, x]) => walk(x, k));
      else if (typeof v === 'string' && /password/i.test(key)) found.push(`${key}=${v}`);
    };
    walk(template.toJSON());
    // A literal password would be a string-valued *Password property; the only one is the dynamic reference.
    expect(found).toEqual([]);
    expect(JSON.stringify(cluster.MasterUserPassword)).toContain('{{resolve:secretsmanager:');
    expect(JSON.stringify(cluster.MasterUserPassword)).toContain(':SecretString:password::}}');
  });
});

describe('security group', () => {
  test('admits only the setup function when there is no rotation and allowFrom was not called; no egress either', () => {
    const { stack, db } = build({ rotation: false });
    const template = Template.fromStack(stack);
    expect(ingressOf(template, db.securityGroup).map((r) => r.Description)).toEqual(['Credentials setup and rotation to PostgreSQL']);
    const egress = template.toJSON().Resources[logicalId(db.securityGroup)].Properties.SecurityGroupEgress;
    expect(egress).toEqual([expect.objectContaining({ Description: 'Disallow all traffic' })]);
  });

  test('by default only the setup and rotation functions are admitted, on the literal database port', () => {
    const { stack, db } = build();
    const template = Template.fromStack(stack);
    const rules = ingressOf(template, db.securityGroup);
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ FromPort: 5433, ToPort: 5433, IpProtocol: 'tcp' });
    expect(JSON.stringify(rules[0].SourceSecurityGroupId)).toContain('CredentialsSecurityGroup');
  });

  test('allowFrom adds exactly one rule, on the database port, from the peer', () => {
    const { stack, vpc, db } = build({ rotation: false });
    const service = new ec2.SecurityGroup(stack, 'Service', { vpc });
    db.allowFrom(service);
    db.allowFrom(service); // idempotent
    const rules = ingressOf(Template.fromStack(stack), db.securityGroup).filter((r) => !JSON.stringify(r).includes('CredentialsSecurityGroup'));
    expect(rules).toEqual([expect.objectContaining({
      FromPort: 5433,
      ToPort: 5433,
      IpProtocol: 'tcp',
      SourceSecurityGroupId: { 'Fn::GetAtt': [logicalId(service), 'GroupId'] },
    })]);
  });
});

describe('settings for the Django container', () => {
  test('environment and secrets, wired into a task definition', () => {
    const { stack, db } = build();
    const task = new ecs.FargateTaskDefinition(stack, 'Task');
    task.addContainer('django', { image: IMAGE, environment: { ...db.environment }, secrets: { ...db.secrets } });
    const template = Template.fromStack(stack);
    const def = only(template, 'AWS::ECS::TaskDefinition').ContainerDefinitions[0];
    const env = Object.fromEntries(def.Environment.map((e: any) => [e.Name, e.Value]));
    expect(Object.keys(env).sort()).toEqual(['DATABASE_HOST', 'DATABASE_NAME', 'DATABASE_PORT', 'DATABASE_SSLMODE',
      'DJANGO_CONN_HEALTH_CHECKS', 'DJANGO_CONN_MAX_AGE']);
    expect(env).toMatchObject({
      DATABASE_HOST: { 'Fn::GetAtt': [logicalId(db.cluster!), 'Endpoint.Address'] },
      DATABASE_PORT: '5433',
      DATABASE_NAME: 'django',
      DATABASE_SSLMODE: 'require',
      DJANGO_CONN_MAX_AGE: '60',
      DJANGO_CONN_HEALTH_CHECKS: 'true',
    });
    const secrets = Object.fromEntries(def.Secrets.map((s: any) => [s.Name, JSON.stringify(s.ValueFrom)]));
    expect(Object.keys(secrets).sort()).toEqual(['DATABASE_PASSWORD', 'DATABASE_USER']);
    expect(secrets.DATABASE_USER).toContain(':username::');
    expect(secrets.DATABASE_PASSWORD).toContain(':password::');
    // the app's own secret, not the master's
    expect(secrets.DATABASE_PASSWORD).toContain('AppSecret');
    expect(secrets.DATABASE_USER).toContain('AppSecret');
    // the execution role may read the secret, and decrypt it with the database key (granted in the key policy)
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).toContain('secretsmanager:GetSecretValue');
    const keyPolicy = template.toJSON().Resources[logicalId(db.encryptionKey)].Properties.KeyPolicy.Statement;
    const executionRole = logicalId(task.executionRole!);
    expect(keyPolicy).toContainEqual(expect.objectContaining({ Action: 'kms:Decrypt', Principal: { AWS: { 'Fn::GetAtt': [executionRole, 'Arn'] } } }));
  });

  test('connMaxAge and databaseName are passed through', () => {
    const { db } = build({ connMaxAge: Duration.seconds(0), databaseName: 'shop' });
    expect(db.environment.DJANGO_CONN_MAX_AGE).toBe('0');
    expect(db.environment.DATABASE_NAME).toBe('shop');
  });
});

describe('RDS Proxy', () => {
  const { stack, vpc, db } = build({ proxy: true });
  const service = new ec2.SecurityGroup(stack, 'Service', { vpc });
  db.allowFrom(service);
  const template = Template.fromStack(stack);

  test('the settings point at the proxy endpoint on 5432 (RDS Proxy listens on the engine default)', () => {
    expect(stack.resolve(db.environment.DATABASE_HOST)).toEqual({ 'Fn::GetAtt': [logicalId(db.proxy!), 'Endpoint'] });
    expect(db.environment.DATABASE_PORT).toBe('5432');
  });

  test('TLS is required and clients authenticate with the secret', () => {
    const proxy = only(template, 'AWS::RDS::DBProxy');
    expect(proxy.RequireTLS).toBe(true);
    expect(proxy.EngineFamily).toBe('POSTGRESQL');
    expect(proxy.Auth).toEqual([expect.objectContaining({ AuthScheme: 'SECRETS', IAMAuth: 'DISABLED' })]);
  });

  test('allowFrom admits the service to the proxy only; the proxy reaches the database on 5433', () => {
    const proxySg = db.connections.securityGroups[0];
    expect(ingressOf(template, proxySg)).toEqual([expect.objectContaining({
      FromPort: 5432, ToPort: 5432, SourceSecurityGroupId: { 'Fn::GetAtt': [logicalId(service), 'GroupId'] },
    })]);
    const dbRules = ingressOf(template, db.securityGroup);
    const fromProxy = dbRules.filter((r) => JSON.stringify(r.SourceSecurityGroupId).includes(logicalId(proxySg)));
    expect(fromProxy).toEqual([expect.objectContaining({ FromPort: 5433, ToPort: 5433 })]);
    expect(dbRules.some((r) => JSON.stringify(r.SourceSecurityGroupId).includes(logicalId(service)))).toBe(false);
    // out of the proxy only to the database (the other egress rule is the setup and rotation functions')
    const egress = Object.values(template.findResources('AWS::EC2::SecurityGroupEgress')).map((r: any) => r.Properties)
      .filter((r) => JSON.stringify(r.GroupId).includes(logicalId(proxySg)));
    expect(egress).toEqual([expect.objectContaining({ FromPort: 5433, ToPort: 5433 })]);
  });

  test('the proxy role holds its permissions in a customer-managed policy, not inline', () => {
    const roleId = logicalId(db.node.findChild('ProxyRole'));
    const inline = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p: any) => JSON.stringify(p.Properties.Roles ?? []).includes(roleId));
    expect(inline).toEqual([]);
    const managed = JSON.stringify(template.findResources('AWS::IAM::ManagedPolicy'));
    expect(managed).toContain('secretsmanager:GetSecretValue');
    expect(managed).toContain('kms:ViaService');
  });

  test('proxyRequireIam makes the proxy require IAM tokens and grantConnect grants on the proxy', () => {
    const { stack: s2, db: db2 } = build({ proxy: true, proxyRequireIam: true });
    const role = new iam.Role(s2, 'TaskRole', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    db2.grantConnect(role, 'app');
    const t2 = Template.fromStack(s2);
    expect(only(t2, 'AWS::RDS::DBProxy').Auth[0].IAMAuth).toBe('REQUIRED');
    expect(JSON.stringify(t2.findResources('AWS::IAM::Policy'))).toMatch(/rds-db:connect.*dbuser:.*DbProxy.*\/app/);
  });
});

describe('RDS instance', () => {
  const { stack } = build({ engine: DatabaseEngineKind.RDS_INSTANCE });
  const template = Template.fromStack(stack);
  const instance = only(template, 'AWS::RDS::DBInstance');

  test('multi-AZ m6g.large with gp3 storage autoscaling, encrypted, protected, on 5433', () => {
    expect(instance.DeletionProtection).toBeUndefined();
    const [instanceId] = Object.keys(template.findResources('AWS::RDS::DBInstance'));
    expect(only(template, 'Custom::DjangoDeletionProtection')).toMatchObject({ Kind: 'DBInstance', Target: { Ref: instanceId }, Enabled: 'true' });
    expect(instance).toMatchObject({
      Engine: 'postgres',
      EngineVersion: DjangoDatabase.DEFAULT_ENGINE_VERSION,
      DBInstanceClass: 'db.m6g.large',
      MultiAZ: true,
      StorageType: 'gp3',
      AllocatedStorage: '20',
      MaxAllocatedStorage: 100,
      StorageEncrypted: true,
      Port: '5433',
      BackupRetentionPeriod: 7,
      PubliclyAccessible: false,
      EnableIAMDatabaseAuthentication: true,
      EnablePerformanceInsights: true,
      MonitoringInterval: 60,
      AutoMinorVersionUpgrade: true,
    });
    template.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot' });
    expect(only(template, 'AWS::RDS::DBParameterGroup').Parameters).toEqual({ 'rds.force_ssl': '1' });
  });

  test('exports the postgresql and upgrade logs into their own log groups', () => {
    expect(instance.EnableCloudwatchLogsExports).toEqual(['postgresql', 'upgrade']);
    const names = Object.values(template.findResources('AWS::Logs::LogGroup')).map((r: any) => r.Properties.LogGroupName).filter((n) => n).map(text).sort();
    const id = text(instance.DBInstanceIdentifier);
    expect(names).toEqual([`/aws/rds/instance/${id}/postgresql`, `/aws/rds/instance/${id}/upgrade`]);
    for (const r of Object.values(template.findResources('AWS::SecretsManager::RotationSchedule')) as any[]) {
      expect(r.Properties.RotationRules).toEqual({ ScheduleExpression: 'rate(30 days)' });
    }
  });

  test('grantConnect grants rds-db:connect on the instance', () => {
    const { stack: s2, db } = build({ engine: DatabaseEngineKind.RDS_INSTANCE });
    const role = new iam.Role(s2, 'TaskRole', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    db.grantConnect(role, 'app');
    expect(JSON.stringify(Template.fromStack(s2).findResources('AWS::IAM::Policy'))).toMatch(/rds-db:connect.*dbuser:.*\/app/);
  });
});

describe('options', () => {
  test('sizing, retention, rotation interval, log retention and an own key', () => {
    const stack = newStack();
    const vpc = createVpc(stack);
    const key = new kms.Key(stack, 'OwnKey', { enableKeyRotation: true });
    new DjangoDatabase(stack, 'Db', {
      vpc,
      encryptionKey: key,
      minCapacity: 1,
      maxCapacity: 16,
      backupRetention: Duration.days(14),
      rotationInterval: Duration.days(7),
      port: 6543,
      multiAz: false,
      monitoringInterval: Duration.seconds(0),
    });
    const template = Template.fromStack(stack);
    // no key of the database's own: the given key, and the stack key of the VPC flow logs
    expect(Object.keys(template.findResources('AWS::KMS::Key')).sort()).toEqual([logicalId(stack.node.findChild('CdkDjangoKey')), logicalId(key)].sort());
    const cluster = only(template, 'AWS::RDS::DBCluster');
    expect(cluster.KmsKeyId).toEqual({ 'Fn::GetAtt': [logicalId(key), 'Arn'] });
    expect(cluster.PerformanceInsightsKmsKeyId).toEqual({ 'Fn::GetAtt': [logicalId(key), 'Arn'] });
    for (const r of Object.values(template.findResources('AWS::SecretsManager::Secret')) as any[]) {
      expect(r.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [logicalId(key), 'Arn'] });
    }
    expect(cluster.ServerlessV2ScalingConfiguration).toEqual({ MinCapacity: 1, MaxCapacity: 16 });
    expect(cluster.BackupRetentionPeriod).toBe(14);
    expect(cluster.Port).toBe(6543);
    template.resourceCountIs('AWS::RDS::DBInstance', 1); // writer only
    expect(only(template, 'AWS::RDS::DBInstance').MonitoringInterval).toBeUndefined();
    const schedules = Object.values(template.findResources('AWS::SecretsManager::RotationSchedule')) as any[];
    expect(schedules.map((r) => r.Properties.RotationRules)).toEqual([{ ScheduleExpression: 'rate(7 days)' }, { ScheduleExpression: 'rate(7 days)' }]);
  });

  test('RETAIN keeps the database; DESTROY (with deletionProtection false) deletes it and its key, secret and logs', () => {
    const retain = Template.fromStack(build({ removalPolicy: RemovalPolicy.RETAIN }).stack);
    retain.hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Retain' });
    const destroy = Template.fromStack(build({ removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false }).stack);
    expect(only(destroy, 'AWS::RDS::DBCluster').DeletionProtection).toBeUndefined();
    expect(only(destroy, 'Custom::DjangoDeletionProtection').Enabled).toBe('false');
    for (const type of ['AWS::RDS::DBCluster', 'AWS::KMS::Key', 'AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup']) {
      destroy.hasResource(type, { DeletionPolicy: 'Delete' });
    }
  });

  test('isolated subnets are preferred for the database; the setup and rotation functions still get egress subnets', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      maxAzs: 2,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
    });
    new DjangoDatabase(stack, 'Db', { vpc });
    const template = Template.fromStack(stack);
    const ids = (subnets: ec2.ISubnet[]) => subnets.map((s) => ({ Ref: logicalId(s.node.findChild('Subnet')) }));
    expect(only(template, 'AWS::RDS::DBSubnetGroup').SubnetIds).toEqual(ids(vpc.isolatedSubnets));
    // The stack's deletion-protection handler calls only AWS APIs and stays outside the VPC.
    const functions = (Object.values(template.findResources('AWS::Lambda::Function')) as any[]).filter((f) => f.Properties.VpcConfig);
    expect(functions.map((f) => f.Properties.Handler).sort()).toEqual(['index.rotate', 'index.setup']);
    for (const f of functions) expect(f.Properties.VpcConfig.SubnetIds).toEqual(ids(vpc.privateSubnets));
  });

  test('a VPC without egress warns that the setup and rotation functions need endpoints', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    new DjangoDatabase(stack, 'Db', { vpc });
    Annotations.fromStack(stack).hasWarning('/Test/Db', Match.stringLikeRegexp('a Secrets Manager interface endpoint and an ECS one .* and an S3 gateway endpoint'));
  });

  test('backupPlan adds the cluster (Aurora) or the instance (RDS) to the plan', () => {
    for (const [engine, resource] of [[DatabaseEngineKind.AURORA_SERVERLESS_V2, ':cluster:'], [DatabaseEngineKind.RDS_INSTANCE, ':db:']] as const) {
      const stack = newStack();
      const plan = backup.BackupPlan.daily35DayRetention(stack, 'Plan');
      const db = new DjangoDatabase(stack, 'Db', { vpc: createVpc(stack), engine, backupPlan: plan });
      const template = Template.fromStack(stack);
      const selection = only(template, 'AWS::Backup::BackupSelection');
      expect(JSON.stringify(selection.BackupSelection.Resources)).toContain(resource);
      expect(selection.BackupPlanId).toEqual({ 'Fn::GetAtt': [logicalId(plan), 'BackupPlanId'] });
      // the given plan replaces the default one: no plan (nor vault) of the database's own
      expect(db.node.tryFindChild('BackupPlan')).toBeUndefined();
      template.resourceCountIs('AWS::Backup::BackupPlan', 1);
    }
  });

  test('grantConnect without the proxy grants on the cluster', () => {
    const { stack, db } = build();
    const role = new iam.Role(stack, 'TaskRole', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    db.grantConnect(role, 'app');
    expect(JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy'))).toMatch(/rds-db:connect.*dbuser:.*DbCluster.*DBClusterResourceId.*\/app/);
  });
});

describe('fromExisting', () => {
  test('exposes the same settings surface over a database managed elsewhere', () => {
    const stack = newStack();
    const vpc = createVpc(stack);
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'S', 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-AbCdEf');
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'DbSg', 'sg-12345678');
    const db: IDjangoDatabase = DjangoDatabase.fromExisting(stack, 'Db', { host: 'db.example.internal', port: 5432, secret, securityGroup: sg, databaseName: 'legacy' });
    const service = new ec2.SecurityGroup(stack, 'Service', { vpc });
    db.allowFrom(service);
    expect(db.environment).toEqual({
      DATABASE_HOST: 'db.example.internal',
      DATABASE_PORT: '5432',
      DATABASE_NAME: 'legacy',
      DATABASE_SSLMODE: 'require',
      DJANGO_CONN_MAX_AGE: '60',
      DJANGO_CONN_HEALTH_CHECKS: 'true',
    });
    expect(Object.keys(db.secrets).sort()).toEqual(['DATABASE_PASSWORD', 'DATABASE_USER']);
    const rules = Object.values(Template.fromStack(stack).findResources('AWS::EC2::SecurityGroupIngress')).map((r: any) => r.Properties);
    expect(rules).toEqual([expect.objectContaining({ GroupId: 'sg-12345678', FromPort: 5432, ToPort: 5432 })]);
  });

  test('refuses an invalid port with a ValidationError', () => {
    const stack = newStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'db');
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'DbSg', 'sg-12345678');
    expect.assertions(2);
    try {
      DjangoDatabase.fromExisting(stack, 'Db', { host: 'h', port: 80, secret, securityGroup: sg });
    } catch (e: any) {
      expect(Errors.isValidationError(e)).toBe(true);
      expect(e.message).toContain('port');
    }
  });
});

describe('bad input is a ValidationError naming the prop', () => {
  const cases: Array<[string, Partial<DjangoDatabaseProps>, string]> = [
    ['min above max', { minCapacity: 8, maxCapacity: 4 }, 'minCapacity'],
    ['ACUs above 256', { maxCapacity: 300 }, 'maxCapacity'],
    ['ACUs not a multiple of 0.5', { minCapacity: 0.7 }, 'minCapacity'],
    ['max below 1 ACU', { minCapacity: 0, maxCapacity: 0.5 }, 'maxCapacity'],
    ['auto-pause with the proxy', { minCapacity: 0, proxy: true }, 'minCapacity'],
    ['auto-pause on a version without it', { minCapacity: 0, engineVersion: '16.1' }, 'minCapacity'],
    ['backup retention 0 days', { backupRetention: Duration.days(0) }, 'backupRetention'],
    ['backup retention 36 days', { backupRetention: Duration.days(36) }, 'backupRetention'],
    ['backup retention in hours', { backupRetention: Duration.hours(36) }, 'backupRetention'],
    ['DESTROY with deletion protection by default', { removalPolicy: RemovalPolicy.DESTROY }, 'removalPolicy'],
    ['DESTROY with deletion protection on', { removalPolicy: RemovalPolicy.DESTROY, deletionProtection: true }, 'removalPolicy'],
    ['instance sizing on Aurora', { instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM) }, 'instanceType'],
    ['ACUs on an instance', { engine: DatabaseEngineKind.RDS_INSTANCE, maxCapacity: 8 }, 'maxCapacity'],
    ['storage below 20 GiB', { engine: DatabaseEngineKind.RDS_INSTANCE, allocatedStorage: 10 }, 'allocatedStorage'],
    ['max storage below storage', { engine: DatabaseEngineKind.RDS_INSTANCE, allocatedStorage: 200, maxAllocatedStorage: 100 }, 'maxAllocatedStorage'],
    ['proxyRequireIam without a proxy', { proxyRequireIam: true }, 'proxyRequireIam'],
    ['rotation interval without rotation', { rotation: false, rotationInterval: Duration.days(7) }, 'rotationInterval'],
    ['rotation interval in hours', { rotationInterval: Duration.hours(12) }, 'rotationInterval'],
    ['monitoring every 2 s', { monitoringInterval: Duration.seconds(2) }, 'monitoringInterval'],
    ['port below 1150', { port: 80 }, 'port'],
    ['database name with a dash', { databaseName: 'my-app' }, 'databaseName'],
    ['engine version not major.minor', { engineVersion: '17' }, 'engineVersion'],
    ['engine version out of support', { engineVersion: '12.22' }, 'engineVersion'],
    ['connMaxAge in milliseconds', { connMaxAge: Duration.millis(1500) }, 'connMaxAge'],
  ];
  test.each(cases)('%s', (_name, props, prop) => {
    expect(refused(props).message).toContain(prop);
  });

  test('a VPC with public subnets only', () => {
    const e = refused({}, (s) => new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PUBLIC }] }));
    expect(e.message).toContain('vpcSubnets');
  });

  test('every problem is listed at once', () => {
    const message = refused({ minCapacity: 8, maxCapacity: 4, backupRetention: Duration.days(40) }).message;
    expect(message).toContain('minCapacity');
    expect(message).toContain('backupRetention');
  });

  test('grantConnect without IAM authentication, or through a proxy that does not require IAM', () => {
    for (const [props, prop] of [[{ iamAuthentication: false }, 'iamAuthentication'], [{ proxy: true }, 'proxyRequireIam']] as const) {
      const { stack, db } = build(props);
      const role = new iam.Role(stack, 'TaskRole', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
      try {
        db.grantConnect(role, 'app');
        throw new Error('expected a ValidationError');
      } catch (e: any) {
        expect(Errors.isValidationError(e)).toBe(true);
        expect(e.message).toContain(prop);
      }
    }
  });
});

describe('cdk-nag', () => {
  const shapes: Array<[string, Partial<DjangoDatabaseProps>]> = [
    ['Aurora Serverless v2 (default)', {}],
    ['RDS instance', { engine: DatabaseEngineKind.RDS_INSTANCE }],
    ['Aurora with RDS Proxy', { proxy: true }],
    ['RDS instance with RDS Proxy requiring IAM', { engine: DatabaseEngineKind.RDS_INSTANCE, proxy: true, proxyRequireIam: true }],
  ];

  test.each(shapes)('AwsSolutions: no unacknowledged findings for %s', (_name, props) => {
    const { stack, vpc, db } = build(props);
    db.allowFrom(new ec2.SecurityGroup(stack, 'Service', { vpc }));
    Template.fromStack(stack); // synthesize first, as `cdk synth` would
    expect(formatFindings(nagFindings(stack, ['AwsSolutions']))).toBe('');
  });

  test.each(shapes)('NIST 800-53 r5 and HIPAA: none left on the database for %s with an AWS Backup plan', (_name, props) => {
    const stack = newStack();
    const plan = backup.BackupPlan.daily35DayRetention(stack, 'Plan');
    const db = new DjangoDatabase(stack, 'Db', { vpc: createVpc(stack), backupPlan: plan, ...props });
    expect(formatFindings(nagFindings(db, ['NIST.800.53.R5', 'HIPAA.Security']))).toBe('');
  });

  test.each(shapes)('NIST 800-53 r5 and HIPAA without a backupPlan: none left, the database is in a daily plan of its own (%s)', (_name, props) => {
    const { stack, db } = build(props);
    // the default plan (daily, kept 35 days) with its own vault, under the database
    const plan = db.node.findChild('BackupPlan') as backup.BackupPlan;
    const template = Template.fromStack(stack);
    const selection = only(template, 'AWS::Backup::BackupSelection');
    expect(selection.BackupPlanId).toEqual({ 'Fn::GetAtt': [logicalId(plan), 'BackupPlanId'] });
    expect(JSON.stringify(selection.BackupSelection.Resources)).toContain(db.cluster ? ':cluster:' : ':db:');
    template.resourceCountIs('AWS::Backup::BackupVault', 1);
    // the vault is encrypted with the database's key, not AWS Backup's own (checkov CKV_AWS_166)
    expect(only(template, 'AWS::Backup::BackupVault').EncryptionKeyArn).toEqual({ 'Fn::GetAtt': [logicalId(db.encryptionKey), 'Arn'] });
    expect(formatFindings(nagFindings(db, ['NIST.800.53.R5', 'HIPAA.Security']))).toBe('');
  });

  test('each acknowledgement names one rule on one resource and says why', () => {
    const stack = newStack();
    const plan = backup.BackupPlan.daily35DayRetention(stack, 'Plan');
    const db = new DjangoDatabase(stack, 'Db', { vpc: createVpc(stack), backupPlan: plan, proxy: true });
    const acks = acknowledgements(db);
    expect(acks.map((a) => `${a.path} ${a.id}`).sort()).toEqual([
      'Test/Db/BackupSelection/Role AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
      'Test/Db/Cluster/Reader CloudFormation-Validate::W9008',
      'Test/Db/Cluster/Reader HIPAA.Security-RDSInBackupPlan',
      'Test/Db/Cluster/Reader NIST.800.53.R5-RDSInBackupPlan',
      // switched on by Custom::DjangoDeletionProtection after create
      'Test/Db/Cluster/Resource AwsSolutions-RDS10',
      'Test/Db/Cluster/Resource HIPAA.Security-RDSInstanceDeletionProtectionEnabled',
      'Test/Db/Cluster/Resource NIST.800.53.R5-RDSInstanceDeletionProtectionEnabled',
      'Test/Db/Cluster/Writer CloudFormation-Validate::W9008',
      'Test/Db/Cluster/Writer HIPAA.Security-RDSInBackupPlan',
      'Test/Db/Cluster/Writer NIST.800.53.R5-RDSInBackupPlan',
      'Test/Db/MonitoringRole AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
      'Test/Db/RotationFunction HIPAA.Security-LambdaConcurrency',
      'Test/Db/RotationFunction HIPAA.Security-LambdaDLQ',
      'Test/Db/RotationFunction NIST.800.53.R5-LambdaConcurrency',
      'Test/Db/RotationFunction NIST.800.53.R5-LambdaDLQ',
      'Test/Db/RotationFunctionPolicy AwsSolutions-IAM5[Resource::*]',
      'Test/Db/RotationFunctionRole AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      'Test/Db/SetupFunction HIPAA.Security-LambdaConcurrency',
      'Test/Db/SetupFunction HIPAA.Security-LambdaDLQ',
      'Test/Db/SetupFunction NIST.800.53.R5-LambdaConcurrency',
      'Test/Db/SetupFunction NIST.800.53.R5-LambdaDLQ',
      'Test/Db/SetupFunctionRole AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
    ]);
    for (const a of acks) expect(a.reason.length).toBeGreaterThan(40);
  });
});
