import { ValidationError } from 'aws-cdk-lib/core/lib/errors';
import { IConstruct } from 'constructs';
import { describeProblem, Problem } from './problems';

/**
 * Throws aws-cdk-lib's ValidationError (so `Errors.isValidationError(e)` holds) listing every problem.
 * The only place that turns problems into an error: the pure layers (problems.ts) never load aws-cdk-lib.
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
