/**
 * What validation finds, as plain data (pure: no aws-cdk-lib). Renderers and selection return these;
 * constructs turn them into a ValidationError with `throwIfProblems` (errors.ts).
 */

/**
 * One thing wrong with the props: which prop, and what to do about it.
 */
export interface Problem {
  readonly prop: string;
  readonly message: string;
}

/** Formats a problem the same way everywhere: `prop: what is wrong; what to do`. */
export function describeProblem(p: Problem): string {
  return `${p.prop}: ${p.message}`;
}

/** Problems of a nested construct's options, named by the prop that holds them (`database.port`). */
export function nestedProblems(prop: string, problems: readonly Problem[]): Problem[] {
  return problems.map((p) => ({ prop: `${prop}.${p.prop}`, message: p.message }));
}

/** Error raised by a pure renderer that is handed options it cannot render (callers validate first). */
export class RenderError extends Error {
  constructor(problems: readonly Problem[]) {
    super(problems.map(describeProblem).join('; '));
    this.name = 'RenderError';
  }
}
