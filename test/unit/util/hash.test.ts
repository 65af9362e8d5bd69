/**
 * Tests for src/util/hash.ts: `hashString` is MurmurHash3_x86_32 of the UTF-16LE bytes. A
 * byte-wise reference implementation is checked against published MurmurHash3 vectors, then
 * `hashString` against the reference.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashString } from '../../../src/util/hash.js';
import { seededRandom } from '../../../src/util/random.js';

/** MurmurHash3_x86_32 over bytes, written straight from the reference C code. */
function murmur3Bytes(buf: Uint8Array, seed: number): number {
  let h = seed >>> 0;
  const n = buf.length;
  let i = 0;
  const mix = (k: number): number => {
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    return Math.imul(k, 0x1b873593);
  };
  for (; i + 4 <= n; i += 4) {
    h ^= mix(buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  const rest = n & 3;
  if (rest >= 3) k ^= buf[i + 2]! << 16;
  if (rest >= 2) k ^= buf[i + 1]! << 8;
  if (rest >= 1) {
    k ^= buf[i]!;
    h ^= mix(k);
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

describe('hashString', () => {
  it('the byte-wise reference reproduces published MurmurHash3_x86_32 vectors', () => {
    const v = (s: string, seed: number): number => murmur3Bytes(Buffer.from(s, 'utf8'), seed);
    assert.equal(v('', 0), 0);
    assert.equal(v('', 1), 0x514e28b7);
    assert.equal(v('', 0xffffffff), 0x81f16f39);
    assert.equal(v('test', 0), 0xba6bd213);
    assert.equal(v('Hello, world!', 1234), 0xfaf6cdb3);
    assert.equal(v('The quick brown fox jumps over the lazy dog', 0), 0x2e4ff723);
  });

  it('equals MurmurHash3_x86_32 of the UTF-16LE encoding, for odd and even lengths', () => {
    const rnd = seededRandom(3);
    const samples = ['', 'a', 'ab', 'abc', '10.0.0.1:8080', '[2001:db8::1]:443', 'é', '日本語', '\u{1f600}x'];
    for (let i = 0; i < 300; i++) {
      let s = '';
      const len = Math.floor(rnd() * 40);
      for (let j = 0; j < len; j++) s += String.fromCharCode(Math.floor(rnd() * 0xd800));
      samples.push(s);
    }
    for (const s of samples) {
      for (const seed of [0, 1, 0x5eed0001, 0xffffffff]) {
        assert.equal(hashString(s, seed), murmur3Bytes(Buffer.from(s, 'utf16le'), seed), JSON.stringify(s));
      }
    }
  });

  it('returns unsigned 32-bit integers, spread evenly over buckets', () => {
    const buckets = new Array<number>(16).fill(0);
    for (let i = 0; i < 32_000; i++) {
      const h = hashString(`user-${i}`);
      assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32);
      buckets[h % 16]!++;
    }
    for (const b of buckets) assert.ok(Math.abs(b - 2000) < 250, `bucket ${b}`);
  });
});
