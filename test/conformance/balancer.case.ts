/**
 * The shared conformance suite every balancing algorithm must pass (ARCHITECTURE §6 item 14).
 * `balancer.test.ts` runs it once per registered algorithm; a new algorithm gets it for free.
 *
 * Owns: the algorithm-independent contract of `Balancer` — the empty set, one target,
 * exclusion, the weight-0 rules, churn, robustness against odd inputs, and distribution over
 * many picks with an injected seeded `random` (deterministic, so never flaky). What differs by
 * algorithm is declared in `ConformanceOptions`. For hash-based algorithms the suite's stream
 * of picks is a stream of requests from different clients: each pick carries its own key.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  Balancer,
  BalancerDeps,
  BalancerTarget,
  PickContext,
} from '../../src/targets/balancers/balancer.js';
import { seededRandom } from '../../src/util/random.js';

/** What the suite may expect of one algorithm. */
export interface ConformanceOptions {
  /** Shares follow weights (`round_robin`, `weighted_random`, …) rather than being equal (`random`). */
  readonly honoursWeights: boolean;
  /** Picks avoid targets with more requests in flight (`least_outstanding_requests`). */
  readonly prefersLeastInFlight?: boolean;
  /**
   * Of two or more candidates, a much busier target (per unit of weight) is never picked, and
   * of two targets the less loaded one always is (`power_of_two`); implied by
   * `prefersLeastInFlight`.
   */
  readonly avoidsMostLoaded?: boolean;
  /**
   * The target is a function of `ctx.hashKey` (`consistent_hash`): the suite gives every pick a
   * distinct key (so shares are measured across keys) and checks that a key keeps its target.
   */
  readonly hashesKey?: boolean;
}

/** A target as the target group holds it: the balancer sees it read-only, the caller mutates it. */
export interface TestTarget extends BalancerTarget {
  weight: number;
  inFlight: number;
}

export type ConformanceFactory = (deps: BalancerDeps) => Balancer<TestTarget>;

const CTX: PickContext = { hashKey: '' };
const SEEDS = [1, 42, 20240601] as const;
/** Largest double below 1: the top of what `random()` may return. */
const ALMOST_ONE = 1 - 2 ** -53;

export function target(id: string, weight = 1, inFlight = 0): TestTarget {
  return { id, weight, inFlight };
}

/**
 * One request as the target group makes it: pick, then increment `inFlight` before
 * `onRequestStart`, then (the request finished) decrement before `onRequestEnd`.
 */
function request(
  b: Balancer<TestTarget>,
  exclude: ReadonlySet<string> | null = null,
): TestTarget | undefined {
  const t = b.pick(CTX, exclude);
  if (t === undefined) return undefined;
  t.inFlight++;
  b.onRequestStart?.(t);
  t.inFlight--;
  b.onRequestEnd?.(t);
  return t;
}

/** Counts by id over `picks` requests; fails on `undefined` or a target not in `usable`. */
function tally(
  b: Balancer<TestTarget>,
  usable: readonly TestTarget[],
  picks: number,
  exclude: ReadonlySet<string> | null = null,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < usable.length; i++) counts.set(usable[i]!.id, 0);
  for (let i = 0; i < picks; i++) {
    const t = request(b, exclude);
    assert.ok(t !== undefined, `pick ${i} returned undefined`);
    assert.ok(usable.includes(t), `pick ${i} returned ${t.id}, not one of the usable objects`);
    counts.set(t.id, (counts.get(t.id) ?? 0) + 1);
  }
  return counts;
}

/**
 * Each count within ±`tolerance` (relative) of `picks × share`. Tolerances below are ≥ 5
 * standard deviations of a binomial draw, so a changed seed would not make them flaky either.
 */
function assertShares(
  counts: ReadonlyMap<string, number>,
  shares: Readonly<Record<string, number>>,
  picks: number,
  tolerance: number,
): void {
  for (const [id, share] of Object.entries(shares)) {
    const expected = picks * share;
    const actual = counts.get(id) ?? 0;
    assert.ok(
      Math.abs(actual - expected) <= expected * tolerance,
      `${id}: ${actual} picks, expected ${expected.toFixed(0)} ± ${(tolerance * 100).toFixed(0)}% ` +
        `(all: ${JSON.stringify(Object.fromEntries(counts))})`,
    );
  }
}

function shares(usable: readonly TestTarget[], byWeight: boolean): Record<string, number> {
  let total = 0;
  for (const t of usable) total += byWeight ? t.weight : 1;
  const out: Record<string, number> = {};
  for (const t of usable) out[t.id] = (byWeight ? t.weight : 1) / total;
  return out;
}

/**
 * The balancer with a distinct key (`key-0`, `key-1`, …) put into every pick whose context has
 * no key, as if each request came from another client. Everything else passes through.
 */
function withDistinctKeys(b: Balancer<TestTarget>): Balancer<TestTarget> {
  let seq = 0;
  const keyed: Balancer<TestTarget> = {
    refresh: (usable) => b.refresh(usable),
    pick: (ctx, exclude) => b.pick(ctx.hashKey === '' ? { hashKey: `key-${seq++}` } : ctx, exclude),
  };
  if (b.onRequestStart) keyed.onRequestStart = (t) => b.onRequestStart!(t);
  if (b.onRequestEnd) keyed.onRequestEnd = (t) => b.onRequestEnd!(t);
  return keyed;
}

export function runBalancerConformance(
  name: string,
  rawFactory: ConformanceFactory,
  options: ConformanceOptions,
): void {
  const factory: ConformanceFactory =
    options.hashesKey === true ? (deps) => withDistinctKeys(rawFactory(deps)) : rawFactory;
  const make = (seed = 1): Balancer<TestTarget> => factory({ random: seededRandom(seed) });

  describe(`balancer conformance: ${name}`, () => {
    describe('empty set', () => {
      it('returns undefined before the first refresh', () => {
        assert.equal(make().pick(CTX, null), undefined);
      });

      it('returns undefined after refresh([])', () => {
        const b = make();
        b.refresh([target('a')]);
        b.refresh([]);
        assert.equal(b.pick(CTX, null), undefined);
        assert.equal(b.pick(CTX, new Set(['a'])), undefined);
      });
    });

    describe('one target', () => {
      it('always returns that object', () => {
        const b = make();
        const only = target('a', 3);
        b.refresh([only]);
        for (let i = 0; i < 100; i++) assert.equal(request(b), only);
      });

      it('returns it even when its weight is 0 (all-zero rule)', () => {
        const b = make();
        const only = target('a', 0);
        b.refresh([only]);
        for (let i = 0; i < 20; i++) assert.equal(request(b), only);
      });
    });

    describe('exclusion', () => {
      it('excluding the only target gives undefined', () => {
        const b = make();
        b.refresh([target('a')]);
        assert.equal(b.pick(CTX, new Set(['a'])), undefined);
      });

      it('excluding every target gives undefined, then normal picks resume', () => {
        const b = make();
        const usable = [target('a', 1), target('b', 2), target('c', 3)];
        b.refresh(usable);
        for (let i = 0; i < 10; i++) assert.equal(b.pick(CTX, new Set(['a', 'b', 'c'])), undefined);
        assert.ok(usable.includes(b.pick(CTX, null)!));
      });

      for (const weights of [
        [1, 1],
        [5, 1],
        [1, 5],
      ] as const) {
        it(`excluding one of two (weights ${weights.join(',')}) always gives the other`, () => {
          for (const seed of SEEDS) {
            const b = make(seed);
            const a = target('a', weights[0]);
            const c = target('c', weights[1]);
            b.refresh([a, c]);
            for (let i = 0; i < 500; i++) {
              assert.equal(request(b, new Set(['a'])), c);
              assert.equal(request(b, new Set(['c'])), a);
              // Interleave plain picks so cursor-based state is exercised in every position.
              assert.ok([a, c].includes(request(b)!));
            }
          }
        });
      }

      it('an empty set or unknown ids exclude nothing', () => {
        const b = make();
        const usable = [target('a'), target('b')];
        b.refresh(usable);
        const seen = new Set<string>();
        for (let i = 0; i < 200; i++) {
          seen.add(request(b, new Set())!.id);
          seen.add(request(b, new Set(['zzz']))!.id);
        }
        assert.deepEqual([...seen].sort(), ['a', 'b']);
      });

      it('the remaining targets keep their relative shares', () => {
        const usable = [target('a', 2), target('b', 3), target('c', 5)];
        const rest = usable.slice(0, 2);
        const picks = 30_000;
        for (const seed of SEEDS) {
          const b = make(seed);
          b.refresh(usable);
          const counts = tally(b, usable, picks, new Set(['c']));
          assert.equal(counts.get('c'), 0);
          assertShares(counts, shares(rest, options.honoursWeights), picks, 0.05);
        }
      });
    });

    describe('weights', () => {
      it('all-zero weights are treated as equal', () => {
        const usable = [target('a', 0), target('b', 0), target('c', 0)];
        const picks = 30_000;
        for (const seed of SEEDS) {
          const b = make(seed);
          b.refresh(usable);
          assertShares(tally(b, usable, picks), shares(usable, false), picks, 0.05);
        }
      });

      it('a weight-0 target among non-zero ones gets nothing', () => {
        const usable = [target('z', 0), target('a', 1), target('b', 2)];
        for (const seed of SEEDS) {
          const b = make(seed);
          b.refresh(usable);
          const counts = tally(b, usable, 3_000);
          assert.equal(counts.get('z'), 0);
          assert.ok(counts.get('a')! > 0 && counts.get('b')! > 0);
        }
      });

      it('a weight-0 target gets nothing even when the others are excluded', () => {
        const b = make();
        b.refresh([target('z', 0), target('a', 1), target('b', 2)]);
        for (let i = 0; i < 20; i++) assert.equal(b.pick(CTX, new Set(['a', 'b'])), undefined);
      });

      it('NaN, negative and infinite weights count as 0', () => {
        const usable = [target('n', NaN), target('m', -3), target('i', Infinity), target('a', 2)];
        const b = make();
        b.refresh(usable);
        for (let i = 0; i < 200; i++) assert.equal(request(b)?.id, 'a');
      });

      it('weights are read at refresh: a change takes effect at the next refresh', () => {
        const a = target('a', 1);
        const c = target('c', 0);
        const b = make();
        b.refresh([a, c]);
        c.weight = 1; // Not yet refreshed: c still counts as weight 0.
        for (let i = 0; i < 50; i++) assert.equal(request(b), a);
        b.refresh([a, c]);
        const counts = tally(b, [a, c], 200);
        assert.ok(counts.get('c')! > 0);
      });
    });

    describe('churn', () => {
      it('never returns a removed target after refresh', () => {
        for (const seed of SEEDS) {
          const b = make(seed);
          const first = [target('a', 1), target('b', 2), target('c', 3)];
          b.refresh(first);
          for (let i = 0; i < 37; i++) request(b);
          const second = [target('c', 2), target('d', 1)]; // New objects, one id kept.
          b.refresh(second);
          const counts = tally(b, second, 3_000);
          assert.ok(counts.get('c')! > 0 && counts.get('d')! > 0);
          for (let i = 0; i < 10; i++) request(b); // Mid-stream again.
          const third = [target('e', 1)];
          b.refresh(third);
          for (let i = 0; i < 50; i++) assert.equal(request(b), third[0]);
        }
      });

      it('survives many refreshes interleaved with picks', () => {
        const b = make(7);
        const pool = ['a', 'b', 'c', 'd', 'e', 'f'];
        const rnd = seededRandom(99);
        for (let round = 0; round < 300; round++) {
          const usable: TestTarget[] = [];
          for (const id of pool) {
            if (rnd() < 0.6) usable.push(target(id, Math.floor(rnd() * 4)));
          }
          b.refresh(usable);
          for (let i = 0; i < 5; i++) {
            const t = request(b);
            if (usable.length === 0) assert.equal(t, undefined);
            else assert.ok(t !== undefined && usable.includes(t), `round ${round}`);
          }
        }
      });
    });

    describe('distribution (30,000 picks, seeded)', () => {
      it('equal weights: each target within ±5% of an equal share', () => {
        const usable = [target('a'), target('b'), target('c'), target('d')];
        const picks = 30_000;
        for (const seed of SEEDS) {
          const b = make(seed);
          b.refresh(usable);
          assertShares(tally(b, usable, picks), shares(usable, false), picks, 0.05);
        }
      });

      it(
        options.honoursWeights
          ? 'weights 2,3,5: each target within ±5% of its weighted share'
          : 'weights 2,3,5 are ignored: each target within ±5% of an equal share',
        () => {
          const usable = [target('a', 2), target('b', 3), target('c', 5)];
          const picks = 30_000;
          for (const seed of SEEDS) {
            const b = make(seed);
            b.refresh(usable);
            assertShares(tally(b, usable, picks), shares(usable, options.honoursWeights), picks, 0.05);
          }
        },
      );

      it('two targets weighted 1 and 9 (or ignored): within ±5%', () => {
        const usable = [target('a', 1), target('b', 9)];
        const picks = 30_000;
        const b = make(3);
        b.refresh(usable);
        assertShares(tally(b, usable, picks), shares(usable, options.honoursWeights), picks, 0.06);
      });
    });

    describe('robustness', () => {
      for (const [label, random] of [
        ['always 0', () => 0],
        ['almost 1', () => ALMOST_ONE],
        ['exactly 1 (out of contract)', () => 1],
        ['NaN (out of contract)', () => NaN],
      ] as const) {
        it(`an injected random returning ${label} never breaks a pick`, () => {
          const b = factory({ random });
          const usable = [target('a', 1), target('b', 0), target('c', 4)];
          b.refresh(usable);
          for (let i = 0; i < 50; i++) {
            const t = request(b);
            assert.ok(t !== undefined && usable.includes(t) && t.id !== 'b');
            const u = request(b, new Set([t.id]));
            assert.ok(u !== undefined && u !== t && u.id !== 'b');
          }
        });
      }

      it('does not mutate or retain the usable array', () => {
        const usable = [target('a'), target('b')];
        const snapshot = [...usable];
        const b = make();
        b.refresh(usable);
        usable.length = 0; // The caller reuses its array.
        assert.deepEqual(usable, []);
        for (let i = 0; i < 20; i++) assert.ok(snapshot.includes(request(b)!));
      });
    });

    if (options.hashesKey === true) {
      describe('hash keys', () => {
        const keys = Array.from({ length: 2_000 }, (_, i) => `user-${i}`);
        const mapping = (b: Balancer<TestTarget>, exclude: ReadonlySet<string> | null = null): string[] =>
          keys.map((hashKey) => b.pick({ hashKey }, exclude)!.id);

        it('the same key always gets the same target, across refreshes with the same set', () => {
          const usable = [target('a', 1), target('b', 2), target('c', 3), target('d', 1)];
          const b = rawFactory({ random: seededRandom(5) });
          b.refresh(usable);
          const first = mapping(b);
          assert.deepEqual(mapping(b), first);
          // New objects, another order: the same ids and weights give the same mapping.
          b.refresh([...usable].reverse().map((t) => target(t.id, t.weight)));
          assert.deepEqual(mapping(b), first);
          // Another instance (another process) with the same set agrees.
          const other = rawFactory({ random: seededRandom(6) });
          other.refresh(usable);
          assert.deepEqual(mapping(other), first);
          assert.equal(new Set(first).size, 4);
        });

        it('with exclusion, a key gets the same other target every time', () => {
          const usable = [target('a'), target('b'), target('c'), target('d')];
          const b = rawFactory({ random: seededRandom(5) });
          b.refresh(usable);
          const plain = mapping(b);
          const exclude = new Set(['b']);
          const fallback = mapping(b, exclude);
          assert.deepEqual(mapping(b, exclude), fallback);
          for (let i = 0; i < keys.length; i++) {
            assert.notEqual(fallback[i], 'b');
            if (plain[i] !== 'b') assert.equal(fallback[i], plain[i], `${keys[i]} moved although its target was not excluded`);
          }
          // The keys of the excluded target spread over the others rather than piling onto one.
          const moved = new Set(fallback.filter((_, i) => plain[i] === 'b'));
          assert.equal(moved.size, 3);
        });
      });
    }

    if (options.prefersLeastInFlight === true || options.avoidsMostLoaded === true) {
      describe('in-flight awareness: the busiest target loses', () => {
        it('a target with many requests in flight is not picked', () => {
          const busy = target('busy', 1, 1_000);
          const usable = [target('a', 1), busy, target('c', 1)];
          const b = make();
          b.refresh(usable);
          for (let i = 0; i < 500; i++) assert.notEqual(request(b), busy);
        });

        it('a heavy-weight target with a high in-flight ratio is not picked', () => {
          const busy = target('busy', 9, 1_000);
          const usable = [target('a', 1, 5), busy, target('c', 2, 3)];
          const b = make();
          b.refresh(usable);
          for (let i = 0; i < 500; i++) assert.notEqual(request(b), busy);
        });

        it('of two targets, the one with fewer in flight per unit of weight is picked', () => {
          for (const seed of SEEDS) {
            const a = target('a', 1, 3);
            const c = target('c', 2, 7); // 3.5 per unit of weight: busier than a.
            const b = make(seed);
            b.refresh([a, c]);
            for (let i = 0; i < 200; i++) assert.equal(b.pick(CTX, null), a);
          }
        });
      });
    }

    if (options.prefersLeastInFlight === true) {
      describe('in-flight awareness: always the least loaded', () => {
        it('while requests stay open, each pick goes to the least loaded target', () => {
          const usable = [target('a'), target('b'), target('c')];
          const b = make();
          b.refresh(usable);
          for (let i = 0; i < 30; i++) {
            const min = Math.min(...usable.map((t) => t.inFlight));
            const t = b.pick(CTX, null)!;
            assert.equal(t.inFlight, min);
            t.inFlight++;
            b.onRequestStart?.(t);
          }
          assert.deepEqual(usable.map((t) => t.inFlight), [10, 10, 10]);
        });
      });
    }
  });
}
