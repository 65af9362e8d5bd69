/**
 * `match.query`: a list of `{key?, value}`; OR across entries. An entry matches a query pair
 * when its key pattern (if any) matches the pair's key and its value pattern the pair's value,
 * both case-insensitive with `*`/`?`. Without `key`, any key will do.
 *
 * Owns: compiling the entries and testing RequestView.queryPairs() (decoded once per request).
 * Must not: re-parse the query or match when the request has no query pairs.
 */
import { quote, type Condition, type ConditionExplanation } from '../condition.js';
import type { RequestView } from '../request-view.js';
import { compileWildcard, type WildcardMatcher } from '../wildcard.js';
import type { QueryMatchConfig } from '../../config/types.js';

interface CompiledEntry {
  readonly key: WildcardMatcher | null;
  readonly value: WildcardMatcher;
  readonly text: string;
}

class QueryCondition implements Condition {
  readonly kind = 'query' as const;
  readonly #entries: readonly CompiledEntry[];

  constructor(entries: readonly QueryMatchConfig[]) {
    this.#entries = entries.map((e) => ({
      key: e.key === undefined ? null : compileWildcard(e.key, { caseInsensitive: true }),
      value: compileWildcard(e.value, { caseInsensitive: true }),
      text: `${e.key ?? '*'}=${e.value}`,
    }));
  }

  test(view: RequestView): boolean {
    return this.#find(view) >= 0;
  }

  /** Index into queryPairs() of the first matching pair, with the entry; -1 if none. */
  #find(view: RequestView): number {
    const pairs = view.queryPairs();
    const entries = this.#entries;
    for (let i = 0; i < pairs.length; i++) {
      const pair = pairs[i]!;
      for (let j = 0; j < entries.length; j++) {
        const e = entries[j]!;
        if ((e.key === null || e.key(pair.key)) && e.value(pair.value)) return i * entries.length + j;
      }
    }
    return -1;
  }

  describe(): string {
    return `query has ${this.#entries.map((e) => e.text).join(' or ')}`;
  }

  explain(view: RequestView): ConditionExplanation {
    const hit = this.#find(view);
    const n = this.#entries.length;
    if (hit >= 0) {
      const pair = view.queryPairs()[Math.floor(hit / n)]!;
      const entry = this.#entries[hit % n]!;
      return { ok: true, reason: `query ${quote(pair.key)}=${quote(pair.value)} matches ${entry.text}` };
    }
    const wanted = this.#entries.map((e) => e.text).join(' or ');
    if (view.queryPairs().length === 0) return { ok: false, reason: `query is empty; wanted ${wanted}` };
    return { ok: false, reason: `no query parameter matches ${wanted}` };
  }
}

/** Compiles a query condition; OR across `entries`. */
export function compileQueryCondition(entries: readonly QueryMatchConfig[]): Condition {
  return new QueryCondition(entries);
}
