/**
 * Health check status matchers: `"200-399,404"` compiled once into a predicate.
 *
 * Owns: parsing a matcher (codes and inclusive ranges, comma-separated) into a 100–599 lookup
 * table. Validation (`matcherProblem` in config/validate.ts) has already refused bad input; a
 * bad matcher reaching here is a programmer error and throws.
 */

/** A compiled matcher: `test(status)` is one array read. */
export interface StatusMatcher {
  test(status: number): boolean;
  /** The matcher as written, for reasons (`status 500 not in 200-399`). */
  readonly source: string;
}

const MIN = 100;
const MAX = 599;

/** Compiles `"200-399,404"`. Throws a RangeError on malformed input. */
export function compileStatusMatcher(matcher: string): StatusMatcher {
  const table = new Uint8Array(MAX - MIN + 1);
  const parts = matcher.split(',');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!.trim();
    const m = /^(\d{3})(?:\s*-\s*(\d{3}))?$/.exec(part);
    if (m === null) throw new RangeError(`invalid health check matcher "${matcher}": "${part}"`);
    const lo = Number(m[1]);
    const hi = m[2] !== undefined ? Number(m[2]) : lo;
    if (lo < MIN || hi > MAX || lo > hi) throw new RangeError(`invalid health check matcher "${matcher}": "${part}"`);
    for (let s = lo; s <= hi; s++) table[s - MIN] = 1;
  }
  const source = matcher.replace(/\s+/g, '');
  return {
    source,
    test(status: number): boolean {
      return status >= MIN && status <= MAX && table[status - MIN] === 1;
    },
  };
}
