import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { IConstruct } from 'constructs';
import { allowLogsToUseKey } from './logs-key';
import { acknowledgeFinding } from './nag';

/** The cdk-nag packs beyond AwsSolutions the library is clean against. */
export const COMPLIANCE_PACKS = ['NIST.800.53.R5', 'HIPAA.Security'] as const;

/** Acknowledges `rule` (e.g. `IAMNoInlinePolicy`) in the NIST 800-53 r5 and HIPAA Security packs. */
export function acknowledgeInPacks(scope: IConstruct, rule: string, reason: string): void {
  for (const pack of COMPLIANCE_PACKS) acknowledgeFinding(scope, `${pack}-${rule}`, reason);
}

const KEY_ID = 'CdkDjangoKey';

/**
 * The stack's customer-managed key (rotating, retained) for what the library creates without a key
 * of its own: CloudWatch log groups (containers, flow logs, handlers) and the SECRET_KEY secret.
 * One per stack, so a stack pays for one key however many services it holds.
 */
export function stackKey(scope: IConstruct): kms.IKey {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(KEY_ID) as kms.Key | undefined;
  if (existing) return existing;
  const key = new kms.Key(stack, KEY_ID, {
    description: 'cdk-django: encrypts log groups and the Django SECRET_KEY',
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  allowLogsToUseKey(key);
  return key;
}
