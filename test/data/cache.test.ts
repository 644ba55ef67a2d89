import { App, CfnElement, Errors, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CacheEngine, DjangoCache, DjangoCacheProps } from '../../src/data/cache';
import { DjangoDaphneService } from '../../src/services/daphne-service';
import { DjangoGunicornService } from '../../src/services/gunicorn-service';
import { createVpc } from '../../src/services/network';
import { Finding, formatFindings, nagFindings } from '../helpers/compliance';
import { IMAGE, container, envOf, newStack, only } from '../helpers/template';

function build(props: Partial<DjangoCacheProps> = {}, stack: Stack = newStack()) {
  const vpc = createVpc(stack);
  const cache = new DjangoCache(stack, 'Cache', { vpc, ...props });
  return { stack, vpc, cache };
}

function synth(props: Partial<DjangoCacheProps> = {}) {
  const built = build(props);
  return { ...built, template: Template.fromStack(built.stack) };
}

/** A security group standing in for an ECS service. */
function client(stack: Stack, vpc: ec2.IVpc, id = 'App'): ec2.SecurityGroup {
  return new ec2.SecurityGroup(stack, id, { vpc, allowAllOutbound: false });
}

/** Runs `make` in a fresh stack and returns the error it throws. */
function errorOf(make: (scope: Stack) => void): any {
  const stack = newStack();
  try {
    make(stack);
  } catch (e) {
    return e;
  }
  throw new Error('expected an error, nothing was thrown');
}

// GIVEN the defaults (built once: every Template costs time)
const quick = synth();
const group = only(quick.template, 'AWS::ElastiCache::ReplicationGroup');
/** The logical ID of the cache's own key (the stack also holds CdkDjangoKey, for the VPC flow logs). */
const cacheKeyId = quick.stack.getLogicalId(quick.cache.encryptionKey.node.defaultChild as CfnElement);

describe('DjangoCache defaults', () => {
  test('Valkey 8.0 on two cache.t4g.micro nodes, multi-AZ with automatic failover, on port 6380', () => {
    expect(group).toMatchObject({
      Engine: 'valkey',
      EngineVersion: '8.0',
      CacheNodeType: 'cache.t4g.micro',
      NumCacheClusters: 2,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      Port: 6380,
    });
  });

  test('encrypted at rest with a rotating customer-managed key, and in transit with TLS required', () => {
    expect(group.AtRestEncryptionEnabled).toBe(true);
    expect(group.TransitEncryptionEnabled).toBe(true);
    // never 'preferred' (which would also admit plain-text clients); unset means 'required' on a new group
    expect(group.TransitEncryptionMode).toBeUndefined();
    const keys = quick.template.findResources('AWS::KMS::Key');
    // the cache brings one key of its own; the other is the stack key of the VPC flow logs
    expect(Object.keys(keys).filter((id) => id.startsWith('Cache'))).toEqual([cacheKeyId]);
    expect(keys[cacheKeyId].Properties.EnableKeyRotation).toBe(true);
    expect(group.KmsKeyId).toEqual({ 'Fn::GetAtt': [cacheKeyId, 'Arn'] });
  });

  test('the AUTH token is a Secrets Manager dynamic reference, and no generated value is in the template', () => {
    const secrets = quick.template.findResources('AWS::SecretsManager::Secret');
    const [secretId] = Object.keys(secrets);
    const generate = secrets[secretId].Properties.GenerateSecretString;
    expect(generate).toMatchObject({ PasswordLength: 64, ExcludePunctuation: true });
    expect(generate.PasswordLength).toBeGreaterThanOrEqual(16);
    expect(generate.PasswordLength).toBeLessThanOrEqual(128);
    // pinned to the version of the token's generation, the same one the tasks read
    const versionId = { 'Fn::GetAtt': [expect.stringMatching(/^CacheTokenVersion/), 'VersionId'] };
    expect(group.AuthToken).toEqual({
      'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: secretId }, ':SecretString:::', versionId, '}}']],
    });
    // the only place the token appears is that reference: no SecretString literal anywhere
    expect(JSON.stringify(quick.template.toJSON())).not.toMatch(/"SecretString"\s*:/);
  });

  test('the secret is encrypted with the same customer-managed key', () => {
    quick.template.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: { 'Fn::GetAtt': [cacheKeyId, 'Arn'] } });
  });

  test('15 days of snapshots, and a final snapshot when the group is deleted', () => {
    expect(group.SnapshotRetentionLimit).toBe(15);
    quick.template.hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot' });
  });

  test('slow and engine logs go to encrypted CloudWatch log groups kept a year', () => {
    expect(group.LogDeliveryConfigurations.map((c: any) => c.LogType).sort()).toEqual(['engine-log', 'slow-log']);
    for (const c of group.LogDeliveryConfigurations) {
      expect(c.DestinationType).toBe('cloudwatch-logs');
      expect(c.DestinationDetails.CloudWatchLogsDetails.LogGroup).toEqual({ Ref: expect.any(String) });
    }
    const groups = quick.template.findResources('AWS::Logs::LogGroup', { Properties: { KmsKeyId: { 'Fn::GetAtt': [cacheKeyId, 'Arn'] } } });
    // exactly the two log groups the cache delivers to are encrypted with its key
    const delivered = group.LogDeliveryConfigurations.map((c: any) => c.DestinationDetails.CloudWatchLogsDetails.LogGroup.Ref);
    expect(Object.keys(groups).sort()).toEqual(delivered.sort());
    for (const g of Object.values(groups)) expect((g as any).Properties.RetentionInDays).toBe(365);
    // the key lets CloudWatch Logs (not just the account) use it, or the log groups could not be created
    expect(quick.template.toJSON().Resources[cacheKeyId].Properties.KeyPolicy.Statement).toEqual(expect.arrayContaining([expect.objectContaining({
      Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
      Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': expect.anything() } },
    })]));
  });

  test('the nodes sit in the private subnets of a VPC without isolated ones', () => {
    const subnets = only(quick.template, 'AWS::ElastiCache::SubnetGroup').SubnetIds;
    const privateIds = quick.vpc.privateSubnets.map((s) => Stack.of(quick.stack).resolve(s.subnetId));
    expect(subnets).toEqual(privateIds);
    expect(group.CacheSubnetGroupName).toEqual({ Ref: expect.any(String) });
  });

  test('environment: REDIS_URL is rediss://<primary endpoint>:6380/0, without credentials', () => {
    const url = Stack.of(quick.stack).resolve(quick.cache.environment.REDIS_URL);
    const [groupId] = Object.keys(quick.template.findResources('AWS::ElastiCache::ReplicationGroup'));
    expect(url).toEqual({ 'Fn::Join': ['', ['rediss://', { 'Fn::GetAtt': [groupId, 'PrimaryEndPoint.Address'] }, ':6380/0']] });
    expect(Object.keys(quick.cache.environment)).toEqual(['REDIS_URL']);
  });

  test('secrets: REDIS_PASSWORD is the AUTH token secret, at the version of the token generation', () => {
    expect(Object.keys(quick.cache.secrets)).toEqual(['REDIS_PASSWORD']);
    const resolve = (v: any) => Stack.of(quick.stack).resolve(v);
    expect(resolve(quick.cache.secrets.REDIS_PASSWORD.arn)).toEqual({
      'Fn::Join': ['', [resolve(quick.cache.authSecret.secretArn), ':::', resolve(quick.cache.authTokenVersionId)]],
    });
  });

  test('the version comes from a custom resource of the generation: raising authTokenGeneration changes the cache and the tasks together', () => {
    const version = Object.values(quick.template.findResources('Custom::DjangoCacheAuthTokenVersion')) as any[];
    expect(version).toHaveLength(1);
    expect(version[0].Properties).toMatchObject({ Generation: 1, SecretArn: Stack.of(quick.stack).resolve(quick.cache.authSecret.secretArn) });
    const stack = newStack();
    const cache = new DjangoCache(stack, 'Cache', { vpc: createVpc(stack), authTokenGeneration: 2 });
    const t = Template.fromStack(stack);
    expect(Object.values(t.findResources('Custom::DjangoCacheAuthTokenVersion')).map((r: any) => r.Properties.Generation)).toEqual([2]);
    expect(JSON.stringify(Stack.of(stack).resolve(cache.secrets.REDIS_PASSWORD.arn))).toContain('TokenVersion');
    const bad = newStack();
    expect(() => new DjangoCache(bad, 'Cache', { vpc: createVpc(bad), authTokenGeneration: 1.5 })).toThrow(/authTokenGeneration/);
  });

  test('retirePreviousTokenAfter: SET runs after the services have rolled, on the pinned version', () => {
    const stack = newStack();
    const vpc = createVpc(stack);
    const cache = new DjangoCache(stack, 'Cache', { vpc });
    const service = new DjangoGunicornService(stack, 'Web', { image: IMAGE, vpc, environment: cache.environment, secrets: cache.secrets });
    cache.retirePreviousTokenAfter(service.service);
    const t = Template.fromStack(stack).toJSON();
    const [retire] = Object.values<any>(t.Resources).filter((r) => r.Type === 'Custom::DjangoCacheRetireAuthToken');
    expect(retire.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^WebService/), expect.stringMatching(/^Cache[0-9A-F]{8}$/)]));
    expect(retire.Properties.VersionId).toEqual(Stack.of(stack).resolve(cache.authTokenVersionId));
    expect(JSON.stringify(t)).toContain('elasticache:ModifyReplicationGroup');
  });
});

describe('DjangoCache access', () => {
  test('the security group admits nobody and sends nothing until allowFrom', () => {
    const sg = quick.template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: 'Test/Cache: Redis clients in' } });
    expect(Object.values(sg)).toHaveLength(1);
    const props = (Object.values(sg)[0] as any).Properties;
    expect(props.SecurityGroupIngress).toBeUndefined();
    // allowAllOutbound: false renders CDK's deny-all placeholder egress rule
    expect(props.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32' })]);
    quick.template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  test('allowFrom opens exactly the cache port to the peer, and the peer may reach it', () => {
    const { stack, vpc, cache } = build();
    const app = client(stack, vpc);
    cache.allowFrom(app);
    const t = Template.fromStack(stack);
    const [cacheSg] = Object.keys(t.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: 'Test/Cache: Redis clients in' } }));
    const [appSg] = Object.keys(t.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: 'Test/App' } }));
    t.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 6380,
      ToPort: 6380,
      GroupId: { 'Fn::GetAtt': [cacheSg, 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [appSg, 'GroupId'] },
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      IpProtocol: 'tcp', FromPort: 6380, ToPort: 6380, GroupId: { 'Fn::GetAtt': [appSg, 'GroupId'] },
    });
  });

  test('a DjangoDaphneService given channelLayer() gets REDIS_URL, the REDIS_PASSWORD secret and a rule to the cache port', () => {
    const stack = newStack();
    const vpc = createVpc(stack);
    const cache = new DjangoCache(stack, 'Cache', { vpc });
    new DjangoDaphneService(stack, 'Ws', { image: IMAGE, vpc, channelLayer: cache.channelLayer() });
    const t = Template.fromStack(stack);
    const app = container(t, 'app');
    expect(envOf(app).REDIS_URL).toEqual(stack.resolve(cache.environment.REDIS_URL));
    expect(app.Secrets).toEqual(expect.arrayContaining([{
      Name: 'REDIS_PASSWORD',
      ValueFrom: { 'Fn::Join': ['', [stack.resolve(cache.authSecret.secretArn), ':::', stack.resolve(cache.authTokenVersionId)]] },
    }]));
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 6380, ToPort: 6380, GroupId: stack.resolve(cache.securityGroup.securityGroupId),
    });
  });

  test('channelLayer() is the ChannelLayerOptions of this repo: same URL and secret, the cache as connections, the port', () => {
    const layer = quick.cache.channelLayer();
    expect(layer.redisUrl).toBe(quick.cache.environment.REDIS_URL);
    expect(layer.password).toBe(quick.cache.secrets.REDIS_PASSWORD);
    expect(layer.connections).toBe(quick.cache);
    expect(layer.port).toBe(6380);
  });
});

describe('DjangoCache options', () => {
  test('Redis OSS, one node without multi-AZ, bigger nodes, another port, no snapshots, retained on delete', () => {
    const { template } = synth({
      engine: CacheEngine.REDIS_7_1,
      numNodes: 1,
      multiAz: false,
      nodeType: 'cache.m7g.large',
      port: 16379,
      snapshotRetentionLimit: 0,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    expect(only(template, 'AWS::ElastiCache::ReplicationGroup')).toMatchObject({
      Engine: 'redis',
      EngineVersion: '7.1',
      NumCacheClusters: 1,
      MultiAZEnabled: false,
      AutomaticFailoverEnabled: false,
      CacheNodeType: 'cache.m7g.large',
      Port: 16379,
      SnapshotRetentionLimit: 0,
    });
    template.hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'Retain' });
  });

  test('a given key encrypts data, secret and logs, and CloudWatch Logs is allowed to use it', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'SharedKey', { enableKeyRotation: true });
    new DjangoCache(stack, 'Cache', { vpc: createVpc(stack), encryptionKey: key });
    const t = Template.fromStack(stack);
    const keyArn = stack.resolve(key.keyArn);
    const keyId = stack.getLogicalId(key.node.defaultChild as CfnElement);
    // the cache makes no key of its own: the only other key is the stack key of the VPC flow logs
    expect(Object.keys(t.findResources('AWS::KMS::Key')).filter((id) => id !== keyId)).toEqual([expect.stringMatching(/^CdkDjangoKey/)]);
    const replicationGroup = only(t, 'AWS::ElastiCache::ReplicationGroup');
    expect(replicationGroup.KmsKeyId).toEqual(keyArn);
    t.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: keyArn });
    for (const c of replicationGroup.LogDeliveryConfigurations) {
      expect(t.toJSON().Resources[c.DestinationDetails.CloudWatchLogsDetails.LogGroup.Ref].Properties.KmsKeyId).toEqual(keyArn);
    }
    expect(t.toJSON().Resources[keyId].Properties.KeyPolicy.Statement).toEqual(expect.arrayContaining([
      expect.objectContaining({ Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': expect.anything() } } }),
    ]));
  });

  test('prefers the isolated subnets of a VPC that has them', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
    });
    new DjangoCache(stack, 'Cache', { vpc });
    const ids = only(Template.fromStack(stack), 'AWS::ElastiCache::SubnetGroup').SubnetIds;
    expect(ids).toEqual(vpc.isolatedSubnets.map((s) => stack.resolve(s.subnetId)));
  });

  test('fromExisting gives the same settings surface for a cache managed elsewhere', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'a', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'CacheSg', 'sg-0123456789abcdef0', { allowAllOutbound: false });
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Token', 'prod/redis-auth');
    const cache = DjangoCache.fromExisting(stack, 'Cache', { host: 'master.my-cache.abc123.euw1.cache.amazonaws.com', authSecret: secret, securityGroup: sg });
    expect(cache.environment).toEqual({ REDIS_URL: 'rediss://master.my-cache.abc123.euw1.cache.amazonaws.com:6379/0' });
    expect(Object.keys(cache.secrets)).toEqual(['REDIS_PASSWORD']);
    expect(stack.resolve(cache.secrets.REDIS_PASSWORD.arn)).toEqual(stack.resolve(secret.secretArn));
    expect(cache.channelLayer()).toMatchObject({ port: 6379, password: cache.secrets.REDIS_PASSWORD });
    cache.allowFrom(client(stack, vpc));
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 6379, ToPort: 6379, GroupId: 'sg-0123456789abcdef0' });
  });

  test('fromExisting without TLS or password renders redis:// and no secret', () => {
    const cache = DjangoCache.fromExisting(newStack(), 'Cache', { host: 'redis.internal', port: 6390, tls: false });
    expect(cache.environment.REDIS_URL).toBe('redis://redis.internal:6390/0');
    expect(cache.secrets).toEqual({});
    expect(cache.channelLayer().password).toBeUndefined();
  });
});

describe('DjangoCache bad input: a ValidationError naming the prop', () => {
  const cases: Array<[string, string, (scope: Construct) => void]> = [
    ['multi-AZ on one node', 'numNodes', (s) => new DjangoCache(s, 'C', { vpc: createVpc(s), numNodes: 1 })],
    ['seven nodes', 'numNodes', (s) => new DjangoCache(s, 'C', { vpc: createVpc(s), numNodes: 7 })],
    ['36 days of snapshots', 'snapshotRetentionLimit', (s) => new DjangoCache(s, 'C', { vpc: createVpc(s), snapshotRetentionLimit: 36 })],
    ['negative snapshot days', 'snapshotRetentionLimit', (s) => new DjangoCache(s, 'C', { vpc: createVpc(s), snapshotRetentionLimit: -1 })],
    ['port 70000', 'port', (s) => new DjangoCache(s, 'C', { vpc: createVpc(s), port: 70000 })],
    ['an EC2 instance type', 'nodeType', (s) => new DjangoCache(s, 'C', { vpc: createVpc(s), nodeType: 't4g.micro' })],
    ['AUTH token without TLS on an existing cache', 'tls', (s) => DjangoCache.fromExisting(s, 'C', {
      host: 'x', tls: false, authSecret: secretsmanager.Secret.fromSecretNameV2(s, 'T', 'token'),
    })],
  ];

  test.each(cases)('%s', (_name, prop, make) => {
    const e = errorOf(make);
    expect(Errors.isValidationError(e)).toBe(true);
    expect(e.message).toMatch(new RegExp(`^${prop}: `));
  });

  test('multi-AZ with subnets in one zone (known zones)', () => {
    const stack = new Stack(new App(), 'T', { env: { account: '111111111111', region: 'us-east-1' } });
    const vpc = createVpc(stack);
    const e = errorOf(() => new DjangoCache(stack, 'C', { vpc, vpcSubnets: { subnets: [vpc.privateSubnets[0]] } }));
    expect(Errors.isValidationError(e)).toBe(true);
    expect(e.message).toMatch(/^vpcSubnets: .*2 availability zones/);
  });

  test('several problems are reported together', () => {
    const e = errorOf((s) => new DjangoCache(s, 'C', { vpc: createVpc(s), numNodes: 1, snapshotRetentionLimit: 99 }));
    expect(e.message).toMatch(/numNodes: /);
    expect(e.message).toMatch(/snapshotRetentionLimit: /);
  });
});

describe('DjangoCache compliance', () => {
  const mine = (findings: Finding[]) => findings.filter((f) => f.resource.startsWith('Test/Cache/'));

  test('AwsSolutions: no unacknowledged findings, defaults and the single-node shape with a client', () => {
    expect(formatFindings(nagFindings(quick.stack, ['AwsSolutions']))).toBe('');
    const { stack, vpc, cache } = build({ numNodes: 1, multiAz: false, engine: CacheEngine.REDIS_7_1 });
    cache.allowFrom(client(stack, vpc));
    // AEC4 asks for multi-AZ: a single node is a deliberate choice of the caller, not acknowledged here
    expect(nagFindings(stack, ['AwsSolutions']).map((f) => f.ruleId)).toEqual(['AwsSolutions-AEC4']);
  });

  test('the acknowledgements: rotation of the AUTH token secret (SMG4, and SecretsManagerRotationEnabled in NIST and HIPAA)', () => {
    const acks: string[] = [];
    const walk = (c: Construct) => {
      for (const m of c.node.metadata) {
        if (m.type === 'aws:cdk:acknowledged-rules') {
          for (const id of Object.keys(m.data)) if (!id.startsWith('CloudFormation-Validate::')) acks.push(`${c.node.path} ${id.replace(/^Annotation::/, '')}`);
        }
      }
      c.node.children.forEach((k) => walk(k as Construct));
    };
    walk(quick.cache);
    expect(acks).toEqual([
      'Test/Cache/AuthToken AwsSolutions-SMG4',
      'Test/Cache/AuthToken NIST.800.53.R5-SecretsManagerRotationEnabled',
      'Test/Cache/AuthToken HIPAA.Security-SecretsManagerRotationEnabled',
      'Test/Cache/TokenVersionPolicy AwsSolutions-IAM5[Resource::*]',
      'Test/Cache/TokenVersionFunction NIST.800.53.R5-LambdaConcurrency',
      'Test/Cache/TokenVersionFunction HIPAA.Security-LambdaConcurrency',
      'Test/Cache/TokenVersionFunction NIST.800.53.R5-LambdaDLQ',
      'Test/Cache/TokenVersionFunction HIPAA.Security-LambdaDLQ',
      'Test/Cache/TokenVersionFunction NIST.800.53.R5-LambdaInsideVPC',
      'Test/Cache/TokenVersionFunction HIPAA.Security-LambdaInsideVPC',
    ]);
  });

  test('NIST 800-53 r5 and HIPAA: nothing remains open on the cache (the token rotation is acknowledged)', () => {
    const open = mine(nagFindings(quick.stack, ['NIST.800.53.R5', 'HIPAA.Security']));
    expect(open.map((f) => `${f.pack} ${f.ruleId} ${f.resource}`).sort()).toEqual([]);
  });
});
