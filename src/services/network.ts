import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { FactName } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import { acknowledgeFinding } from '../nag';

/** A VPC over 2 AZs, one NAT gateway per AZ, no public IPs on launch, flow logs to CloudWatch. */
export function createVpc(scope: Construct): ec2.Vpc {
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    maxAzs: 2,
    natGateways: 2,
    restrictDefaultSecurityGroup: true,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: false },
      { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    ],
  });
  vpc.addFlowLog('FlowLogs', {
    destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(scope, 'FlowLogsGroup', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    })),
    trafficType: ec2.FlowLogTrafficType.ALL,
  });
  return vpc;
}

/** An internet-facing ALB that drops invalid headers, with access logs to a new bucket. */
export function createLoadBalancer(scope: Construct, vpc: ec2.IVpc, idleTimeoutSeconds: number): {
  alb: elbv2.ApplicationLoadBalancer; bucket: s3.Bucket;
} {
  const alb = new elbv2.ApplicationLoadBalancer(scope, 'LoadBalancer', {
    vpc,
    internetFacing: true,
    dropInvalidHeaderFields: true,
    idleTimeout: Duration.seconds(idleTimeoutSeconds),
    http2Enabled: true,
  });
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
  acknowledgeFinding(bucket, 'AwsSolutions-S1',
    'This bucket is itself the access-log destination of the load balancer; logging it to another bucket would only move the question.');
  enableAccessLogs(alb, bucket, 'alb');
  return { alb, bucket };
}

/**
 * Turns on ALB access logs in a way that also works in environment-agnostic stacks
 * (`alb.logAccessLogs` needs a concrete region). Log delivery is granted to both principals AWS
 * uses: the regional ELB account (regions before August 2022, looked up through a CloudFormation
 * mapping; the own account stands in where the region has none) and the log delivery service
 * principal (newer regions).
 */
export function enableAccessLogs(alb: elbv2.ApplicationLoadBalancer, bucket: s3.Bucket, prefix: string): void {
  const stack = Stack.of(alb);
  const elbAccount = stack.regionalFact(FactName.ELBV2_ACCOUNT, Aws.ACCOUNT_ID);
  const objects = bucket.arnForObjects(`${prefix}/AWSLogs/${Aws.ACCOUNT_ID}/*`);
  bucket.addToResourcePolicy(new iam.PolicyStatement({
    actions: ['s3:PutObject'],
    principals: [new iam.ArnPrincipal(`arn:${Aws.PARTITION}:iam::${elbAccount}:root`)],
    resources: [objects],
  }));
  bucket.addToResourcePolicy(new iam.PolicyStatement({
    actions: ['s3:PutObject'],
    principals: [new iam.ServicePrincipal('logdelivery.elasticloadbalancing.amazonaws.com')],
    resources: [objects],
  }));
  alb.setAttribute('access_logs.s3.enabled', 'true');
  alb.setAttribute('access_logs.s3.bucket', bucket.bucketName);
  alb.setAttribute('access_logs.s3.prefix', prefix);
  // The ALB writes a test object when logging is enabled: the policy must exist first.
  if (bucket.policy) alb.node.addDependency(bucket.policy);
}
