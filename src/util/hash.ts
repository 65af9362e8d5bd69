/**
 * A fast, well-mixed, non-cryptographic 32-bit string hash for consistent hashing.
 *
 * Owns: `hashString`, which is exactly MurmurHash3_x86_32 of the string's UTF-16LE encoding
 * (JavaScript strings are sequences of UTF-16 code units, so two code units make one 32-bit
 * block and no encoding step or allocation is needed). Golden values are checked against a
 * byte-wise reference in test/unit/util/hash.test.ts. Not for anything security-related: a
 * client who can choose keys can choose colliding ones (use node:crypto for that).
 * No I/O; never throws.
 */

/**
 * MurmurHash3_x86_32 of `Buffer.from(s, 'utf16le')` with `seed`, as an unsigned 32-bit
 * integer. Allocation-free, O(s.length). Only the low 32 bits of `seed` are used.
 */
export function hashString(s: string, seed = 0): number {
  const n = s.length;
  let h = seed | 0;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    let k = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < n) {
    // A trailing code unit is a 2-byte tail.
    let k = s.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= n * 2; // Length in bytes.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
