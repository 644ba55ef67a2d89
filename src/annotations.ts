/**
 * Warnings that point at the user's code: the construct path is the outermost cdk-django construct
 * the user created (a DjangoApp, or the service they built by hand), and the trace starts at the
 * line that created it, not inside this library.
 */
import { sep } from 'node:path';
import { Annotations, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

const LIBRARY_CONSTRUCT = Symbol.for('cdk-django.construct');
/** This library's own directory (src/ in a checkout, lib/ when installed). */
const LIBRARY_DIR = __dirname + sep;

/** Marks a construct as one of this library's user-facing constructs. */
export function markLibraryConstruct(construct: IConstruct): void {
  (construct as any)[LIBRARY_CONSTRUCT] = true;
}

/** The outermost cdk-django construct around (or at) `scope`: the one the user created. */
export function userConstructOf(scope: IConstruct): IConstruct {
  return scope.node.scopes.find((s) => (s as any)[LIBRARY_CONSTRUCT]) ?? scope;
}

/**
 * The stack frames of user code: without this library's own frames, its dependencies'
 * (anything under node_modules, where aws-cdk-lib and an installed cdk-django live) or Node's.
 */
export function userFrames(frames: readonly string[], libraryDir: string = LIBRARY_DIR): string[] {
  return frames.filter((f) => !f.includes(libraryDir) && !/[\\/]node_modules[\\/]/.test(f) && !/\(node:|^node:/.test(f));
}

/**
 * Adds a warning (acknowledgeable as `annotation::cdk-django:<id>`) on the user's construct around
 * `scope`, traced to the user's line.
 */
export function warnUser(scope: IConstruct, id: string, message: string): void {
  traced(scope, (target) => Validations.of(target).addWarning(`cdk-django:${id}`, message));
}

/** Adds an info message on the user's construct around `scope`, traced to the user's line. */
export function informUser(scope: IConstruct, message: string): void {
  traced(scope, (target) => Annotations.of(target).addInfo(message));
}

function traced(scope: IConstruct, add: (target: IConstruct) => void): void {
  const target = userConstructOf(scope);
  const before = new Set(target.node.metadata);
  add(target);
  const entry = target.node.metadata.find((m) => !before.has(m));
  if (entry?.trace) (entry as { trace?: string[] }).trace = userFrames(entry.trace);
}
