/**
 * `match.cookie.<name>`: the cookie with that exact (case-sensitive) name; value case-sensitive
 * with `*`/`?`. The first occurrence across all Cookie headers is the cookie's value.
 *
 * Owns: testing RequestView.cookie(name) (parsed once per request) against the patterns.
 * Must not: decode or unquote cookie values (they are compared as sent) or match an absent
 * cookie (even with `*`).
 */
import { patternList, quote, type Condition, type ConditionExplanation } from '../condition.js';
import type { RequestView } from '../request-view.js';
import { compileWildcard, type WildcardMatcher } from '../wildcard.js';

class CookieCondition implements Condition {
  readonly kind = 'cookie' as const;
  readonly name: string;
  readonly patterns: readonly string[];
  readonly #matchers: readonly WildcardMatcher[];

  constructor(name: string, patterns: readonly string[]) {
    this.name = name;
    this.patterns = patterns.slice();
    this.#matchers = this.patterns.map((p) => compileWildcard(p, { caseInsensitive: false }));
  }

  test(view: RequestView): boolean {
    const value = view.cookie(this.name);
    return value !== null && this.#index(value) >= 0;
  }

  #index(value: string): number {
    const m = this.#matchers;
    for (let i = 0; i < m.length; i++) if (m[i]!(value)) return i;
    return -1;
  }

  describe(): string {
    return `cookie ${this.name} is ${patternList(this.patterns)}`;
  }

  explain(view: RequestView): ConditionExplanation {
    const value = view.cookie(this.name);
    if (value === null) return { ok: false, reason: `cookie ${this.name} is absent` };
    const i = this.#index(value);
    if (i >= 0) return { ok: true, reason: `cookie ${this.name}=${quote(value)} matches ${this.patterns[i]!}` };
    const folded = this.patterns.find((p) => compileWildcard(p, { caseInsensitive: true })(value));
    if (folded !== undefined) {
      return { ok: false, reason: `cookie value is case-sensitive: ${folded} does not match ${quote(value)}` };
    }
    return { ok: false, reason: `cookie ${this.name}=${quote(value)} does not match ${patternList(this.patterns)}` };
  }
}

/** Compiles one cookie condition; OR across `patterns`. */
export function compileCookieCondition(name: string, patterns: readonly string[]): Condition {
  return new CookieCondition(name, patterns);
}
