import { Problem } from '../problems';

/**
 * Problems for props another leaf has and this one does not, given anyway: TypeScript refuses them, but
 * Python users and object spreads of one service's props into another pass them untyped, and a
 * silently ignored `cache` or `websocketPaths` deploys a site without what was asked for.
 * `foreign` maps each such prop to what to do instead.
 */
export function foreignPropProblems(props: object, foreign: { [prop: string]: string }): Problem[] {
  const given = props as { [prop: string]: unknown };
  return Object.entries(foreign).filter(([prop]) => given[prop] !== undefined).map(([prop, message]) => ({ prop, message }));
}
