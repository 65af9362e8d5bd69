/**
 * `protection.rateLimit`: a token bucket per key (the client's address, or a header's value),
 * SPEC §5 429 with Retry-After.
 *
 * Owns: the buckets, kept in a bounded map (at most `maxEntries`; buckets that have refilled
 * completely are swept every `sweepIntervalMs`, checked as requests arrive rather than on a
 * timer, so a retired config leaves nothing running), and the key a request is counted under.
 * Must not: allocate for a key it already knows, or do I/O. Time comes from an injected clock.
 */
import { equalsAsciiIgnoreCase, toAsciiLowerCase } from '../router/wildcard.js';
import type { ResolvedRateLimit } from '../config/defaults.js';

/** Buckets kept at most per limiter; beyond it the oldest are dropped (a fresh full bucket). */
export const DEFAULT_MAX_ENTRIES = 100_000;
/** How often buckets that refilled completely (equivalent to none) are dropped. */
export const DEFAULT_SWEEP_INTERVAL_MS = 10_000;
/** Header values longer than this are counted by their first MAX_KEY_CHARS characters. */
export const MAX_KEY_CHARS = 128;

class Bucket {
  tokens: number;
  lastMs: number;
  constructor(tokens: number, lastMs: number) {
    this.tokens = tokens;
    this.lastMs = lastMs;
  }
}

export interface RateLimiterOptions {
  readonly maxEntries?: number;
  readonly sweepIntervalMs?: number;
  /** Milliseconds, monotonic. Default performance.now. */
  readonly now?: () => number;
}

export class RateLimiter {
  readonly requestsPerSecond: number;
  readonly burst: number;
  /** `sourceIp`, or `header:<Name>` as configured. */
  readonly keySpec: string;
  /** Lowercase header name for `header:` keys; null for sourceIp. */
  readonly headerName: string | null;
  readonly #perMs: number;
  /** Buckets by client address, and by header value (apart, so a header cannot name an address). */
  readonly #buckets: Map<string, Bucket>;
  readonly #headerBuckets: Map<string, Bucket>;
  readonly #maxEntries: number;
  readonly #sweepIntervalMs: number;
  readonly #now: () => number;
  #lastSweepMs: number;

  constructor(config: ResolvedRateLimit, o: RateLimiterOptions = {}) {
    this.requestsPerSecond = config.requestsPerSecond;
    this.burst = Math.max(1, config.burst);
    this.keySpec = config.key;
    this.headerName = config.key.startsWith('header:') ? toAsciiLowerCase(config.key.slice('header:'.length)) : null;
    this.#perMs = config.requestsPerSecond / 1000;
    this.#buckets = new Map();
    this.#headerBuckets = new Map();
    this.#maxEntries = o.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#sweepIntervalMs = o.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    this.#now = o.now ?? (() => performance.now());
    this.#lastSweepMs = this.#now();
  }

  /** Whether `other` counts the same way (a reload keeps this limiter's buckets then). */
  sameAs(config: ResolvedRateLimit): boolean {
    return config.requestsPerSecond === this.requestsPerSecond && Math.max(1, config.burst) === this.burst && config.key === this.keySpec;
  }

  /** Buckets held now (both kinds). */
  get size(): number {
    return this.#buckets.size + this.#headerBuckets.size;
  }

  /**
   * Takes one token for a request: under the first value of the configured header, or under
   * the client's address (sourceIp keys, and requests without the header, so that leaving the
   * header out does not escape the limit). Returns 0 when the request may go on, else the whole
   * seconds (≥ 1) until a token is available: the Retry-After value.
   */
  takeFor(sourceIp: string, rawHeaders: readonly string[]): number {
    const name = this.headerName;
    if (name !== null) {
      for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
        if (!equalsAsciiIgnoreCase(rawHeaders[i]!, name)) continue;
        const v = rawHeaders[i + 1]!;
        // Keys are bounded so that 100k buckets stay small whatever clients send.
        return this.take(v.length > MAX_KEY_CHARS ? v.slice(0, MAX_KEY_CHARS) : v, true);
      }
    }
    return this.take(sourceIp, false);
  }

  /** Takes one token from the bucket of `key` (a header value when `header`, else an address). */
  take(key: string, header = false): number {
    const now = this.#now();
    if (now - this.#lastSweepMs >= this.#sweepIntervalMs) this.sweep(now);
    const map = header ? this.#headerBuckets : this.#buckets;
    let b = map.get(key);
    if (b === undefined) {
      if (this.size >= this.#maxEntries) this.#evict(now, map);
      b = new Bucket(this.burst, now);
      map.set(key, b);
    } else {
      const refill = (now - b.lastMs) * this.#perMs;
      b.tokens = Math.min(this.burst, b.tokens + refill);
      b.lastMs = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.requestsPerSecond));
  }

  /** Drops buckets that are full again: they behave exactly like a bucket never seen. */
  sweep(now: number = this.#now()): void {
    this.#lastSweepMs = now;
    for (const map of [this.#buckets, this.#headerBuckets]) {
      for (const [key, b] of map) {
        if (b.tokens + (now - b.lastMs) * this.#perMs >= this.burst) map.delete(key);
      }
    }
  }

  /** At the cap: sweep, and if that freed nothing, drop the oldest eighth of `map` (insertion order). */
  #evict(now: number, map: Map<string, Bucket>): void {
    this.sweep(now);
    if (this.size < this.#maxEntries) return;
    const victim = map.size > 0 ? map : map === this.#buckets ? this.#headerBuckets : this.#buckets;
    let drop = Math.max(1, victim.size >> 3);
    for (const key of victim.keys()) {
      victim.delete(key);
      if (--drop === 0) break;
    }
  }
}
