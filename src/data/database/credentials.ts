import { Aws, CustomResource, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IConstruct } from 'constructs';
import { warnUser } from '../../annotations';
import { vpcEndpointsOf } from '../../endpoints';
import { inlineFunction, InlineFunctionOptions } from '../../inline-function';
import { acknowledgeFinding } from '../../nag';
import { ROTATION_HANDLER_SOURCE } from '../rotation-source';

export const MASTER_USERNAME = 'django';
/**
 * The app's own credentials: two login users that take turns (alternating-users rotation), both members of
 * a NOLOGIN role that owns the tables, so either one sees and migrates the same schema.
 */
const APP_OWNER_ROLE = 'django_app';
const APP_FIRST_USER = 'django_app_a';
/** Characters generated passwords leave out (the rotation function's list): what URLs, shells and the RDS secret format trip on. */
const PASSWORD_EXCLUDE = ' %+~\'"\\/@:;?#[]{}<>|,=&$';

/** What the credentials code needs of its database. */
export interface CredentialsTarget {
  readonly vpc: ec2.IVpc;
  /** The database's own subnets, where the functions go when the VPC has no subnets with egress. */
  readonly dbSubnets: ec2.SubnetSelection;
  readonly dbSecurityGroup: ec2.SecurityGroup;
  readonly databasePort: number;
  readonly databaseName: string;
  /** The host name the app secret records (the database's, not the proxy's). */
  readonly dbHost: string;
  /** The database identifier, for the secret's description. */
  readonly identifier: string;
  readonly encryptionKey: kms.IKey;
  readonly masterSecret: secretsmanager.ISecret;
  /** What the app user needs in place first: the database (every instance). */
  readonly target: IConstruct;
  readonly rotation: boolean;
  /** The services redeployed after each rotation, read when the template is written. */
  readonly redeployServices: ecs.IBaseService[];
}

/** The app's credentials: its secret, the custom resource creating its user, and the functions behind them. */
export interface AppCredentials {
  readonly secret: secretsmanager.Secret;
  readonly appUser: CustomResource;
  readonly setup: lambda.Function;
  readonly rotate?: lambda.Function;
  readonly redeployPolicy?: iam.ManagedPolicy;
  readonly permission?: lambda.CfnPermission;
}

/**
 * The app's own user, not the master: tasks hold this secret's AWSCURRENT from their start, and
 * alternating-users rotation keeps that user's password valid for a whole interval after it is
 * superseded, while the redeploy replaces every task holding it. Weighed and not taken:
 * single-user rotation (every new connection fails from setSecret until a redeploy); a redeploy
 * on rotation alone (the same gap, only shorter); RDS-managed master passwords (single-user, for
 * the master only); IAM authentication (a token per connection needs code in the user's Django
 * project, and boto3 in its image).
 */
export function createAppCredentials(scope: Construct, t: CredentialsTarget, removalPolicy: RemovalPolicy): AppCredentials {
  const appSecret = new secretsmanager.Secret(scope, 'AppSecret', {
    description: `The Django app's own PostgreSQL user of ${t.identifier} (alternating users; rotation replaces the one not in use)`,
    encryptionKey: t.encryptionKey,
    generateSecretString: {
      secretStringTemplate: Stack.of(scope).toJsonString({
        engine: 'postgres',
        host: t.dbHost,
        port: t.databasePort,
        dbname: t.databaseName,
        username: APP_FIRST_USER,
        role: APP_OWNER_ROLE,
        masterarn: t.masterSecret.secretArn,
      }),
      generateStringKey: 'password',
      passwordLength: 32,
      excludeCharacters: PASSWORD_EXCLUDE,
    },
  });
  appSecret.applyRemovalPolicy(removalPolicy);

  const handlers = createCredentialHandlers(scope, t, appSecret);
  const appUser = new CustomResource(scope, 'AppUser', {
    serviceToken: handlers.setup.functionArn,
    resourceType: 'Custom::DjangoDatabaseAppUser',
    properties: { AppSecretArn: appSecret.secretArn, MasterSecretArn: t.masterSecret.secretArn },
  });
  // Users can only be created once the database (every instance: the writer) accepts connections,
  // its master secret is attached, and the function may reach it.
  appUser.node.addDependency(t.target, t.masterSecret, handlers.securityGroup, t.dbSecurityGroup);
  const { setup, rotate, redeployPolicy, permission } = handlers;
  return { secret: appSecret, appUser, setup, rotate, redeployPolicy, permission };
}

/** The rotation schedules of the app's and the master's secret; the first rotation comes one interval after create. */
export function scheduleRotation(scope: Construct, credentials: AppCredentials, masterSecret: secretsmanager.ISecret,
  interval: Duration | undefined): void {
  const rotate = credentials.rotate;
  if (!rotate) return;
  const intervalDays = (interval ?? Duration.days(30)).toDays();
  for (const [scheduleId, secret] of [['AppRotation', credentials.secret], ['MasterRotation', masterSecret]] as const) {
    const schedule = new secretsmanager.CfnRotationSchedule(scope, scheduleId, {
      secretId: secret.secretArn,
      rotationLambdaArn: rotate.functionArn,
      rotationRules: { scheduleExpression: `rate(${intervalDays} days)` },
      // The passwords are fresh; the first rotation comes one interval after create.
      rotateImmediatelyOnUpdate: false,
    });
    // A rotation needs its users in place, and may only run once it may invoke the function.
    schedule.node.addDependency(credentials.appUser, credentials.permission!);
  }
}

/**
 * The setup and rotation functions: the library's inline Python (no Serverless Application Repository,
 * no transform), in the VPC next to the database, each with its own role, so the rotation function's
 * redeploy rights (which name the services) are no input of the setup the services wait for.
 */
function createCredentialHandlers(scope: Construct, t: CredentialsTarget, appSecret: secretsmanager.ISecret) {
  const { vpc, dbSubnets, dbSecurityGroup, rotation } = t;
  // The functions call AWS APIs (Secrets Manager, ECS, and the custom resource response to S3): run
  // them where there is a route out, falling back to the database subnets (which then need endpoints).
  const withEgress = vpc.privateSubnets.length > 0;
  // A VPC this library created without NAT has endpoints: add what these functions call.
  const endpoints = withEgress ? undefined : vpcEndpointsOf(vpc);
  if (endpoints) {
    endpoints.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER);
    if (rotation) endpoints.addInterfaceEndpoint(ec2.InterfaceVpcEndpointAwsService.ECS);
  } else if (!withEgress) {
    warnUser(scope, 'database-rotation-endpoint',
      `The VPC has no subnets with egress: the database setup${rotation ? ' and rotation functions run in the database subnets and need' : ' function runs in the database subnets and needs'} a Secrets Manager interface endpoint${rotation ? ' and an ECS one (the redeploy after a rotation)' : ''} with private DNS, and an S3 gateway endpoint on their route tables (CloudFormation takes the setup's answer at a presigned S3 URL).`);
  }
  const subnets = withEgress ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : dbSubnets;
  const securityGroup = new ec2.SecurityGroup(scope, 'CredentialsSecurityGroup', {
    vpc,
    description: 'cdk-django database setup and rotation functions: PostgreSQL and AWS APIs (HTTPS) out',
    allowAllOutbound: false,
  });
  securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs (Secrets Manager, ECS, the CloudFormation response)');
  dbSecurityGroup.connections.allowFrom(securityGroup, ec2.Port.tcp(t.databasePort), 'Credentials setup and rotation to PostgreSQL');

  const secretArns = [t.masterSecret.secretArn, Lazy.string({ produce: () => appSecret.secretArn })];
  const kmsStatement = (actions: string[]) => new iam.PolicyStatement({
    actions,
    resources: [t.encryptionKey.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
  });
  const handler = (name: string, entry: 'setup' | 'rotate', o: Pick<InlineFunctionOptions, 'roleDescription' | 'statements' | 'managedPolicies'
  | 'environment' | 'concurrency' | 'deadLetter'>) => inlineFunction(scope, name, {
    ...o,
    source: ROTATION_HANDLER_SOURCE,
    language: 'python',
    handler: entry,
    description: `cdk-django: ${entry === 'setup' ? 'creates the app user of' : 'rotates the credentials of'} ${scope.node.path}`,
    timeout: Duration.minutes(2),
    network: { vpc, vpcSubnets: subnets, securityGroups: [securityGroup] },
  });

  const setup = handler('SetupFunction', 'setup', {
    roleDescription: 'cdk-django: reads the database credentials to create the app user',
    statements: [
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: secretArns }),
      kmsStatement(['kms:Decrypt']),
    ],
    concurrency: 'CloudFormation invokes it once per deployment of the app user resource.',
    deadLetter: 'A failure is reported to CloudFormation (the deployment fails); there is nothing to dead-letter.',
  }).function;
  if (!rotation) return { setup, securityGroup };

  const redeployPolicy = new iam.ManagedPolicy(scope, 'RedeployPolicy', {
    description: 'cdk-django: redeploys the services holding the app credentials after a rotation',
    // A placeholder until redeployOnRotation names services: a policy needs a statement.
    statements: [new iam.PolicyStatement({ actions: ['ecs:DescribeServices'], resources: [`arn:${Aws.PARTITION}:ecs:${Aws.REGION}:${Aws.ACCOUNT_ID}:service/none/none`] })],
  });
  const rotateHandler = handler('RotationFunction', 'rotate', {
    roleDescription: 'cdk-django: rotates the database credentials',
    statements: [
      new iam.PolicyStatement({
        actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        resources: secretArns,
      }),
      new iam.PolicyStatement({ actions: ['secretsmanager:GetRandomPassword'], resources: ['*'] }),
      kmsStatement(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']),
    ],
    managedPolicies: [redeployPolicy],
    environment: {
      REDEPLOY_SERVICES: Lazy.string({
        produce: () => Stack.of(scope).toJsonString(t.redeployServices.map((s) => [s.cluster.clusterArn, s.serviceArn])),
      }),
    },
    concurrency: 'Secrets Manager invokes it four times per rotation, one secret at a time.',
    deadLetter: 'Secrets Manager invokes it synchronously, step by step, and marks a failed rotation (RotationFailed event); there is nothing to dead-letter.',
  });
  acknowledgeFinding(rotateHandler.policy, 'AwsSolutions-IAM5[Resource::*]',
    'secretsmanager:GetRandomPassword acts on no resource (it returns a random string); every other action names the two secrets.');
  const rotate = rotateHandler.function;
  const permission = new lambda.CfnPermission(scope, 'RotationInvoke', {
    action: 'lambda:InvokeFunction',
    functionName: rotate.functionArn,
    principal: 'secretsmanager.amazonaws.com',
    sourceAccount: Aws.ACCOUNT_ID,
  });
  return { setup, rotate, redeployPolicy, permission, securityGroup };
}
