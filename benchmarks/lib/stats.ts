/**
 * The benchmark's arithmetic, pure: percentiles, repetitions summarized as median with min-max, when two
 * figures can be told apart, throughput at a p99 bound, and the selection verdict.
 */

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  if (p < 0 || p > 100) throw new Error(`percentile must be in 0..100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** Repetitions of one figure: the median, with the smallest and largest run. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('spread of no runs');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs: sorted.length };
}

/** Whether two figures' min-max ranges overlap: then which is larger is not safe to say. */
export function overlaps(a: Spread, b: Spread): boolean {
  return a.min <= b.max && b.min <= a.max;
}

/** One run's outcome, as the throughput-at-bound rule needs it. */
export interface RunFigure {
  readonly rps: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly failed: number;
}

/**
 * Throughput at a p99 bound: the run's requests per second when its p99 stays within the bound and at
 * most `maxFailedShare` of its requests failed, else 0 (the layout did not serve that load acceptably).
 */
export function throughputAtBound(run: RunFigure, p99BoundMs: number, maxFailedShare = 0.01): number {
  if (run.requests === 0) return 0;
  if (!(run.p99Ms <= p99BoundMs)) return 0;
  if (run.failed / (run.requests + run.failed) > maxFailedShare) return 0;
  return run.rps;
}

/** How one layout's figure compares with the pick's. */
export interface Candidate {
  readonly layout: string;
  readonly figure: Spread;
}

export interface Verdict {
  readonly pick: string;
  readonly best: string;
  /** The pick's median over the best median (1 when the pick is the best). */
  readonly ratio: number;
  /** The pick comes within the tolerance of the best. */
  readonly pass: boolean;
  /** The pick's and the best's ranges overlap: the ranking between them is within the noise. */
  readonly unsafe: boolean;
}

/**
 * The selection verdict for one profile: the pick must reach (1 - tolerance) of the best median
 * among the candidates (the pick included).
 */
export function verdict(pick: string, candidates: readonly Candidate[], tolerance = 0.10): Verdict {
  const picked = candidates.find((c) => c.layout === pick);
  if (!picked) throw new Error(`the pick ${pick} was not measured`);
  const best = candidates.reduce((a, b) => (b.figure.median > a.figure.median ? b : a));
  const ratio = best.figure.median === 0 ? (picked.figure.median === 0 ? 1 : Infinity) : picked.figure.median / best.figure.median;
  return {
    pick,
    best: best.layout,
    ratio,
    pass: ratio >= 1 - tolerance,
    unsafe: best.layout !== pick && overlaps(picked.figure, best.figure),
  };
}

/**
 * How evenly requests spread over worker processes: the busiest worker's share over the fair share
 * (1 is even; 2 means one worker did twice its share), and the idlest's.
 */
export function workerSpread(
  counts: Readonly<Record<string, number>>, expectedWorkers: number,
): { busiest: number; idlest: number; workersSeen: number } {
  const values = Object.values(counts);
  const total = values.reduce((a, b) => a + b, 0);
  if (total === 0 || expectedWorkers < 1) return { busiest: NaN, idlest: NaN, workersSeen: 0 };
  const fair = total / expectedWorkers;
  const padded = [...values, ...Array(Math.max(0, expectedWorkers - values.length)).fill(0)];
  return { busiest: Math.max(...padded) / fair, idlest: Math.min(...padded) / fair, workersSeen: values.length };
}
