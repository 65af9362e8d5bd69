/**
 * Tests for the access log's line format (src/observability/access-log.ts): the hand-written
 * serializer must give exactly what JSON.stringify gives, for any strings (quotes, backslashes,
 * control characters, non-ASCII, lone surrogates) and numbers the record can hold.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { accessLogLine, isoNow, msText, type AccessLogRecord } from '../../../src/observability/access-log.js';

const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', '"', '\\', '\n', '\u0000', '\u001f', '\u007f', 'é', '\ud800', '\udc00x', '😀', '</script>'));
const count = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const ms = fc.double({ min: 0, max: 1e7, noNaN: true }).map((x) => Math.round(x * 1000) / 1000);

const record: fc.Arbitrary<AccessLogRecord> = fc.record({
  time: text,
  clientIp: text,
  clientPort: fc.integer({ min: 0, max: 65535 }),
  listener: text,
  rulePriority: fc.integer({ min: 0, max: 50000 }),
  targetGroup: text,
  target: text,
  method: text,
  host: text,
  path: text,
  status: fc.integer({ min: 0, max: 599 }),
  bytesIn: count,
  bytesOut: count,
  requestMs: ms,
  targetMs: ms,
  responseMs: ms,
  error: text,
});

describe('access log line', () => {
  it('is exactly JSON.stringify(record) plus a newline', () => {
    fc.assert(
      fc.property(record, (r) => {
        assert.equal(accessLogLine(r), JSON.stringify(r) + '\n');
      }),
      { numRuns: 2000 },
    );
  });

  it('writes durations as String(Math.round(ms * 1000) / 1000) does', () => {
    const usual = fc.integer({ min: 0, max: 1e9 + 5 }).map((us) => us / 1000);
    const raw = fc.oneof(fc.double({ min: -5, max: 5000, noNaN: true }), fc.constantFrom(0, -0, 0.0005, 0.0015, 999999.9995, 1e12, Infinity, NaN));
    fc.assert(
      fc.property(fc.oneof(usual, raw), (ms) => {
        assert.equal(msText(ms), String(Math.round(ms * 1000) / 1000), String(ms));
      }),
      { numRuns: 20000 },
    );
  });

  it('isoNow is the current time in ISO 8601', () => {
    const before = Date.now();
    const t = Date.parse(isoNow());
    assert.ok(t >= before && t <= Date.now(), `${isoNow()} not between the clock readings`);
    assert.match(isoNow(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});
