import { growth, linearFit, spread } from '../../benchmarks/lib/stats';

/** Three repetitions at each count, each `y(n)` with the given relative jitter pattern. */
function series(y: (n: number) => number, jitter = [0, 0.01, -0.01], counts = [1, 10, 50]): Map<number, number[]> {
  return new Map(counts.map((n) => [n, jitter.map((j) => y(n) * (1 + j))]));
}

describe('spread', () => {
  test('takes the median and the range', () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spread([4, 1, 2, 3]).median).toBe(2.5);
  });
});

describe('linearFit', () => {
  test('recovers a line exactly', () => {
    const fit = linearFit([[1, 5], [10, 23], [50, 103]]);
    expect(fit.slope).toBeCloseTo(2, 10);
    expect(fit.intercept).toBeCloseTo(3, 10);
    expect(fit.r2).toBeCloseTo(1, 10);
  });

  test('needs two x values', () => {
    expect(() => linearFit([[1, 1], [1, 2]])).toThrow(/two or more x values/);
  });
});

describe('growth', () => {
  test('a fixed start-up plus a constant cost per app is linear, though t(50)/t(10) is below 5', () => {
    const g = growth(series((n) => 6000 + 300 * n));
    expect(g.verdict).toBe('linear');
    expect(g.marginalRatio.median).toBeCloseTo(1, 5);
    expect(g.ratio).toBeLessThan(5);
    expect(g.fit.slope).toBeCloseTo(300, 0);
  });

  test('a cost per app that grows with the app count is superlinear', () => {
    const g = growth(series((n) => 6000 + 300 * n + 20 * n * n));
    expect(g.verdict).toBe('superlinear');
    expect(g.marginalRatio.min).toBeGreaterThan(1.25);
  });

  test('repetitions that spread wider than the step are too noisy to tell', () => {
    const g = growth(series((n) => 6000 + 300 * n, [0, 0.5, -0.4]));
    expect(g.verdict).toBe('too noisy to tell');
  });

  test('one repetition gives no verdict', () => {
    expect(growth(series((n) => 6000 + 300 * n, [0])).verdict).toBe('too few repetitions');
  });

  test('needs three counts', () => {
    expect(() => growth(series((n) => n, [0, 0, 0], [1, 10]))).toThrow(/three or more counts/);
  });
});
