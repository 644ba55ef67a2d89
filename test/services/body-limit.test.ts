import * as fc from 'fast-check';
import { contentLengthAboveRegex } from '../../src/services/body-limit';

describe('contentLengthAboveRegex', () => {
  test.each([0, 1, 9, 10, 99, 100, 8192, 1048576, 10485760, 2147483647])('matches exactly the values above %d', (limit) => {
    const re = new RegExp(contentLengthAboveRegex(limit));
    for (const v of [limit - 1, limit, limit + 1, limit * 10, limit + 9, Math.floor(limit / 10)].filter((x) => x >= 0)) {
      expect({ v, matches: re.test(String(v)) }).toEqual({ v, matches: v > limit });
    }
    expect(re.test(`  00${limit + 1} `)).toBe(true);
    expect(re.test(`00${limit}`)).toBe(false);
    expect(re.test('')).toBe(false);
    expect(re.test('12a')).toBe(false);
  });

  test('agrees with numeric comparison on arbitrary values (fast-check)', () => {
    fc.assert(fc.property(fc.nat(2 ** 40), fc.nat(2 ** 40), (limit, value) => {
      return new RegExp(contentLengthAboveRegex(limit)).test(String(value)) === value > limit;
    }), { numRuns: 2000 });
  });

  test('stays within the 512 characters AWS WAF allows for a regex, and uses no lookaround', () => {
    const re = contentLengthAboveRegex(2147483647);
    expect(re.length).toBeLessThan(512);
    expect(re).not.toMatch(/\(\?/);
  });

  test('refuses a limit that is not a whole number', () => {
    expect(() => contentLengthAboveRegex(1.5)).toThrow(RangeError);
  });
});
