/**
 * The contract every load-balancing algorithm implements (SPEC §4 "Target choice",
 * ARCHITECTURE §6 items 6–8), plus the small weight-normalisation helpers they share.
 *
 * Owns: choosing one target among the targets the caller says are usable. It does not own
 * health filtering, fail-open, stickiness, slow start or in-flight bookkeeping: the target
 * group wraps the algorithm and does those, then calls `refresh()` with the result. Algorithms
 * do no I/O, take their randomness from `BalancerDeps`, and never throw.
 */
import type { Random } from '../../util/random.js';

/**
 * What a balancer needs to know about a target. The caller owns these objects and may mutate
 * them (they are `readonly` only from the balancer's side).
 */
export interface BalancerTarget {
  /** Target identity, `host:port`; what `exclude` sets contain. */
  readonly id: string;
  /**
   * Effective weight, already adjusted for slow start by the caller: ≥ 0, fractional while a
   * target ramps up (slow-start.ts), otherwise the configured integer. Read in
   * `refresh()` only, so a change must be followed by a refresh. A weight-0 target gets nothing
   * unless every usable target has weight 0, in which case all count as weight 1. Anything that
   * is not a finite number > 0 (NaN, negative) counts as 0.
   */
  readonly weight: number;
  /**
   * Requests currently in flight to this target. Maintained by the caller (the target group),
   * which increments it *before* calling `onRequestStart` and decrements it before
   * `onRequestEnd`. Algorithms that use it read it live in `pick()`.
   */
  readonly inFlight: number;
}

/** Per-request facts an algorithm may use. */
export interface PickContext {
  /** Key for hash-based algorithms (may be ''). */
  readonly hashKey: string;
}

/**
 * One algorithm instance serves one target group (in one worker). Instances are stateful
 * (cursors, current weights) and must not be shared between groups.
 */
export interface Balancer<T extends BalancerTarget = BalancerTarget> {
  /**
   * Called when membership, weights or health change — never per request. Precompute here
   * (cumulative weights, smooth-WRR schedule, GCD…). The balancer keeps a reference to the
   * targets (not to the array), so `pick()` returns the caller's own objects.
   */
  refresh(usable: readonly T[]): void;
  /**
   * Choose one usable target whose id is not in `exclude`; `undefined` when none is left
   * (including before the first `refresh()` and after `refresh([])`). Synchronous, no
   * allocation on the common path. Calling it advances the algorithm's state, so call it once
   * per attempt.
   */
  pick(ctx: PickContext, exclude: ReadonlySet<string> | null): T | undefined;
  /** The caller has started a request to `t` (its `inFlight` is already incremented). */
  onRequestStart?(t: T): void;
  /** A request to `t` has finished (its `inFlight` is already decremented). */
  onRequestEnd?(t: T): void;
}

/** What algorithms may depend on; injected so tests are deterministic. */
export interface BalancerDeps {
  /** Uniform numbers in [0, 1); `defaultRandom` in production, `seededRandom(n)` in tests. */
  readonly random: Random;
}

/** Creates a fresh, empty balancer (call `refresh()` before `pick()`). */
export type BalancerFactory = <T extends BalancerTarget>(deps: BalancerDeps) => Balancer<T>;

/** The targets that can receive traffic under the weight rules, with their normalised weights. */
export interface WeightedCandidates<T extends BalancerTarget> {
  /** Targets with a positive effective weight, in the caller's order. */
  readonly targets: readonly T[];
  /** `weights[i]` belongs to `targets[i]`; every entry is finite and > 0. */
  readonly weights: Float64Array;
  /** Sum of `weights`; 0 only when `targets` is empty. */
  readonly total: number;
  /** Every weight is the same (algorithms take their unweighted fast path). */
  readonly allEqual: boolean;
}

/** The weight a balancer uses for `raw`: itself when a finite number > 0, otherwise 0. */
export function sanitizeWeight(raw: number): number {
  // NaN fails `> 0`; Infinity is rejected explicitly because it breaks every sum.
  return raw > 0 && raw !== Infinity ? raw : 0;
}

/**
 * Applies the weight rules to a usable list: weight-0 targets are dropped, unless all targets
 * have weight 0, in which case all are kept with weight 1. Called from `refresh()`; allocates.
 */
export function weightedCandidates<T extends BalancerTarget>(
  usable: readonly T[],
): WeightedCandidates<T> {
  let positive = 0;
  for (let i = 0; i < usable.length; i++) {
    if (sanitizeWeight(usable[i]!.weight) > 0) positive++;
  }
  const allZero = positive === 0;
  const count = allZero ? usable.length : positive;
  const targets: T[] = [];
  const weights = new Float64Array(count);
  let total = 0;
  let allEqual = true;
  let k = 0;
  for (let i = 0; i < usable.length; i++) {
    const t = usable[i]!;
    const w = allZero ? 1 : sanitizeWeight(t.weight);
    if (w === 0) continue;
    targets.push(t);
    weights[k] = w;
    total += w;
    if (w !== weights[0]) allEqual = false;
    k++;
  }
  return { targets, weights, total, allEqual };
}

/**
 * Smooth-WRR "current weight" state carried across a refresh, keyed by target id, so that a
 * refresh that only changes weights (slow start ticks) continues the interleaving instead of
 * restarting it. New targets start at 0. The result is shifted so that it sums to 0 again (the
 * invariant smooth WRR keeps), by charging the difference to the first target. Allocates.
 */
export function carryCurrentWeights(
  prevIds: readonly string[],
  prevCurrent: Float64Array,
  next: readonly BalancerTarget[],
): Float64Array {
  const out = new Float64Array(next.length);
  if (next.length === 0) return out;
  let byId: Map<string, number> | null = null;
  if (prevIds.length > 0) {
    byId = new Map<string, number>();
    for (let i = 0; i < prevIds.length; i++) byId.set(prevIds[i]!, prevCurrent[i] ?? 0);
  }
  let sum = 0;
  for (let i = 0; i < next.length; i++) {
    const c = byId?.get(next[i]!.id) ?? 0;
    out[i] = c;
    sum += c;
  }
  out[0] = out[0]! - sum;
  return out;
}

/**
 * `Math.floor(random() * n)` clamped into [0, n), for n ≥ 1, so a misbehaving injected source
 * (returning 1, a negative number or NaN) can never produce an out-of-range index.
 */
export function randomIndex(random: Random, n: number): number {
  const i = Math.floor(random() * n);
  if (i >= 0 && i < n) return i;
  return i >= n ? n - 1 : 0;
}
