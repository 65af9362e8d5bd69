/**
 * Generated X-Request-Id values: UUIDs in the version 4 form, unique within a process without a
 * random draw per request.
 *
 * Owns: the id sequence. The first 80 bits (version and variant bits set as RFC 9562 §5.4 has
 * them) are drawn from node:crypto once per process; the last 48 are a counter starting at a
 * random value, so ids never repeat within a process (2^48 of them) and processes (workers,
 * restarts) do not collide in practice. They are correlation ids, not secrets: an id says
 * nothing a client can use, and guessing the next one gains nothing.
 *
 * Why not crypto.randomUUID per request: its buffered random bytes are refilled every 128 ids
 * and each id is formatted from bytes; together 1.7 % of a small request's CPU in the profile
 * (docs/performance.md). Here an id is two table lookups appended to a cached prefix.
 */
import { randomBytes } from 'node:crypto';

/** "00" … "ff". */
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => (i + 256).toString(16).slice(1));

/** "xxxxxxxx-xxxx-4xxx-yxxx-" from the process's random draw. */
let prefix = '';
/** The counter's upper 32 bits and lower 16 bits. */
let high = 0;
let low = 0;
/** prefix + the 8 hex digits of `high`. */
let head = '';

function hex8(n: number): string {
  return HEX2[(n >>> 24) & 255]! + HEX2[(n >>> 16) & 255]! + HEX2[(n >>> 8) & 255]! + HEX2[n & 255]!;
}

function seed(): void {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  prefix = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-`;
  high = b.readUInt32BE(10);
  low = b.readUInt16BE(14);
  head = prefix + hex8(high);
}

/** The next id: `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`, lower-case hex. */
export function nextRequestId(): string {
  if (prefix === '') seed();
  if (low === 0x10000) {
    low = 0;
    high = (high + 1) >>> 0;
    // The counter wrapped: a new draw rather than a repeat of earlier ids.
    if (high === 0) seed();
    head = prefix + hex8(high);
  }
  const id = head + HEX2[low >>> 8]! + HEX2[low & 255]!;
  low++;
  return id;
}
