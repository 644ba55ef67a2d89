import { Aws, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { uniqueName } from '../../names';

/** What the RDS Proxy of a DjangoDatabase is built from. */
export interface RdsProxyTarget {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly target: rds.DatabaseCluster | rds.DatabaseInstance;
  /** The app's secret: the proxy logs in with it. */
  readonly secret: secretsmanager.ISecret;
  readonly encryptionKey: kms.IKey;
  readonly databasePort: number;
  /** The database identifier without its per-create part, for the security group's description. */
  readonly identifierBase: string;
  readonly requireIam: boolean;
}

/**
 * An RDS Proxy (TLS required) in front of the database, in a security group of its own without egress;
 * binding the proxy to its target opens proxy -> database on the database port.
 */
export function createRdsProxy(scope: Construct, t: RdsProxyTarget): { proxy: rds.DatabaseProxy; securityGroup: ec2.SecurityGroup } {
  const securityGroup = new ec2.SecurityGroup(scope, 'ProxySecurityGroup', {
    vpc: t.vpc,
    description: `RDS Proxy of PostgreSQL ${t.identifierBase}: admits only what allowFrom() names`,
    allowAllOutbound: false,
  });
  const proxy = new rds.DatabaseProxy(scope, 'Proxy', {
    // Proxy names are unique per account and region (at most 60 characters); the L2 would name it 'Proxy'.
    dbProxyName: `${uniqueName(scope, { maxLength: 54, allowed: '-' })}-proxy`,
    proxyTarget: t.target instanceof rds.DatabaseCluster ? rds.ProxyTarget.fromCluster(t.target) : rds.ProxyTarget.fromInstance(t.target),
    // The same secret, seen without its key: otherwise the L2 also grants the role on the key
    // policy, a dependency cycle (key -> role -> policy -> secret -> key). createProxyRole covers the key.
    secrets: [secretsmanager.Secret.fromSecretCompleteArn(scope, 'ProxySecret', t.secret.secretArn)],
    vpc: t.vpc,
    vpcSubnets: t.vpcSubnets,
    securityGroups: [securityGroup],
    role: createProxyRole(scope, t.secret, t.encryptionKey),
    requireTLS: true,
    iamAuth: t.requireIam,
  });
  pinIndirectPorts(securityGroup, t.databasePort);
  return { proxy, securityGroup };
}

/**
 * The proxy's role, with its permissions in a customer-managed policy: the L2 would put them in an
 * inline policy (NIST/HIPAA IAMNoInlinePolicy). The role handed to the proxy ignores the L2's grants.
 */
function createProxyRole(scope: Construct, secret: secretsmanager.ISecret, encryptionKey: kms.IKey): iam.IRole {
  const policy = new iam.ManagedPolicy(scope, 'ProxyPolicy', {
    description: 'Lets the RDS Proxy read the database credentials',
    statements: [
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [secret.secretArn],
      }),
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
      }),
    ],
  });
  const role = new iam.Role(scope, 'ProxyRole', {
    assumedBy: new iam.ServicePrincipal('rds.amazonaws.com'),
    managedPolicies: [policy],
  });
  return role.withoutPolicyUpdates();
}

/**
 * The L2s open the rotation function and the proxy to the database on the port *attribute* of the
 * database (a GetAtt token). The port is known here: write it, so the rules read as what they are and
 * rule checkers (NIST/HIPAA EC2RestrictedCommonPorts) can evaluate them.
 */
export function pinIndirectPorts(securityGroup: ec2.SecurityGroup, port: number): void {
  for (const child of securityGroup.node.children) {
    if ((child instanceof ec2.CfnSecurityGroupIngress || child instanceof ec2.CfnSecurityGroupEgress) && Token.isUnresolved(child.fromPort)) {
      child.fromPort = port;
      child.toPort = port;
    }
  }
}
