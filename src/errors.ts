import { ValidationError } from 'aws-cdk-lib/core/lib/errors';
import { IConstruct } from 'constructs';

/**
 * One thing wrong with the props: which prop, and what to do about it.
 * Pure validators (servers/, proxy/) return these; constructs turn them into errors.
 */
export interface Problem {
  readonly prop: string;
  readonly message: string;
}

/** Formats a problem the same way everywhere: `prop: what is wrong; what to do`. */
export function describeProblem(p: Problem): string {
  return `${p.prop}: ${p.message}`;
}

/**
 * Throws aws-cdk-lib's ValidationError (so `Errors.isValidationError(e)` holds) listing every problem.
 */
export function throwIfProblems(scope: IConstruct, problems: readonly Problem[]): void {
  if (problems.length === 0) return;
  const text = problems.map(describeProblem).join('\n  - ');
  throw new ValidationError(
    'DjangoInvalidProps' as any,
    problems.length === 1 ? text : `invalid props:\n  - ${text}`,
    scope,
  );
}

/** Error raised by a pure renderer that is handed options it cannot render (callers validate first). */
export class RenderError extends Error {
  constructor(problems: readonly Problem[]) {
    super(problems.map(describeProblem).join('; '));
    this.name = 'RenderError';
  }
}
