/**
 * `consistent_hash`: the same hash key (client address, a header, a cookie or the path; see
 * `targetGroups[].hashOn`) goes to the same target for as long as the usable set is the same,
 * and when one of N targets joins or leaves only about 1/N of the keys move.
 *
 * Maglev hashing (Eisenbud et al., NSDI 2016), as Envoy's `MAGLEV` load balancer builds it
 * (docs/decisions/0005-consistent-hash-and-power-of-two.md says why Maglev, not a ketama ring):
 * - `refresh()` fills a lookup table of M slots (M prime, 65,537 by default) in which every
 *   target owns a share of slots proportional to its weight; each target claims slots in the
 *   order of its own permutation `(offset + j·skip) mod M`, with offset and skip derived from a
 *   hash of its id, so the table depends only on the set of (id, weight) pairs, not on the
 *   order targets were registered in, and every node with the same targets builds the same
 *   table.
 * - `pick()` is one hash of the key and one table read: O(key length), no allocation.
 * - With `exclude` (a retry), the key walks its own sequence of alternative slots (the key
 *   hashed again with seeds 1, 2, …, as Envoy's Maglev does for a retry) to the first target
 *   that is not excluded. Deterministic per key, so a key's fallback is stable, and the keys of
 *   an excluded target spread over the others in proportion to their weights. (The next slot
 *   of the table would not do: neighbouring slots are correlated by the fill order, which
 *   shifts about a fifth of the fallback share between targets weighted 2 and 3.)
 * - An empty key (the header or cookie is absent) has nothing to be consistent about: it goes to
 *   a random slot (weighted random), so keyless requests do not all land on one target.
 *
 * Owns: the table of one target group. No I/O; never throws.
 */
import {
  type Balancer,
  type BalancerDeps,
  type BalancerTarget,
  type PickContext,
  randomIndex,
  weightedCandidates,
} from './balancer.js';
import type { Random } from '../../util/random.js';
import { hashString } from '../../util/hash.js';

/** Tuning for `ConsistentHashBalancer`; every field is optional. */
export interface ConsistentHashOptions {
  /**
   * Lookup table size; must be a prime. Default: 65,537 (Envoy's default), or the smallest of
   * 131,071, 262,139, 524,287 and 1,048,573 that is at least 100 × the number of targets, so
   * that shares stay within about 1% of the weights.
   */
  readonly tableSize?: number;
}

/** Default table sizes, all prime; the first that is ≥ 100 × targets is used. */
const TABLE_SIZES = [65_537, 131_071, 262_139, 524_287, 1_048_573] as const;
/** Seeds of the two target-id hashes (offset and skip) and of the key hash. */
const SEED_OFFSET = 0x5eed0001;
const SEED_SKIP = 0x5eed0002;
const SEED_KEY = 0;
/** Alternative slots tried for an excluded target before a linear scan of the table. */
const MAX_REHASHES = 32;

const EMPTY_TABLE = new Uint32Array(0);

/** One target's input to the table build. */
export interface MaglevEntry {
  /** First slot of the target's permutation, in [0, size). */
  readonly offset: number;
  /** Step of the target's permutation, in [1, size). */
  readonly skip: number;
  /** Relative weight, finite and > 0. */
  readonly weight: number;
}

/**
 * Fills a Maglev lookup table: `table[slot]` is an index into `entries`. `size` must be a
 * prime ≥ entries.length (so every permutation visits every slot). Entries take turns in
 * array order; an entry of weight w takes a turn in w/maxWeight of the rounds (Envoy's
 * weighted variant; with equal weights this is exactly the paper's round-robin fill).
 * Exported for the golden test against the paper's example.
 */
export function populateMaglevTable(entries: readonly MaglevEntry[], size: number): Uint32Array {
  const n = entries.length;
  const table = new Uint32Array(size);
  if (n === 0) return table;
  let maxWeight = 0;
  for (let i = 0; i < n; i++) maxWeight = Math.max(maxWeight, entries[i]!.weight);
  const position = new Int32Array(n); // Current slot of each permutation.
  const skips = new Int32Array(n);
  const weights = new Float64Array(n);
  const credit = new Float64Array(n); // Envoy's target_weight_.
  // 0 = free; table entries are written as index + 1 while filling, then shifted back.
  for (let i = 0; i < n; i++) {
    const e = entries[i]!;
    position[i] = e.offset;
    skips[i] = e.skip;
    weights[i] = e.weight;
  }
  let filled = 0;
  for (let round = 0; filled < size; round++) {
    for (let i = 0; i < n && filled < size; i++) {
      if (round * weights[i]! < credit[i]!) continue;
      credit[i] = credit[i]! + maxWeight;
      const skip = skips[i]!;
      let c = position[i]!;
      while (table[c] !== 0) {
        c += skip;
        if (c >= size) c -= size;
      }
      table[c] = i + 1;
      filled++;
      c += skip;
      position[i] = c >= size ? c - size : c;
    }
  }
  for (let c = 0; c < size; c++) table[c] = table[c]! - 1;
  return table;
}

/** The default table size for `n` targets. */
function defaultTableSize(n: number): number {
  for (const size of TABLE_SIZES) if (size >= 100 * n) return size;
  return TABLE_SIZES[TABLE_SIZES.length - 1]!;
}

/** Maglev consistent hashing over the usable targets, honouring weights. */
export class ConsistentHashBalancer<T extends BalancerTarget = BalancerTarget> implements Balancer<T> {
  readonly #random: Random;
  readonly #fixedSize: number;
  /** Usable targets (weight > 0), sorted by id: `#table` holds indexes into it. */
  #targets: readonly T[];
  #table: Uint32Array;
  /** `id weight` pairs the table was built from; an unchanged set reuses the table. */
  #signature: string;

  constructor(deps: BalancerDeps, options: ConsistentHashOptions = {}) {
    this.#random = deps.random;
    this.#fixedSize = options.tableSize ?? 0;
    this.#targets = [];
    this.#table = EMPTY_TABLE;
    this.#signature = '';
  }

  /** The lookup table size in use (0 before the first non-empty refresh). */
  get tableSize(): number {
    return this.#table.length;
  }

  refresh(usable: readonly T[]): void {
    const { targets, weights } = weightedCandidates(usable);
    const n = targets.length;
    if (n === 0) {
      this.#targets = [];
      this.#table = EMPTY_TABLE;
      this.#signature = '';
      return;
    }
    const order: number[] = [];
    for (let i = 0; i < n; i++) order.push(i);
    order.sort((a, b) => compareIds(targets[a]!.id, targets[b]!.id));
    const sorted: T[] = [];
    let signature = '';
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      sorted.push(targets[i]!);
      signature += `${targets[i]!.id} ${weights[i]!}\n`;
    }
    // The caller may pass new objects for the same targets: always take the new array.
    this.#targets = sorted;
    if (signature === this.#signature) return;
    // A fixed size smaller than the target count (a test's tiny table) cannot hold them all.
    const size = this.#fixedSize >= n ? this.#fixedSize : defaultTableSize(n);
    const entries: MaglevEntry[] = [];
    for (let k = 0; k < n; k++) {
      const id = sorted[k]!.id;
      entries.push({
        offset: hashString(id, SEED_OFFSET) % size,
        skip: (hashString(id, SEED_SKIP) % (size - 1)) + 1,
        weight: weights[order[k]!]!,
      });
    }
    this.#table = populateMaglevTable(entries, size);
    this.#signature = signature;
  }

  pick(ctx: PickContext, exclude: ReadonlySet<string> | null): T | undefined {
    const table = this.#table;
    const size = table.length;
    if (size === 0) return undefined;
    const key = ctx.hashKey;
    const slot = key === '' ? randomIndex(this.#random, size) : hashString(key, SEED_KEY) % size;
    const targets = this.#targets;
    const first = targets[table[slot]!]!;
    if (exclude === null || exclude.size === 0 || !exclude.has(first.id)) return first;
    return this.#walk(key, slot, exclude);
  }

  /**
   * The retry path: the first non-excluded target among the key's alternative slots, then (only
   * if those all hit excluded targets) after the last of them in table order; undefined when
   * every target is excluded.
   */
  #walk(key: string, slot: number, exclude: ReadonlySet<string>): T | undefined {
    const targets = this.#targets;
    let left = 0;
    for (let i = 0; i < targets.length; i++) if (!exclude.has(targets[i]!.id)) left++;
    if (left === 0) return undefined;
    const table = this.#table;
    const size = table.length;
    let s = slot;
    for (let attempt = 1; attempt <= MAX_REHASHES; attempt++) {
      s = key === '' ? randomIndex(this.#random, size) : hashString(key, attempt) % size;
      const t = targets[table[s]!]!;
      if (!exclude.has(t.id)) return t;
    }
    // Terminates: some slot belongs to a target that is not excluded (each owns ≥ 1 slot).
    for (let step = 1; step < size; step++) {
      s = s + 1 === size ? 0 : s + 1;
      const t = targets[table[s]!]!;
      if (!exclude.has(t.id)) return t;
    }
    return undefined;
  }
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
