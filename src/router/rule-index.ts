/**
 * The candidate index of one listener's rules, so that matching cost does not grow with the
 * number of rules for the common shapes (SPEC §3): exact hosts and exact or `/prefix*` paths.
 *
 * Owns: sorting every rule into exactly one dimension, then precomputing sorted candidate lists:
 *   - host-indexed: every host pattern is exact → one bucket per lowercase host;
 *   - path-indexed: otherwise, when every path pattern is exact (`/health`) or a literal prefix
 *     (`/api/*`, `/img*`) → an exact-path map and a radix tree of prefixes;
 *   - unindexed: everything else (wildcard hosts with no indexable path, header-only rules…).
 * Each path-dimension list (radix node, exact path, and the "no path bucket" fallback) already
 * contains the unindexed rules and the prefix rules of its ancestors, so a lookup is one map get
 * (or a walk of the path's characters) returning a ready list. The matcher merges that list with
 * the host bucket by `order`; a rule lives in one dimension only, so the two never overlap.
 * Must not: decide anything. The index only prunes rules that cannot match; ascending priority
 * (`order`) and the rules' own conditions decide. Lookups never allocate.
 *
 * Memory: unindexed rules are copied into every path list (buckets × unindexed entries); fine
 * for the rule counts a listener has (ALB allows 100 per listener, we test 2000).
 */
import { normalizeHostPattern } from './conditions/host.js';
import { hasWildcard, wildcardShape } from './wildcard.js';

/** What the index needs to know about a rule. */
export interface IndexedRule {
  /** Position in ascending-priority order, unique per listener; lists are sorted by it. */
  readonly order: number;
  /** Host patterns as configured, or null without a host condition. */
  readonly hostPatterns: readonly string[] | null;
  /** Path patterns as configured, or null without a path condition. */
  readonly pathPatterns: readonly string[] | null;
}

export interface RuleIndexStats {
  readonly hostBuckets: number;
  readonly exactPaths: number;
  readonly pathPrefixes: number;
  readonly hostIndexedRules: number;
  readonly pathIndexedRules: number;
  readonly unindexedRules: number;
}

/** A radix-tree node; `label` is the edge text from its parent. Build-time fields are mutable. */
class PrefixNode<R> {
  label: string;
  children: Map<number, PrefixNode<R>> | null;
  /** Rules whose prefix ends exactly here (build time only). */
  own: R[] | null;
  /** Candidates for a path whose longest indexed prefix ends here; null if none ends here. */
  list: readonly R[] | null;

  constructor(label: string) {
    this.label = label;
    this.children = null;
    this.own = null;
    this.list = null;
  }
}

const EMPTY: readonly never[] = Object.freeze([]);

export class RuleIndex<R extends IndexedRule> {
  /** False when no rule is host-indexed: the matcher can skip computing the host. */
  readonly hasHostBuckets: boolean;
  readonly stats: RuleIndexStats;

  readonly #hosts: Map<string, readonly R[]>;
  readonly #exactPaths: Map<string, readonly R[]>;
  readonly #root: PrefixNode<R>;
  /** The unindexed rules: candidates for a path with no bucket. */
  readonly #fallback: readonly R[];

  /** `rules` in any order; they are sorted by `order`. */
  constructor(rules: readonly R[]) {
    const hostRules = new Map<string, R[]>();
    const exactRules = new Map<string, R[]>();
    const unindexed: R[] = [];
    this.#root = new PrefixNode<R>('');
    let hostIndexed = 0;
    let pathIndexed = 0;
    let prefixes = 0;

    for (const rule of rules) {
      const hosts = indexableHosts(rule.hostPatterns);
      if (hosts !== null) {
        hostIndexed++;
        for (const h of hosts) push(hostRules, h, rule);
        continue;
      }
      const paths = indexablePaths(rule.pathPatterns);
      if (paths !== null) {
        pathIndexed++;
        for (const p of paths) {
          if (p.prefix) {
            prefixes++;
            insertPrefix(this.#root, p.literal, rule);
          } else push(exactRules, p.literal, rule);
        }
        continue;
      }
      unindexed.push(rule);
    }

    this.#fallback = sortedUnique(unindexed, EMPTY);
    finishPrefixes(this.#root, EMPTY, this.#fallback);
    this.#hosts = new Map();
    for (const [host, list] of hostRules) this.#hosts.set(host, sortedUnique(list, EMPTY));
    this.#exactPaths = new Map();
    for (const [path, list] of exactRules) this.#exactPaths.set(path, sortedUnique(list, this.#prefixLookup(path)));

    this.hasHostBuckets = this.#hosts.size > 0;
    this.stats = {
      hostBuckets: this.#hosts.size,
      exactPaths: this.#exactPaths.size,
      pathPrefixes: prefixes,
      hostIndexedRules: hostIndexed,
      pathIndexedRules: pathIndexed,
      unindexedRules: unindexed.length,
    };
  }

  /** Host-indexed candidates for a matching host (RequestView.host), sorted by `order`. */
  hostBucket(host: string): readonly R[] {
    return this.#hosts.get(host) ?? EMPTY;
  }

  /** Path-indexed and unindexed candidates for a normalised path, sorted by `order`. */
  pathBucket(path: string): readonly R[] {
    return this.#exactPaths.get(path) ?? this.#prefixLookup(path);
  }

  /** Both lists merged: every rule that could match. Allocates; for explain and tests. */
  candidates(host: string, path: string): R[] {
    return sortedUnique(this.hasHostBuckets ? this.hostBucket(host) : EMPTY, this.pathBucket(path));
  }

  #prefixLookup(path: string): readonly R[] {
    let node = this.#root;
    let pos = 0;
    let best = this.#fallback;
    for (;;) {
      if (node.list !== null) best = node.list;
      if (node.children === null || pos >= path.length) return best;
      const child = node.children.get(path.charCodeAt(pos));
      if (child === undefined || !path.startsWith(child.label, pos)) return best;
      pos += child.label.length;
      node = child;
    }
  }
}

function push<R>(map: Map<string, R[]>, key: string, rule: R): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [rule]);
  else list.push(rule);
}

function sortedUnique<R extends IndexedRule>(a: readonly R[], b: readonly R[]): R[] {
  const all = [...new Set([...a, ...b])];
  all.sort((x, y) => x.order - y.order);
  return all;
}

/** Lowercase exact hosts, or null when the rule cannot be host-indexed. */
function indexableHosts(patterns: readonly string[] | null): string[] | null {
  if (patterns === null || patterns.length === 0) return null;
  const out: string[] = [];
  for (const p of patterns) {
    if (hasWildcard(p)) return null;
    out.push(normalizeHostPattern(p));
  }
  return out;
}

/** Exact paths and literal prefixes, or null when some pattern has another shape. */
function indexablePaths(patterns: readonly string[] | null): { literal: string; prefix: boolean }[] | null {
  if (patterns === null || patterns.length === 0) return null;
  const out: { literal: string; prefix: boolean }[] = [];
  for (const p of patterns) {
    const shape = wildcardShape(p);
    if (shape.kind === 'exact') out.push({ literal: shape.literal, prefix: false });
    else if (shape.kind === 'prefix') out.push({ literal: shape.literal, prefix: true });
    else return null;
  }
  return out;
}

function insertPrefix<R>(root: PrefixNode<R>, key: string, rule: R): void {
  let node = root;
  let pos = 0;
  for (;;) {
    if (pos === key.length) {
      (node.own ??= []).push(rule);
      return;
    }
    const c = key.charCodeAt(pos);
    const children = (node.children ??= new Map());
    const child = children.get(c);
    if (child === undefined) {
      const leaf = new PrefixNode<R>(key.slice(pos));
      leaf.own = [rule];
      children.set(c, leaf);
      return;
    }
    const label = child.label;
    let k = 1; // The first character matched through the map key.
    while (k < label.length && pos + k < key.length && label.charCodeAt(k) === key.charCodeAt(pos + k)) k++;
    if (k < label.length) {
      // Split the edge: node → mid (common part) → child (rest).
      const mid = new PrefixNode<R>(label.slice(0, k));
      child.label = label.slice(k);
      mid.children = new Map([[child.label.charCodeAt(0), child]]);
      children.set(c, mid);
      node = mid;
    } else node = child;
    pos += k;
  }
}

/** Precomputes each terminal node's list: its rules, its ancestors' and the unindexed ones. */
function finishPrefixes<R extends IndexedRule>(node: PrefixNode<R>, inherited: readonly R[], unindexed: readonly R[]): void {
  let acc = inherited;
  if (node.own !== null) {
    acc = inherited.concat(node.own);
    node.list = sortedUnique(acc, unindexed);
    node.own = null;
  }
  if (node.children !== null) for (const child of node.children.values()) finishPrefixes(child, acc, unindexed);
}
