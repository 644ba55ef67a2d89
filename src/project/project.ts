/**
 * The CDK side of the project checks: finds the directory an image is built from and reads it once.
 */
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { ProjectLayout, readProjectLayout } from './layout';

/**
 * The local directory `ContainerImage.fromAsset(dir)` builds from, or undefined for any other image.
 * AssetImage keeps it in a field that is private in its types only; a test pins that it is there.
 */
export function assetDirectoryOf(image: ecs.ContainerImage): string | undefined {
  const directory = image instanceof ecs.AssetImage ? (image as unknown as { directory?: unknown }).directory : undefined;
  return typeof directory === 'string' ? directory : undefined;
}

/** The Django project the image is built from, when it is built from a local directory that has a manage.py. */
export function projectLayoutOf(image: ecs.ContainerImage): ProjectLayout | undefined {
  const directory = assetDirectoryOf(image);
  return directory === undefined ? undefined : readProjectLayout(directory);
}
