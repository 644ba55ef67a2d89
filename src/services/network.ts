import { ArnFormat, Aws, CfnCondition, CfnMapping, Duration, Fn, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { FactName, RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import { acknowledgeInPacks, stackKey } from '../compliance';
import { regionCondition } from '../conditions';
import { protectAfterCreate } from '../deletion-protection';
import { DjangoVpcEndpoints } from '../endpoints';
import { acknowledgeFinding } from '../nag';
import { ELB_LOG_DELIVERY_PRINCIPAL, elbAccounts, regionFacts } from '../regions';
import { contentLengthAboveRegex } from './body-limit';
import { DEFAULT_NAT_GATEWAYS, interfaceEndpointsOf } from './placement';
import { DjangoVpcOptions } from './placement-props';

/**
 * A VPC over 2 AZs, one NAT gateway per AZ unless `options` say fewer, no public IPs on launch, flow
 * logs to CloudWatch. Without NAT the private subnets are isolated and reach AWS through VPC endpoints.
 */
export function createVpc(scope: Construct, options?: DjangoVpcOptions): ec2.Vpc {
  const natGateways = options?.natGateways ?? DEFAULT_NAT_GATEWAYS;
  // The same subnet name either way: its logical ids stay, only the route out changes.
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    maxAzs: 2,
    natGateways,
    restrictDefaultSecurityGroup: true,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: false },
      { name: 'app', subnetType: natGateways === 0 ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS },
    ],
  });
  const endpoints = interfaceEndpointsOf(options);
  if (endpoints.length > 0) {
    const created = new DjangoVpcEndpoints(scope, 'VpcEndpoints', { vpc, subnets: { subnetGroupName: 'app' } });
    for (const service of endpoints) created.addInterfaceEndpoint(service);
  }
  const flowLog = vpc.addFlowLog('FlowLogs', {
    destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(scope, 'FlowLogsGroup', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey: stackKey(scope),
    })),
    trafficType: ec2.FlowLogTrafficType.ALL,
  });
  acknowledgeInPacks(flowLog, 'IAMNoInlinePolicy',
    'The flow log role\'s only policy is the one CDK generates for this role and log group (least privilege); a managed policy could be attached to other principals.');
  for (const subnet of vpc.publicSubnets) {
    acknowledgeInPacks(subnet, 'VPCNoUnrestrictedRouteToIGW',
      'Public subnets hold only the internet-facing load balancer and the NAT gateways, which need the route to the internet gateway; tasks run in private subnets without public IPs.');
  }
  return vpc;
}

/** Load balancer options beyond the defaults. */
export interface LoadBalancerOptions {
  readonly idleTimeoutSeconds: number;
  readonly deletionProtection: boolean;
  /** A new web ACL (see `attachWebAcl`). */
  readonly waf: boolean;
  /** An existing web ACL to associate instead. */
  readonly webAclArn?: string;
  /** The largest request body the proxy accepts, in bytes: the web ACL refuses larger declared bodies. */
  readonly maxBodyBytes: number;
  readonly logRetention?: logs.RetentionDays;
}

/** What the web ACL option created. */
export interface WebAclParts {
  readonly webAcl?: wafv2.CfnWebACL;
  readonly logGroup?: logs.LogGroup;
}

/** An internet-facing ALB that drops invalid headers, with access logs to a new bucket. */
export function createLoadBalancer(scope: Construct, vpc: ec2.IVpc, options: LoadBalancerOptions): {
  alb: elbv2.ApplicationLoadBalancer; bucket: s3.Bucket; waf: WebAclParts;
} {
  const alb = new elbv2.ApplicationLoadBalancer(scope, 'LoadBalancer', {
    vpc,
    internetFacing: true,
    dropInvalidHeaderFields: true,
    idleTimeout: Duration.seconds(options.idleTimeoutSeconds),
    http2Enabled: true,
  });
  // Not in the template: set once the stack's create succeeded, so a failed create rolls back (see protectAfterCreate).
  alb.removeAttribute('deletion_protection.enabled');
  protectAfterCreate(alb, 'LoadBalancer', alb.loadBalancerArn, alb.loadBalancerArn, options.deletionProtection);
  let waf: WebAclParts = {};
  if (options.waf) {
    waf = attachWebAcl(scope, alb, options.maxBodyBytes, options.logRetention);
  } else if (options.webAclArn) {
    // The same construct id as a new ACL's association: switching between the two updates it.
    new wafv2.CfnWebACLAssociation(scope, 'WebAclAssociation', { resourceArn: alb.loadBalancerArn, webAclArn: options.webAclArn });
  } else {
    acknowledgeInPacks(alb, 'ALBWAFEnabled',
      'No web ACL by default (about 10 USD a month); set waf: true for AWS managed rules (common, known bad inputs, IP reputation) on this load balancer.');
  }
  acknowledgeInPacks(alb, 'ELBDeletionProtectionEnabled', options.deletionProtection
    ? 'Deletion protection is switched on by Custom::DjangoDeletionProtection once the load balancer exists, not in the template, so that the rollback of a failed first create can delete it.'
    : 'loadBalancerDeletionProtection was turned off explicitly (e.g. a short-lived environment).');
  acknowledgeFinding(alb.connections.securityGroups[0], 'AwsSolutions-EC23',
    'The internet-facing load balancer accepts HTTP/HTTPS from anywhere by design; the tasks admit only this load balancer.');
  const bucket = new s3.Bucket(scope, 'AccessLogs', {
    encryption: s3.BucketEncryption.S3_MANAGED, // the only encryption ALB log delivery supports
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    versioned: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: RemovalPolicy.RETAIN,
    lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
  });
  const selfLogging = 'This bucket is itself the access-log destination of the load balancer; logging it to another bucket would only move the question.';
  acknowledgeFinding(bucket, 'AwsSolutions-S1', selfLogging);
  acknowledgeInPacks(bucket, 'S3BucketLoggingEnabled', selfLogging);
  acknowledgeInPacks(bucket, 'S3DefaultEncryptionKMS', 'Load balancer access log delivery supports only SSE-S3 (AES256) on the destination bucket.');
  acknowledgeInPacks(bucket, 'S3BucketReplicationEnabled',
    'Access logs expire after a year and are not needed to restore service; cross-region replication is a disaster-recovery choice left to the account.');
  enableAccessLogs(alb, bucket, 'alb');
  return { alb, bucket, waf };
}

/**
 * Turns on ALB access logs in every commercial region, also in environment-agnostic stacks
 * (`alb.logAccessLogs` needs a concrete region). Log delivery is granted to the principal AWS uses in
 * the region (src/regions.ts): the regional ELB account in regions opened before August 2022, the
 * log delivery service principal since. Environment-agnostic templates grant the service principal
 * everywhere (the safe default, also for regions newer than the list) and add the ELB account only
 * under a condition listing exactly the regions of the account map, so no lookup can fail.
 */
export function enableAccessLogs(alb: elbv2.ApplicationLoadBalancer, bucket: s3.Bucket, prefix: string): void {
  const stack = Stack.of(alb);
  const objects = bucket.arnForObjects(`${prefix}/AWSLogs/${Aws.ACCOUNT_ID}/*`);
  const principals: iam.IPrincipal[] = [];
  if (Token.isUnresolved(stack.region)) {
    const { map, condition } = elbAccountLookup(stack);
    principals.push(new iam.ServicePrincipal(ELB_LOG_DELIVERY_PRINCIPAL));
    principals.push(new iam.ArnPrincipal(Fn.conditionIf(condition.logicalId,
      `arn:${Aws.PARTITION}:iam::${map.findInMap(Aws.REGION, 'account')}:root`, Aws.NO_VALUE).toString()));
  } else {
    const account = elbAccountOf(stack.region);
    principals.push(account ? new iam.AccountPrincipal(account) : new iam.ServicePrincipal(ELB_LOG_DELIVERY_PRINCIPAL));
  }
  bucket.addToResourcePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], principals, resources: [objects] }));
  alb.setAttribute('access_logs.s3.enabled', 'true');
  alb.setAttribute('access_logs.s3.bucket', bucket.bucketName);
  alb.setAttribute('access_logs.s3.prefix', prefix);
  // The ALB writes a test object when logging is enabled: the policy must exist first.
  if (bucket.policy) alb.node.addDependency(bucket.policy);
}

/**
 * The ELB accounts by region: the commercial regions from src/regions.ts, the other partitions (China,
 * GovCloud, ISO) from aws-cdk-lib's region facts, which src/regions.ts does not cover.
 */
function allElbAccounts(): { [region: string]: string } {
  const others = Object.entries(RegionInfo.regionMap(FactName.ELBV2_ACCOUNT))
    .filter(([region]) => partitionOf(region) !== 'aws');
  return { ...Object.fromEntries(others), ...elbAccounts() };
}

/** The partition of a region code, by its prefix. */
function partitionOf(region: string): string {
  return RegionInfo.get(region).partition ?? 'aws';
}

/** The ELB account of a concrete region, or undefined where the service principal delivers the logs. */
function elbAccountOf(region: string): string | undefined {
  return regionFacts(region) ? regionFacts(region)!.elbAccount : allElbAccounts()[region];
}

/** One per stack: the ELB account map and the condition "this region is in the map". */
function elbAccountLookup(stack: Stack): { map: CfnMapping; condition: CfnCondition } {
  const accounts = allElbAccounts();
  const map = (stack.node.tryFindChild('CdkDjangoElbAccounts') as CfnMapping | undefined) ?? new CfnMapping(stack, 'CdkDjangoElbAccounts', {
    mapping: Object.fromEntries(Object.entries(accounts).map(([region, account]) => [region, { account }])),
  });
  return { map, condition: regionCondition(stack, 'CdkDjangoElbAccountRegion', Object.keys(accounts)) };
}

/**
 * A regional WAFv2 web ACL on the load balancer: AWS managed rule groups (common rule set, known bad
 * inputs, IP reputation) and a body-size rule that follows the proxy's limit, with logs to an encrypted
 * log group.
 *
 * Request bodies: on an ALB, WAF inspects only the first 8 KB of a body. The common rule set's
 * SizeRestrictions_BODY blocks every body over 8 KB, far below what the proxy allows (10 MiB by
 * default): it is set to count. Instead a rule of our own blocks (413) a request whose Content-Length
 * declares more than the proxy's limit, before it reaches a task; bodies without Content-Length
 * (chunked) are limited by the proxy itself, which enforces the limit on every body. The managed rules'
 * body checks (SQL injection, XSS) see the first 8 KB of every body.
 */
function attachWebAcl(scope: Construct, alb: elbv2.ApplicationLoadBalancer, maxBodyBytes: number, retention?: logs.RetentionDays): WebAclParts {
  const managed = ['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet', 'AWSManagedRulesAmazonIpReputationList'];
  const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });
  const bodyRule: wafv2.CfnWebACL.RuleProperty = {
    name: 'BodyLargerThanProxyAllows',
    priority: 0,
    action: { block: { customResponse: { responseCode: 413 } } },
    statement: {
      regexMatchStatement: {
        fieldToMatch: { singleHeader: { Name: 'content-length' } },
        regexString: contentLengthAboveRegex(maxBodyBytes),
        textTransformations: [{ priority: 0, type: 'NONE' }],
      },
    },
    visibilityConfig: visibility('BodyLargerThanProxyAllows'),
  };
  const acl = new wafv2.CfnWebACL(scope, 'WebAcl', {
    scope: 'REGIONAL',
    defaultAction: { allow: {} },
    visibilityConfig: visibility('cdk-django'),
    rules: [bodyRule, ...managed.map((name, i): wafv2.CfnWebACL.RuleProperty => ({
      name,
      priority: i + 1,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name,
          ...(name === 'AWSManagedRulesCommonRuleSet'
            ? { ruleActionOverrides: [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }] }
            : {}),
        },
      },
      visibilityConfig: visibility(name),
    }))],
  });
  new wafv2.CfnWebACLAssociation(scope, 'WebAclAssociation', { resourceArn: alb.loadBalancerArn, webAclArn: acl.attrArn });

  // WAF requires the aws-waf-logs- prefix (so not /aws/vendedlogs/). The stack id's UUID makes the name
  // unique per stack creation: the retained group of a destroyed stack never collides with the next one.
  const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
  const logGroupName = `aws-waf-logs-${Names.uniqueResourceName(acl, { maxLength: 64, separator: '-' })}-${stackUuid}`;
  const logGroup = new logs.LogGroup(scope, 'WebAclLogs', {
    logGroupName,
    retention: retention ?? logs.RetentionDays.ONE_YEAR,
    removalPolicy: RemovalPolicy.RETAIN,
    encryptionKey: stackKey(scope),
  });
  // WAF takes the log group ARN without the ':*' suffix of the L2's logGroupArn. When logging is turned on,
  // WAF adds the delivery permission (delivery.logs.amazonaws.com) as a resource policy on this log group,
  // which needs the deploying role to hold logs:PutResourcePolicy, logs:DescribeResourcePolicies and
  // logs:DescribeLogGroups (the CDK bootstrap's execution role does).
  const logging = new wafv2.CfnLoggingConfiguration(scope, 'WebAclLogging', {
    resourceArn: acl.attrArn,
    logDestinationConfigs: [Stack.of(scope).formatArn({
      service: 'logs', resource: 'log-group', resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    })],
    // Session cookies and credentials stay out of the logs.
    redactedFields: [{ singleHeader: { Name: 'cookie' } }, { singleHeader: { Name: 'authorization' } }],
  });
  logging.node.addDependency(logGroup);
  return { webAcl: acl, logGroup };
}
