/**
 * `match.path`: the normalised path without query, case-sensitive, `*` (crosses `/`) and `?`.
 *
 * Owns: compiling the path patterns and testing RequestView.path against them.
 * Must not: normalise or decode the path itself (path-normalize.ts did that once for routing and
 * forwarding alike), or look at the query.
 */
import { patternList, type Condition, type ConditionExplanation } from '../condition.js';
import type { RequestView } from '../request-view.js';
import { compileWildcard, type WildcardMatcher } from '../wildcard.js';

class PathCondition implements Condition {
  readonly kind = 'path' as const;
  readonly patterns: readonly string[];
  readonly #matchers: readonly WildcardMatcher[];

  constructor(patterns: readonly string[]) {
    this.patterns = patterns.slice();
    this.#matchers = this.patterns.map((p) => compileWildcard(p, { caseInsensitive: false }));
  }

  test(view: RequestView): boolean {
    const path = view.path;
    const m = this.#matchers;
    for (let i = 0; i < m.length; i++) if (m[i]!(path)) return true;
    return false;
  }

  describe(): string {
    return `path is ${patternList(this.patterns)}`;
  }

  explain(view: RequestView): ConditionExplanation {
    const path = view.path;
    for (let i = 0; i < this.#matchers.length; i++) {
      if (this.#matchers[i]!(path)) return { ok: true, reason: `path ${path} matches ${this.patterns[i]!}` };
    }
    // Say so when only the case differs: the most common surprise with path rules.
    for (const p of this.patterns) {
      if (compileWildcard(p, { caseInsensitive: true })(path)) {
        return { ok: false, reason: `path is case-sensitive: ${p} does not match ${path}` };
      }
    }
    return { ok: false, reason: `path ${path} does not match ${patternList(this.patterns)}` };
  }
}

/** Compiles a path condition; OR across `patterns`. */
export function compilePathCondition(patterns: readonly string[]): Condition {
  return new PathCondition(patterns);
}
