import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';

/**
 * Lets CloudWatch Logs of this account and region encrypt log groups with `key`: the statement the
 * CloudWatch Logs documentation gives for KMS encryption (the regional logs principal, the Encrypt*,
 * Decrypt*, ReEncrypt*, GenerateDataKey* and Describe* actions), limited by the log group ARN in the
 * encryption context. `logGroupNames` narrows it to some groups (e.g. `/aws/rds/cluster/x/*`); the default
 * `*` is any group, for keys that must not depend on the log groups that depend on them.
 * Returns whether the statement was added: an imported key's policy cannot be extended here.
 */
export function allowLogsToUseKey(key: kms.IKey, logGroupNames = '*'): boolean {
  return key.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'], // in a key policy, '*' is this key
    conditions: {
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${logGroupNames}` },
    },
  }), true).statementAdded;
}
