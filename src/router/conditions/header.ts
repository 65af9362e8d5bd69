/**
 * `match.header.<Name>`: one named header; name case-insensitive, value case-insensitive with
 * `*`/`?`. Any value of a repeated header may match; a comma-joined value is one value.
 *
 * Owns: scanning RequestView.rawHeaders for the name and testing each value.
 * Must not: split values on commas, allocate in `test` (it walks the flat raw header array),
 * or match an absent header (even with `*`).
 */
import { patternList, quote, type Condition, type ConditionExplanation } from '../condition.js';
import type { RequestView } from '../request-view.js';
import { compileWildcard, equalsAsciiIgnoreCase, toAsciiLowerCase, type WildcardMatcher } from '../wildcard.js';

class HeaderCondition implements Condition {
  readonly kind = 'header' as const;
  /** Lowercase header name. */
  readonly name: string;
  readonly patterns: readonly string[];
  readonly #matchers: readonly WildcardMatcher[];

  constructor(name: string, patterns: readonly string[]) {
    this.name = toAsciiLowerCase(name);
    this.patterns = patterns.slice();
    this.#matchers = this.patterns.map((p) => compileWildcard(p, { caseInsensitive: true }));
  }

  test(view: RequestView): boolean {
    const raw = view.rawHeaders;
    const name = this.name;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      if (equalsAsciiIgnoreCase(raw[i]!, name) && this.#testValue(raw[i + 1]!) >= 0) return true;
    }
    return false;
  }

  #testValue(value: string): number {
    const m = this.#matchers;
    for (let j = 0; j < m.length; j++) if (m[j]!(value)) return j;
    return -1;
  }

  describe(): string {
    return `header ${this.name} is ${patternList(this.patterns)}`;
  }

  explain(view: RequestView): ConditionExplanation {
    const values = view.headerValues(this.name);
    if (values.length === 0) return { ok: false, reason: `header ${this.name} is absent` };
    for (const v of values) {
      const j = this.#testValue(v);
      if (j >= 0) return { ok: true, reason: `header ${this.name} value ${quote(v)} matches ${this.patterns[j]!}` };
    }
    const shown = values.map(quote).join(', ');
    const said = values.length === 1 ? `value ${shown} does` : `values ${shown} do`;
    return { ok: false, reason: `header ${this.name} ${said} not match ${patternList(this.patterns)}` };
  }
}

/** Compiles one header condition; OR across `patterns`. */
export function compileHeaderCondition(name: string, patterns: readonly string[]): Condition {
  return new HeaderCondition(name, patterns);
}
