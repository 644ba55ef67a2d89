import { Aws, Stack } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { FactName } from 'aws-cdk-lib/region-info';

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
