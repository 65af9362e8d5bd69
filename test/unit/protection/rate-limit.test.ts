/**
 * The token bucket (src/protection/rate-limit.ts) with an injected clock: burst, refill,
 * Retry-After, keys by address or header, the bounded map and the sweep.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter, MAX_KEY_CHARS } from '../../../src/protection/rate-limit.js';

function limiter(rps: number, burst: number, key = 'sourceIp', o: { maxEntries?: number; sweepIntervalMs?: number } = {}) {
  let now = 0;
  const rl = new RateLimiter({ requestsPerSecond: rps, burst, key }, { ...o, now: () => now });
  return { rl, advance: (ms: number) => (now += ms) };
}

describe('RateLimiter', () => {
  it('allows a burst, then refuses with the seconds until the next token', () => {
    const { rl, advance } = limiter(2, 3);
    for (let i = 0; i < 3; i++) assert.equal(rl.take('a'), 0);
    assert.equal(rl.take('a'), 1, 'one token every 0.5 s: Retry-After rounds up to 1');
    advance(500);
    assert.equal(rl.take('a'), 0);
    assert.equal(rl.take('a'), 1);
  });

  it('a slow rate gives a longer Retry-After', () => {
    const { rl, advance } = limiter(0.1, 1);
    assert.equal(rl.take('a'), 0);
    assert.equal(rl.take('a'), 10);
    advance(4000);
    assert.equal(rl.take('a'), 6);
  });

  it('sustains exactly the configured rate over time', () => {
    const { rl, advance } = limiter(10, 10);
    let allowed = 0;
    for (let t = 0; t < 10_000; t += 10) {
      if (rl.take('a') === 0) allowed++;
      advance(10);
    }
    // 10 burst + 10/s for 10 s.
    assert.ok(allowed >= 105 && allowed <= 111, `allowed ${allowed}`);
  });

  it('keeps one bucket per key', () => {
    const { rl } = limiter(1, 1);
    assert.equal(rl.take('a'), 0);
    assert.equal(rl.take('b'), 0);
    assert.ok(rl.take('a') > 0);
  });

  it('keys by a header, falling back to the address when the header is absent', () => {
    const { rl } = limiter(1, 1, 'header:X-Api-Key');
    assert.equal(rl.takeFor('10.0.0.1', ['Host', 'a', 'x-api-key', 'k1']), 0);
    assert.ok(rl.takeFor('10.0.0.2', ['X-API-KEY', 'k1']) > 0, 'same key from another address');
    assert.equal(rl.takeFor('10.0.0.1', ['X-Api-Key', 'k2']), 0);
    assert.equal(rl.takeFor('10.0.0.1', []), 0, 'no header: the address bucket, separate from header buckets');
    assert.ok(rl.takeFor('10.0.0.1', []) > 0);
    assert.equal(rl.takeFor('10.0.0.9', ['X-Api-Key', '10.0.0.1']), 0, 'a header value cannot drain an address bucket');
  });

  it('bounds long header keys', () => {
    const { rl } = limiter(1, 1, 'header:K');
    const long = 'x'.repeat(MAX_KEY_CHARS);
    assert.equal(rl.takeFor('a', ['K', long + 'AAA']), 0);
    assert.ok(rl.takeFor('a', ['K', long + 'BBB']) > 0, 'same first MAX_KEY_CHARS characters: same bucket');
  });

  it('sweeps refilled buckets and never holds more than maxEntries', () => {
    const { rl, advance } = limiter(100, 1, 'sourceIp', { maxEntries: 1000, sweepIntervalMs: 1000 });
    for (let i = 0; i < 5000; i++) rl.take(`10.0.${i >> 8}.${i & 255}`);
    assert.ok(rl.size <= 1000, `size ${rl.size}`);
    advance(2000);
    rl.take('z');
    assert.equal(rl.size, 1, 'everything else refilled and was swept');
  });
});
