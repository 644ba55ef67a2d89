/**
 * Plain statistics for the benchmark fragments: medians with their range, a least-squares line, and the
 * growth verdict of a measure against a count (linear, or not, or too noisy to say); for the server
 * benchmark, percentiles, throughput at a p99 bound, the selection verdict and the spread over workers. No I/O.
 */

/** A median and the range it came from. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('spread: no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

/** (max - min) / median: how far apart the repetitions are, as a fraction of the figure. */
export function relativeSpread(s: Spread): number {
  return s.median === 0 ? 0 : (s.max - s.min) / s.median;
}

/** y = intercept + slope * x, fitted by least squares, with the coefficient of determination. */
export interface LinearFit {
  readonly slope: number;
  readonly intercept: number;
  readonly r2: number;
}

export function linearFit(points: ReadonlyArray<readonly [number, number]>): LinearFit {
  const xs = new Set(points.map(([x]) => x));
  if (xs.size < 2) throw new Error('linearFit: needs points at two or more x values');
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const ssTot = points.reduce((s, [, y]) => s + (y - my) ** 2, 0);
  const ssRes = points.reduce((s, [x, y]) => s + (y - (intercept + slope * x)) ** 2, 0);
  return { slope, intercept, r2: ssTot === 0 ? 1 : 1 - ssRes / ssTot };
}

/** How a measure grows with the count, from the repetitions at three or more counts. */
export interface Growth {
  readonly fit: LinearFit;
  /** The two largest counts, `large / small` (50 and 10: 5). */
  readonly small: number;
  readonly large: number;
  /** t(large) / t(small) of the medians; below large/small when there is a fixed start-up part. */
  readonly ratio: number;
  /**
   * The cost of each added app above `small`, over the cost of each added app up to `small` (from the
   * smallest count): 1 when the growth is linear, above 1 when each app costs more in a bigger app.
   */
  readonly marginalRatio: Spread;
  readonly verdict: 'linear' | 'superlinear' | 'sublinear' | 'too noisy to tell' | 'too few repetitions';
}

/** A median marginal ratio inside this band counts as linear... */
export const LINEAR_BAND: readonly [number, number] = [0.8, 1.25];
/** ...when the extremes of the repetitions cannot make it half or double that. */
export const SAFE_RANGE: readonly [number, number] = [0.5, 2];

/** No verdict from fewer repetitions than this at any count. */
export const MIN_REPETITIONS = 3;

/**
 * The growth of a measure over counts (e.g. 1, 10, 50). The marginal ratio's range is taken from the
 * extremes of the repetitions (the most and least favourable combinations), so wide spreads widen it.
 * Superlinear (or sublinear) only when the whole range lies above (below) the band; linear when the
 * median lies in the band and the range stays within SAFE_RANGE; else too noisy to tell.
 */
export function growth(byCount: ReadonlyMap<number, readonly number[]>): Growth {
  const counts = [...byCount.keys()].sort((a, b) => a - b);
  if (counts.length < 3) throw new Error(`growth: needs three or more counts, got ${counts.join(', ')}`);
  const [first, small, large] = [counts[0], counts[counts.length - 2], counts[counts.length - 1]];
  const at = (c: number) => spread(byCount.get(c)!);
  const [s0, s1, s2] = [at(first), at(small), at(large)];
  const marginal = (y0: number, y1: number, y2: number) => ((y2 - y1) / (large - small)) / ((y1 - y0) / (small - first));
  const m = marginal(s0.median, s1.median, s2.median);
  const candidates = [
    marginal(s0.max, s1.max, s2.min), marginal(s0.min, s1.min, s2.max),
    marginal(s0.max, s1.min, s2.max), marginal(s0.min, s1.max, s2.min),
  ].filter((v) => Number.isFinite(v));
  // A denominator at or below zero (the small count no dearer than the first) makes the ratio meaningless.
  const lowStep = s1.min - s0.max <= 0;
  const range = { median: m, min: Math.min(m, ...candidates), max: Math.max(m, ...candidates), n: 3 };
  let verdict: Growth['verdict'];
  if ([s0, s1, s2].some((x) => x.n < MIN_REPETITIONS)) verdict = 'too few repetitions';
  else if (lowStep || !Number.isFinite(m)) verdict = 'too noisy to tell';
  else if (range.min > LINEAR_BAND[1]) verdict = 'superlinear';
  else if (range.max < LINEAR_BAND[0]) verdict = 'sublinear';
  else if (m >= LINEAR_BAND[0] && m <= LINEAR_BAND[1] && range.min >= SAFE_RANGE[0] && range.max <= SAFE_RANGE[1]) verdict = 'linear';
  else verdict = 'too noisy to tell';
  const points: Array<[number, number]> = [];
  for (const c of counts) for (const y of byCount.get(c)!) points.push([c, y]);
  return { fit: linearFit(points), small, large, ratio: s2.median / s1.median, marginalRatio: range, verdict };
}

// --- The server benchmark: percentiles, throughput at a p99 bound, the selection verdict, spread over workers ---

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  if (p < 0 || p > 100) throw new Error(`percentile must be in 0..100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
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
export function selectionVerdict(pick: string, candidates: readonly Candidate[], tolerance = 0.10): Verdict {
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
