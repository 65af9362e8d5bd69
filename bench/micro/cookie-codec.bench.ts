/**
 * Micro-benchmark: nanoseconds per sticky cookie operation (src/targets/stickiness/): encode,
 * decode of a value seen before (the verified-value cache), decode of a value never seen
 * (HMAC + AES, what a new client or a fresh cookie costs), decode of a forged value, and the
 * app-cookie hash. Not a test. Run: `npx tsc -p . && node dist/bench/micro/cookie-codec.bench.js [iterations]`
 * (default 200,000 per row).
 *
 * Owns: timing only. Results vary by machine; compare commits on the same machine.
 */
import { StickyCodec, StickyKind, type StickyEntry } from '../../src/targets/stickiness/cookie-codec.js';

const ITERATIONS = Number(process.argv[2] ?? 200_000);
const codec = new StickyCodec(Buffer.from('benchmark-secret-0123456789abcdef'));
const entry = (i: number): StickyEntry => ({ group: 'api-blue', target: `10.0.${(i >> 8) & 255}.${i & 255}:8080`, expiresAt: 1_900_000_000 + i, appHash: '' });
const DISTINCT = 4096;
const values = Array.from({ length: DISTINCT }, (_, i) => codec.encode(StickyKind.TARGET, [entry(i)]));
const forged = values.map((v) => v.slice(0, 10) + (v[10] === 'A' ? 'B' : 'A') + v.slice(11));

let sink = 0;

function time(name: string, fn: (i: number) => void, n = ITERATIONS): void {
  for (let i = 0; i < Math.min(n, 20_000); i++) fn(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - start) / n;
  process.stdout.write(`${name.padEnd(44)} ${ns.toFixed(0).padStart(7)} ns/op\n`);
}

time('encode (1 entry)', (i) => {
  sink += codec.encode(StickyKind.TARGET, [entry(i & 1023)]).length;
});
time('decode, value seen before (cache hit)', (i) => {
  sink += codec.decode(StickyKind.TARGET, values[i & 1023]!).ok ? 1 : 0;
});
{
  // Values no codec instance has seen: warm up on one set, measure on another, each with a
  // fresh instance (so nothing is in its verified-value cache).
  const warm = new StickyCodec(Buffer.from('benchmark-secret-0123456789abcdef'));
  const cold = new StickyCodec(Buffer.from('benchmark-secret-0123456789abcdef'));
  const fresh = Array.from({ length: 2 * DISTINCT }, (_, i) => codec.encode(StickyKind.TARGET, [entry(DISTINCT + i)]));
  for (let i = 0; i < DISTINCT; i++) sink += warm.decode(StickyKind.TARGET, fresh[i]!).ok ? 1 : 0;
  const start = process.hrtime.bigint();
  for (let i = DISTINCT; i < 2 * DISTINCT; i++) sink += cold.decode(StickyKind.TARGET, fresh[i]!).ok ? 1 : 0;
  const ns = Number(process.hrtime.bigint() - start) / DISTINCT;
  process.stdout.write(`${'decode, value never seen (HMAC + AES)'.padEnd(44)} ${ns.toFixed(0).padStart(7)} ns/op\n`);
}
time('decode, forged value (refused)', (i) => {
  sink += codec.decode(StickyKind.TARGET, forged[i % DISTINCT]!).ok ? 1 : 0;
});
time('appHash', (i) => {
  sink += codec.appHash(`JSESSION-${i & 1023}`).length;
});
process.stdout.write(`(sink ${sink})\n`);
