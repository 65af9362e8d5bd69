/**
 * Injectable randomness, so that algorithms that draw random numbers can be tested with a
 * reproducible sequence.
 *
 * Owns: the `Random` function type, the production source (`Math.random`) and a seeded
 * generator for tests and benchmarks. Not for anything security-related (use node:crypto).
 * No I/O; never throws.
 */

/** A source of uniformly distributed numbers in [0, 1), with the contract of `Math.random`. */
export type Random = () => number;

/** The production source: `Math.random` (fast, not cryptographic). */
export const defaultRandom: Random = Math.random;

/**
 * A deterministic generator (mulberry32: 32-bit state, period 2^32) for tests and benchmarks.
 * The same `seed` always yields the same sequence; every value is in [0, 1) and a multiple of
 * 2^-32. Only the low 32 bits of `seed` matter (non-integers are truncated, NaN acts as 0).
 */
export function seededRandom(seed: number): Random {
  let state = seed | 0;
  return function next(): number {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
