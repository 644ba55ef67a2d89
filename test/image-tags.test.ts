/**
 * Moving image tags warn at synth, at the user's construct: a new push would deploy nothing (the task
 * definition revision stays), so migrations do not run and a rollback cannot return to the old image.
 */
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { DjangoApp, DjangoGunicornService } from '../src';
import { movingImageReason } from '../src/image-tags';
import { newStack } from './helpers/template';

describe('the rule: a digest or a tag with a digit is a version; no tag, latest, or a word is moving', () => {
  test.each([
    ['example/mysite', /no tag/],
    ['example/mysite:latest', /latest/],
    ['registry.example:5000/mysite', /no tag/],
    ['registry.example:5000/mysite:stable', /'stable' names a channel/],
    ['mysite:main', /'main'/],
  ])('%s is moving', (ref, reason) => {
    expect(movingImageReason(ref)).toMatch(reason);
  });

  test.each([
    'example/mysite:1', 'example/mysite:1.4.2', 'example/mysite:v42', 'registry.example:5000/mysite:2026-11-30',
    'mysite:3f2c9e1', `example/mysite@sha256:${'a'.repeat(64)}`,
  ])('%s is a version', (ref) => {
    expect(movingImageReason(ref)).toBeUndefined();
  });
});

function movingWarnings(stack: Stack): Array<{ id: string; message: string }> {
  return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('can change under the same template'))
    .map((w) => ({ id: w.id, message: String(w.entry.data) }));
}

describe('the warning', () => {
  test('a DjangoApp with :latest warns once, at the DjangoApp (not at each of its services), naming the fix', () => {
    const stack = newStack();
    new DjangoApp(stack, 'Site', { image: ecs.ContainerImage.fromRegistry('example/mysite:latest'), requirements: { websockets: true } });
    const warnings = movingWarnings(stack);
    expect(warnings.map((w) => w.id)).toEqual(['/Test/Site']);
    expect(warnings[0].message).toMatch(/'example\/mysite:latest'.*migrations do not run.*a tag per build.*@sha256.*fromAsset/);
  });

  test('a service of its own with an untagged ECR image warns at the service', () => {
    const stack = newStack();
    const repo = ecr.Repository.fromRepositoryName(stack, 'Repo', 'mysite');
    new DjangoGunicornService(stack, 'Web', { image: ecs.ContainerImage.fromEcrRepository(repo) });
    expect(movingWarnings(stack).map((w) => w.id)).toEqual(['/Test/Web']);
  });

  test('versions, digests and asset images do not warn', () => {
    const stack = newStack();
    const repo = ecr.Repository.fromRepositoryName(stack, 'Repo', 'mysite');
    new DjangoGunicornService(stack, 'A', { image: ecs.ContainerImage.fromRegistry('example/mysite:1.4.2') });
    new DjangoGunicornService(stack, 'B', { image: ecs.ContainerImage.fromEcrRepository(repo, 'v42') });
    new DjangoGunicornService(stack, 'C', { image: ecs.ContainerImage.fromRegistry(`example/mysite@sha256:${'b'.repeat(64)}`) });
    new DjangoApp(stack, 'D', { image: ecs.ContainerImage.fromAsset(path.join(__dirname, '..', 'examples', 'mysite')) });
    expect(movingWarnings(stack)).toEqual([]);
  });
});
