import { Aws, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IConstruct } from 'constructs';
import { DELETION_PROTECTION_HANDLER_SOURCE } from './deletion-protection-handler';
import { inlineFunction } from './inline-function';

/** What `protectAfterCreate` protects. */
export type ProtectedKind = 'LoadBalancer' | 'DBCluster' | 'DBInstance';

const SINGLETON_ID = 'CdkDjangoDeletionProtection';

/**
 * Deletion protection that belongs to a created stack, not to its template.
 *
 * In the template, deletion protection on the load balancer or the database turns the rollback of a
 * failed first create into ROLLBACK_FAILED (CloudFormation cannot delete a protected resource, and
 * retries refuse a stack in that state until someone cleans up by hand); it also blocks the rollback
 * of an update that created a replacement. So the template leaves the property out, and a
 * `Custom::DjangoDeletionProtection` resource sets it once the target exists, and takes it off again
 * when the resource is deleted: CloudFormation deletes it before its target (it references the
 * target), so every rollback and every removal finds the target unprotected. While the whole stack
 * is being deleted, protection stays on, and the deletion stops at the target, as it should.
 *
 * The property is left out of the template (not set to false) so that CloudFormation's own updates
 * of the target never reset what the custom resource set.
 *
 * Weighed and not chosen: `RetainExceptOnCreate` alone deletes on a failed create but cannot delete a
 * protected resource either, and it would leave a database with a fixed identifier behind on
 * `cdk destroy`, which the next create collides with; stack termination protection only guards
 * `DeleteStack` (the README recommends it on top), not the console or the API.
 */
export function protectAfterCreate(scope: Construct, kind: ProtectedKind, target: string, targetArn: string, enabled: boolean,
  waitFor: IConstruct[] = []): CustomResource {
  const handler = handlerOf(scope);
  const action = kind === 'LoadBalancer' ? 'elasticloadbalancing:ModifyLoadBalancerAttributes'
    : kind === 'DBCluster' ? 'rds:ModifyDBCluster' : 'rds:ModifyDBInstance';
  handler.policy.addStatements(new iam.PolicyStatement({ actions: [action], resources: [targetArn] }));
  const resource = new CustomResource(scope, 'DeletionProtection', {
    serviceToken: handler.function.functionArn,
    resourceType: 'Custom::DjangoDeletionProtection',
    properties: { Kind: kind, Target: target, Enabled: String(enabled) },
  });
  // The handler's permissions first; and for a cluster, its instances: RDS refuses modifications while they are added.
  resource.node.addDependency(handler.policy);
  for (const c of waitFor) resource.node.addDependency(c);
  return resource;
}

/**
 * The stack's one handler (`CdkDjangoDeletionProtection`): the function, its role and log group, and the
 * acknowledgements they need. At the stack's root, so its logical ids (and every custom resource's
 * ServiceToken, which CloudFormation refuses to change) stay the same whichever construct needs it first.
 */
export class DeletionProtectionHandler extends Construct {
  /** The handler function. */
  public readonly function: lambda.Function;
  /** The handler's rights: each protected target adds its own. */
  public readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const handler = inlineFunction(this, '', {
      functionId: 'Handler',
      source: DELETION_PROTECTION_HANDLER_SOURCE,
      language: 'node',
      handler: 'handler',
      description: 'cdk-django: deletion protection that belongs to the created stack, not to its template',
      roleDescription: 'cdk-django: turns deletion protection on after create, off before a rollback or removal deletes the resource',
      // up to 20 attempts 15 s apart while a database settles
      timeout: Duration.minutes(6),
      statements: [new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [Aws.STACK_ID] })],
      concurrency: 'CloudFormation invokes the handler once per deletion-protection resource and stack operation; reserved concurrency would only take capacity from the account.',
      deadLetter: 'CloudFormation invokes the handler synchronously through the custom resource and learns of every failure from its response; there is no asynchronous event to lose.',
      outsideVpc: 'The handler calls only the Elastic Load Balancing, RDS and CloudFormation APIs and reaches nothing inside the VPC.',
    });
    this.function = handler.function;
    this.policy = handler.policy;
  }
}

function handlerOf(scope: Construct): DeletionProtectionHandler {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(SINGLETON_ID) as DeletionProtectionHandler | undefined;
  return existing ?? new DeletionProtectionHandler(stack, SINGLETON_ID);
}
