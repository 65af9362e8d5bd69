/**
 * Tests for src/targets/stickiness/sticky-decision.ts: every verdict of the target and group
 * decisions (the one function the data path and `switchyard explain` share), and how
 * re-issued cookies keep other groups' entries.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DecodedCookie, StickyEntry } from '../../../../src/targets/stickiness/cookie-codec.js';
import { decideStickyGroup, decideStickyTarget, mergeEntries, type StickyTargetFacts } from '../../../../src/targets/stickiness/sticky-decision.js';

const NOW = 1_800_000_000;

interface T extends StickyTargetFacts {
  id: string;
  draining: boolean;
  removed: boolean;
  usable: boolean;
  configuredWeight: number;
}
const target = (id: string, o: Partial<T> = {}): T => ({ id, draining: false, removed: false, usable: true, configuredWeight: 1, ...o });
const groupOf = (targets: T[], failOpen = false) => ({ name: 'g', targets: new Map(targets.map((t) => [t.id, t])), failOpen });
const entry = (o: Partial<StickyEntry> = {}): StickyEntry => ({ group: 'g', target: 'a:1', expiresAt: NOW + 60, appHash: '', ...o });
const cookie = (...entries: StickyEntry[]): DecodedCookie => ({ ok: true, entries });

describe('decideStickyTarget', () => {
  const a = target('a:1');
  const b = target('b:1');

  it('honours a fresh entry naming a usable target', () => {
    const d = decideStickyTarget(cookie(entry({ group: 'other', target: 'b:1' }), entry()), groupOf([a, b]), null, NOW, null);
    assert.equal(d.verdict, 'honoured');
    assert.equal(d.target, a);
    assert.deepEqual(d.entry, entry());
  });

  it('explains every reason not to', () => {
    const cases: [string, ReturnType<typeof decideStickyTarget>][] = [
      ['no cookie', decideStickyTarget(null, groupOf([a]), null, NOW, null)],
      ['invalid', decideStickyTarget({ ok: false, reason: 'bad signature' }, groupOf([a]), null, NOW, null)],
      ['no entry', decideStickyTarget(cookie(entry({ group: 'other' })), groupOf([a]), null, NOW, null)],
      ['expired', decideStickyTarget(cookie(entry({ expiresAt: NOW })), groupOf([a]), null, NOW, null)],
      ['target gone', decideStickyTarget(cookie(entry({ target: 'c:1' })), groupOf([a]), null, NOW, null)],
      ['target gone', decideStickyTarget(cookie(entry()), groupOf([target('a:1', { removed: true })]), null, NOW, null)],
      ['target draining', decideStickyTarget(cookie(entry()), groupOf([target('a:1', { draining: true }), b]), null, NOW, null)],
      ['target unhealthy', decideStickyTarget(cookie(entry()), groupOf([target('a:1', { usable: false }), b]), null, NOW, null)],
      ['target weight 0', decideStickyTarget(cookie(entry()), groupOf([target('a:1', { configuredWeight: 0 }), b]), null, NOW, null)],
      ['target excluded', decideStickyTarget(cookie(entry()), groupOf([a, b]), new Set(['a:1']), NOW, null)],
      ['app cookie differs', decideStickyTarget(cookie(entry({ appHash: 'aaaa' })), groupOf([a]), null, NOW, 'bbbb')],
      ['app cookie differs', decideStickyTarget(cookie(entry({ appHash: 'aaaa' })), groupOf([a]), null, NOW, '')],
    ];
    for (const [verdict, d] of cases) {
      assert.equal(d.verdict, verdict);
      assert.equal(d.target, null, verdict);
    }
  });

  it('follows an unhealthy target while the group fails open (every target is used then)', () => {
    const sick = target('a:1', { usable: false });
    assert.equal(decideStickyTarget(cookie(entry()), groupOf([sick, target('b:1', { usable: false })], true), null, NOW, null).target, sick);
  });

  it('app_cookie: honoured only with the application cookie value it was issued for', () => {
    const d = decideStickyTarget(cookie(entry({ appHash: 'aaaa' })), groupOf([a]), null, NOW, 'aaaa');
    assert.equal(d.verdict, 'honoured');
  });
});

describe('decideStickyGroup', () => {
  const blue = { name: 'blue', registeredCount: 2 };
  const green = { name: 'green', registeredCount: 1 };
  const empty = { name: 'empty', registeredCount: 0 };
  const g = (name: string, expiresAt = NOW + 60): StickyEntry => ({ group: name, target: '', expiresAt, appHash: '' });

  it("honours the first fresh entry naming one of the forward's groups", () => {
    const d = decideStickyGroup(cookie(g('elsewhere'), g('green', NOW - 1), g('green')), [blue, green], NOW);
    assert.equal(d.verdict, 'honoured');
    assert.equal(d.group, green);
  });

  it('explains every reason not to', () => {
    assert.equal(decideStickyGroup(null, [blue], NOW).verdict, 'no cookie');
    assert.equal(decideStickyGroup({ ok: false, reason: 'malformed' }, [blue], NOW).verdict, 'invalid');
    assert.equal(decideStickyGroup(cookie(g('elsewhere')), [blue, green], NOW).verdict, 'no entry');
    assert.equal(decideStickyGroup(cookie(g('blue', NOW)), [blue, green], NOW).verdict, 'expired');
    const d = decideStickyGroup(cookie(g('empty')), [blue, empty], NOW);
    assert.equal(d.verdict, 'group empty');
    assert.equal(d.group, null);
  });
});

describe('mergeEntries', () => {
  it("puts the fresh entry first, keeps other groups' live entries (latest first), drops expired ones and caps the count", () => {
    const prev = cookie(entry({ group: 'g', target: 'old:1' }), entry({ group: 'x', expiresAt: NOW + 10 }), entry({ group: 'y', expiresAt: NOW + 99 }), entry({ group: 'z', expiresAt: NOW - 1 }));
    const fresh = entry({ target: 'new:1', expiresAt: NOW + 300 });
    const merged = mergeEntries(prev, fresh, (e) => e.group === 'g', NOW, 8);
    assert.deepEqual(
      merged.map((e) => [e.group, e.target]),
      [
        ['g', 'new:1'],
        ['y', 'a:1'],
        ['x', 'a:1'],
      ],
    );
    assert.equal(mergeEntries(prev, fresh, (e) => e.group === 'g', NOW, 2).length, 2);
    assert.deepEqual(mergeEntries({ ok: false, reason: 'malformed' }, fresh, () => false, NOW, 8), [fresh]);
    assert.deepEqual(mergeEntries(prev, null, (e) => e.group !== 'x', NOW, 8).map((e) => e.group), ['x']);
  });
});
