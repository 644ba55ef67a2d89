import type { Duration } from 'aws-cdk-lib';

/**
 * Seconds of a Duration (possibly fractional or NaN, so validation can report it against the prop),
 * or the fallback. `integral: false`: the plain conversion throws, naming no prop, on a fraction of a millisecond.
 */
export function secondsOf(d: Duration | undefined, fallback: number): number {
  return d === undefined ? fallback : d.toMilliseconds({ integral: false }) / 1000;
}
