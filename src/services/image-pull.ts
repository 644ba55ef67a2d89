import { Stack, Token, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { imageWarningTarget, movingImageMessage, movingImageReason } from '../image-tags';
import { acknowledgeFinding } from '../nag';

/**
 * A moving image tag defeats the revision pinning of deploys, migrations and rollbacks: warn at the
 * user's construct (the DjangoApp when there is one). Asset images are content-addressed; a reference
 * whose tag is itself a token (a parameter) cannot be judged and is left alone.
 */
export function warnOnMovingImage(scope: Construct, image: ecs.ContainerImage, appContainer: ecs.ContainerDefinition): void {
  if (image instanceof ecs.AssetImage) return;
  const reference = imageReferenceText(Stack.of(scope), appContainer.imageName);
  const reason = reference === undefined ? undefined : movingImageReason(reference);
  if (reason === undefined) return;
  const target = imageWarningTarget(scope.node.scopes);
  if (target) Validations.of(target).addWarning('cdk-django:moving-image-tag', movingImageMessage(reference!, reason));
}

/**
 * An image from ECR (fromAsset, fromEcrRepository) makes the execution role call
 * ecr:GetAuthorizationToken, which has no resource-level permissions: acknowledge exactly that.
 */
export function acknowledgeImagePull(taskDefinition: ecs.TaskDefinition): void {
  const policy = taskDefinition.executionRole?.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  const statements: any[] = policy ? (policy.document.toJSON()?.Statement ?? []) : [];
  const tokenOnStar = statements.some((s) => s.Resource === '*' && [s.Action].flat().includes('ecr:GetAuthorizationToken'));
  if (tokenOnStar) {
    acknowledgeFinding(policy!, 'AwsSolutions-IAM5[Resource::*]',
      'ecr:GetAuthorizationToken (pulling the app image from ECR) supports no resource-level permissions; the image pull itself is scoped to its repository.');
  }
}

/**
 * The judgeable text of an image name: itself when literal; for a token (an ECR repository URI) the literal
 * end after the last token, e.g. `/mysite:1.2.3`. Undefined when the name ends in a token (a tag parameter).
 */
function imageReferenceText(stack: Stack, imageName: string): string | undefined {
  if (!Token.isUnresolved(imageName)) return imageName;
  const resolved = stack.resolve(imageName);
  if (typeof resolved === 'string') return resolved;
  const join = resolved?.['Fn::Join'];
  if (!Array.isArray(join) || join[0] !== '') return undefined;
  const parts: unknown[] = join[1];
  const last = parts[parts.length - 1];
  if (typeof last !== 'string') return undefined;
  if (last.includes('/')) return last;
  return /^[:@]/.test(last) ? `<repository>${last}` : undefined;
}
