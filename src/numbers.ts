import { Problem } from './problems';

/** Whether `n` is a whole number from `min` to `max` (pure; the one integer check of the library). */
export function isWholeNumber(n: number | undefined, min: number = -Number.MAX_SAFE_INTEGER, max: number = Number.MAX_SAFE_INTEGER): boolean {
  return n !== undefined && Number.isInteger(n) && n >= min && n <= max;
}

/**
 * A problem unless `value` is a whole number within [min, max]; `unit` (e.g. 'seconds') goes into the
 * message. Without `max`, the message says `>= min`.
 */
export function wholeNumberProblem(prop: string, value: number, min: number, max?: number, unit?: string): Problem[] {
  if (isWholeNumber(value, min, max)) return [];
  const what = unit ? `a whole number of ${unit}` : 'a whole number';
  const range = max === undefined ? `>= ${min}` : `from ${min} to ${max}`;
  return [{ prop, message: `must be ${what} ${range}, got ${value}` }];
}

/** A problem unless `value` is a whole number of seconds within [min, max]. */
export function wholeSecondsProblem(prop: string, value: number, min: number, max?: number): Problem[] {
  return wholeNumberProblem(prop, value, min, max, 'seconds');
}
