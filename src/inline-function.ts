import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeInPacks, stackKey } from './compliance';
import { acknowledgeFinding } from './nag';

/** The runtimes of the library's inline handlers, one per language, each named once. */
export const INLINE_RUNTIMES = {
  python: lambda.Runtime.PYTHON_3_14,
  node: lambda.Runtime.NODEJS_24_X,
} as const;

/** Where a function in the VPC runs. */
export interface InlineFunctionNetwork {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly securityGroups: ec2.ISecurityGroup[];
}

/** What one inline handler is. */
export interface InlineFunctionOptions {
  /** The handler's whole source (no bundling). */
  readonly source: string;
  readonly language: keyof typeof INLINE_RUNTIMES;
  /** The exported function, without the `index.` module. */
  readonly handler: string;
  /** Shown in the console; cut to Lambda's 256 characters. */
  readonly description: string;
  /** Also the role's and the policy's description. */
  readonly roleDescription: string;
  readonly timeout: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** What the function may do besides writing its log group (more can be added to `policy` later). */
  readonly statements?: iam.PolicyStatement[];
  /** Further customer-managed policies of the role. */
  readonly managedPolicies?: iam.IManagedPolicy[];
  readonly environment?: { [name: string]: string };
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** Runs in the VPC. @default - outside any VPC: `outsideVpc` says why */
  readonly network?: InlineFunctionNetwork;
  /** Why the function needs no VPC (the NIST/HIPAA LambdaInsideVPC acknowledgement); needed without `network`. */
  readonly outsideVpc?: string;
  /** Why no reserved concurrency (LambdaConcurrency): who invokes it, how often. */
  readonly concurrency: string;
  /** Why no dead-letter queue (LambdaDLQ): where a failure goes instead. */
  readonly deadLetter: string;
  /** The construct id of the function. @default - the `name` given to `inlineFunction` */
  readonly functionId?: string;
}

/** The parts of an inline handler. */
export interface InlineFunction {
  readonly function: lambda.Function;
  /** The role, closed to grants: add rights to `policy`. */
  readonly role: iam.IRole;
  /** The role's customer-managed policy (no inline policy). */
  readonly policy: iam.ManagedPolicy;
  readonly logGroup: logs.LogGroup;
}

/**
 * One of the library's small inline handlers: a log group encrypted with the stack key, a role whose rights sit
 * in one customer-managed policy (NIST/HIPAA IAMNoInlinePolicy) and include writing that log group, the function
 * on the language's runtime with JSON logs, in the VPC or not, and the cdk-nag acknowledgements every such
 * handler needs, each with the caller's reason. Parts are `<name>Logs`, `<name>Role`, `<name>Policy` and the
 * function `functionId ?? name`, so their logical ids (and a custom resource's ServiceToken) stay put.
 */
export function inlineFunction(scope: Construct, name: string, o: InlineFunctionOptions): InlineFunction {
  if (!o.network && !o.outsideVpc) throw new Error(`inline function ${name}: say why it runs outside the VPC (outsideVpc)`);
  const logGroup = new logs.LogGroup(scope, `${name}Logs`, { retention: o.logRetention ?? logs.RetentionDays.ONE_YEAR, encryptionKey: stackKey(scope) });
  const policy = new iam.ManagedPolicy(scope, `${name}Policy`, {
    description: o.roleDescription,
    statements: [
      ...(o.statements ?? []),
      new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
    ],
  });
  const managedPolicies: iam.IManagedPolicy[] = [policy, ...(o.managedPolicies ?? [])];
  if (o.network) managedPolicies.push(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
  const role = new iam.Role(scope, `${name}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: o.roleDescription,
    managedPolicies,
  });
  if (o.network) {
    acknowledgeFinding(role, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      'The AWS-managed policy that lets a function in a VPC create and delete its network interfaces; it grants nothing else.');
  }
  const fn = new lambda.Function(scope, o.functionId ?? name, {
    code: lambda.Code.fromInline(o.source),
    handler: `index.${o.handler}`,
    runtime: INLINE_RUNTIMES[o.language],
    timeout: o.timeout,
    memorySize: o.memorySize ?? 256,
    role: role.withoutPolicyUpdates(),
    ...(o.network ? { vpc: o.network.vpc, vpcSubnets: o.network.vpcSubnets, securityGroups: o.network.securityGroups } : {}),
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    environment: o.environment,
    description: o.description.slice(0, 256),
  });
  acknowledgeInPacks(fn, 'LambdaConcurrency', o.concurrency);
  acknowledgeInPacks(fn, 'LambdaDLQ', o.deadLetter);
  if (!o.network) acknowledgeInPacks(fn, 'LambdaInsideVPC', o.outsideVpc!);
  return { function: fn, role: role.withoutPolicyUpdates(), policy, logGroup };
}
