/**
 * Whether an image reference can move under the template (PURE: no aws-cdk-lib). A deploy pins every
 * migrations run and every service to a task definition revision; a tag that moves makes that pin
 * meaningless: a new push changes no revision, so nothing deploys and no migrations run, tasks started
 * later (scale-out, replacements) pull the new image against the old schema, and a rollback cannot go back.
 *
 * The rule: a digest (`@sha256:…`) is immutable; a tag is taken as a version when it holds a digit
 * (`1.4.2`, `v42`, `2026-11-30`, a git commit); no tag (which means `latest`), `latest`, and tags
 * without a digit (`stable`, `main`, `prod`) are moving. The library cannot see whether the registry
 * enforces immutable tags; a version-looking tag is trusted to be one.
 */

/** Why `reference` is a moving image reference, or undefined when it looks immutable. */
export function movingImageReason(reference: string): string | undefined {
  const lastSegment = reference.slice(reference.lastIndexOf('/') + 1);
  if (/@sha256:[0-9a-f]{64}$/.test(lastSegment)) return undefined;
  const colon = lastSegment.indexOf(':');
  if (colon < 0) return 'it has no tag, which means latest';
  const tag = lastSegment.slice(colon + 1);
  if (tag === 'latest') return 'latest moves with every push';
  if (!/[0-9]/.test(tag)) return `the tag '${tag}' names a channel, not a version`;
  return undefined;
}

/** The warning text for a moving reference: what goes wrong, and the fix. */
export function movingImageMessage(reference: string, reason: string): string {
  return `The image '${reference}' can change under the same template (${reason}). `
    + 'A new push then deploys nothing: the task definition revision stays, so migrations do not run, tasks started later '
    + '(scale-out, replacements) run the new image against the old schema, and a rollback cannot return to the old image. '
    + 'Give an immutable reference: a tag per build (e.g. \':1.4.2\' or the git commit), a digest (\'@sha256:...\'), '
    + 'or ContainerImage.fromAsset() (content-addressed).';
}

/** Constructs that take the moving-image warning for the services under them (DjangoApp: the user's construct). */
const owners = new WeakSet<object>();
const warned = new WeakSet<object>();

/** Makes `owner` the one construct that warns about its services' image. */
export function claimImageWarning(owner: object): void {
  owners.add(owner);
}

/**
 * Where the warning for a service goes: the nearest claiming ancestor, else the service itself; undefined
 * when that construct was already warned (the services of one DjangoApp share its image).
 * `scopes` runs from the root to the service, as `node.scopes` does.
 */
export function imageWarningTarget<T extends object>(scopes: T[]): T | undefined {
  const target = [...scopes].reverse().find((s) => owners.has(s)) ?? scopes[scopes.length - 1];
  if (warned.has(target)) return undefined;
  warned.add(target);
  return target;
}
