/**
 * The request body limit as the web ACL enforces it (pure: no aws-cdk-lib). AWS WAF sees only the first
 * 8 KB of a body on an Application Load Balancer, so it cannot measure a larger body; what it can read
 * is the size a client declares in `Content-Length`. The proxy still enforces the limit on every body,
 * chunked uploads included.
 */

/**
 * A regular expression (AWS WAF's PCRE subset: no lookaround, no backreferences) that matches a
 * `Content-Length` value, decimal digits with optional surrounding spaces and leading zeros, exactly
 * when it is greater than `bytes`.
 */
export function contentLengthAboveRegex(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`bytes must be a whole number >= 0, got ${bytes}`);
  const digits = String(bytes);
  const n = digits.length;
  const rest = (k: number) => (k === 0 ? '' : k === 1 ? '[0-9]' : `[0-9]{${k}}`);
  // More digits than `bytes` (no leading zero left, those are taken by 0*) ...
  const alternatives = [`[1-9][0-9]{${n},}`];
  // ... or as many, equal up to a position where the value's digit is greater.
  for (let i = 0; i < n; i++) {
    const d = Number(digits[i]);
    if (d === 9) continue;
    const low = d + 1;
    alternatives.push(`${digits.slice(0, i)}${low === 9 ? '9' : `[${low}-9]`}${rest(n - i - 1)}`);
  }
  return `^ *0*(${alternatives.join('|')}) *$`;
}
