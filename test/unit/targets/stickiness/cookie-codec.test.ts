/**
 * Tests for src/targets/stickiness/cookie-codec.ts: values round-trip, are opaque and
 * deterministic, bind their kind, and only verify under the same secret; no mutation of a
 * valid value verifies (property-based), and no input makes `decode` throw.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_STICKY_ENTRIES, StickyCodec, StickyKind, type StickyEntry } from '../../../../src/targets/stickiness/cookie-codec.js';

const codec = new StickyCodec(Buffer.from('unit-test-secret'));
const e = (group: string, target: string, expiresAt = 2_000_000_000, appHash = ''): StickyEntry => ({ group, target, expiresAt, appHash });
const one = [e('api', '10.0.0.11:3000')];

describe('StickyCodec', () => {
  it('round-trips entries of every kind', () => {
    const app = [e('web', '[2001:db8::1]:8443', 1_900_000_000, codec.appHash('JSESSION-1'))];
    const many = [e('a', '10.0.0.1:1'), e('b', '10.0.0.2:2', 1), e('ünïcode-less-is-fine', 'host.example:65535', 0xffffffff)];
    for (const [kind, entries] of [
      [StickyKind.TARGET, one],
      [StickyKind.TARGET, many],
      [StickyKind.APP, app],
      [StickyKind.GROUP, [e('green', '')]],
      [StickyKind.TARGET, []],
    ] as const) {
      const d = codec.decode(kind, codec.encode(kind, entries));
      assert.ok(d.ok);
      assert.deepEqual(d.entries, entries);
    }
  });

  it('is deterministic, cookie-safe and opaque (no name, address or port readable)', () => {
    const v = codec.encode(StickyKind.TARGET, one);
    assert.equal(codec.encode(StickyKind.TARGET, one), v);
    assert.match(v, /^1\.[A-Za-z0-9_-]+$/);
    const bytes = Buffer.from(v.slice(2), 'base64url').toString('latin1');
    for (const needle of ['api', '10.0.0.11', '3000']) assert.ok(!v.includes(needle) && !bytes.includes(needle), needle);
  });

  it('rejects a value signed with another secret, or of another cookie kind', () => {
    const other = new StickyCodec(Buffer.from('another-secret'));
    assert.deepEqual(other.decode(StickyKind.TARGET, codec.encode(StickyKind.TARGET, one)), { ok: false, reason: 'bad signature' });
    const v = codec.encode(StickyKind.GROUP, one);
    assert.deepEqual(codec.decode(StickyKind.TARGET, v), { ok: false, reason: 'wrong cookie kind' });
    assert.deepEqual(codec.decode(StickyKind.APP, v), { ok: false, reason: 'wrong cookie kind' });
    // Also after the value was cached as verified for its own kind.
    assert.ok(codec.decode(StickyKind.GROUP, v).ok);
    assert.deepEqual(codec.decode(StickyKind.TARGET, v), { ok: false, reason: 'wrong cookie kind' });
  });

  it('rejects truncation, extension, a non-canonical encoding, another version and oversized values', () => {
    const v = codec.encode(StickyKind.TARGET, one);
    for (let n = 0; n < v.length; n++) assert.equal(codec.decode(StickyKind.TARGET, v.slice(0, n)).ok, false, `truncated to ${n}`);
    assert.equal(codec.decode(StickyKind.TARGET, v + 'A').ok, false);
    assert.equal(codec.decode(StickyKind.TARGET, v + '=').ok, false);
    // The last base64url character carries spare low bits: setting them names the same bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = v[v.length - 1]!;
    const same = [...alphabet].filter((ch) => ch !== last && Buffer.from(v.slice(2, -1) + ch, 'base64url').equals(Buffer.from(v.slice(2), 'base64url')));
    for (const ch of same) assert.deepEqual(codec.decode(StickyKind.TARGET, v.slice(0, -1) + ch), { ok: false, reason: 'malformed' });
    assert.deepEqual(codec.decode(StickyKind.TARGET, '2.' + v.slice(2)), { ok: false, reason: 'unsupported version' });
    assert.deepEqual(codec.decode(StickyKind.TARGET, 'A'.repeat(5000)), { ok: false, reason: 'malformed' });
  });

  it('keeps at most MAX_STICKY_ENTRIES entries and skips names that do not fit', () => {
    const lots = Array.from({ length: MAX_STICKY_ENTRIES + 3 }, (_, i) => e(`g${i}`, `10.0.0.${i}:80`));
    const d = codec.decode(StickyKind.TARGET, codec.encode(StickyKind.TARGET, lots));
    assert.ok(d.ok);
    assert.deepEqual(d.entries, lots.slice(0, MAX_STICKY_ENTRIES));
    const d2 = codec.decode(StickyKind.TARGET, codec.encode(StickyKind.TARGET, [e('g', 'h'.repeat(300) + ':1'), e('ok', '10.0.0.1:1')]));
    assert.ok(d2.ok);
    assert.deepEqual(d2.entries, [e('ok', '10.0.0.1:1')]);
  });

  it('appHash is keyed: 16 hex digits, stable per secret, different across secrets', () => {
    const h = codec.appHash('abc');
    assert.match(h, /^[0-9a-f]{16}$/);
    assert.equal(codec.appHash('abc'), h);
    assert.notEqual(codec.appHash('abd'), h);
    assert.notEqual(new StickyCodec(Buffer.from('x')).appHash('abc'), h);
  });

  it('property: no mutation of a valid value verifies', () => {
    const entry = fc.record({
      group: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/),
      target: fc.stringMatching(/^[a-z0-9.]{1,20}:[0-9]{1,5}$/),
      expiresAt: fc.integer({ min: 0, max: 0xffffffff }),
      appHash: fc.constantFrom('', '0011223344556677'),
    });
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('replace' as const), at: fc.nat(), ch: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }) }),
      fc.record({ op: fc.constant('insert' as const), at: fc.nat(), ch: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }) }),
      fc.record({ op: fc.constant('delete' as const), at: fc.nat(), ch: fc.constant('') }),
      fc.record({ op: fc.constant('swap' as const), at: fc.nat(), ch: fc.constant('') }),
    );
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 3 }), fc.constantFrom(StickyKind.TARGET, StickyKind.APP, StickyKind.GROUP), mutation, (entries, kind, m) => {
        const fresh = new StickyCodec(Buffer.from('property-secret'));
        const v = fresh.encode(kind, entries);
        const at = m.at % v.length;
        let mutated: string;
        if (m.op === 'replace') mutated = v.slice(0, at) + m.ch + v.slice(at + 1);
        else if (m.op === 'insert') mutated = v.slice(0, at) + m.ch + v.slice(at);
        else if (m.op === 'delete') mutated = v.slice(0, at) + v.slice(at + 1);
        else mutated = at + 1 < v.length ? v.slice(0, at) + v[at + 1] + v[at] + v.slice(at + 2) : v.slice(0, -1);
        if (mutated === v) return true;
        return !fresh.decode(kind, mutated).ok;
      }),
      { numRuns: 3000 },
    );
  });

  it('property: decode never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.base64String().map((s) => '1.' + s), fc.uint8Array().map((b) => '1.' + Buffer.from(b).toString('base64url'))), (s) => {
        const d = codec.decode(StickyKind.TARGET, s);
        return d.ok === false || Array.isArray(d.entries);
      }),
      { numRuns: 3000 },
    );
  });
});
