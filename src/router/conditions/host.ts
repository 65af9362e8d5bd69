/**
 * `match.host`: the Host header (or `:authority`), port stripped, case-insensitive, `*`/`?`.
 *
 * Owns: compiling the host patterns and testing RequestView.host against them.
 * Must not: look at anything but the view's host. `*.example.com` does not match
 * `example.com`: the `.` before the domain is literal and must be present.
 */
import { patternList, type Condition, type ConditionExplanation } from '../condition.js';
import type { RequestView } from '../request-view.js';
import { compileWildcard, toAsciiLowerCase, type WildcardMatcher } from '../wildcard.js';

/**
 * The form a host pattern is matched in: ASCII-lowercased with one trailing dot removed (the
 * same treatment RequestView.host gets). The rule index keys its exact-host map with it.
 */
export function normalizeHostPattern(pattern: string): string {
  const lower = toAsciiLowerCase(pattern);
  return lower.length > 1 && lower.charCodeAt(lower.length - 1) === 0x2e ? lower.slice(0, -1) : lower;
}

class HostCondition implements Condition {
  readonly kind = 'host' as const;
  readonly patterns: readonly string[];
  readonly #matchers: readonly WildcardMatcher[];

  constructor(patterns: readonly string[]) {
    this.patterns = patterns.map(normalizeHostPattern);
    this.#matchers = this.patterns.map((p) => compileWildcard(p, { caseInsensitive: true }));
  }

  test(view: RequestView): boolean {
    const host = view.host;
    const m = this.#matchers;
    for (let i = 0; i < m.length; i++) if (m[i]!(host)) return true;
    return false;
  }

  describe(): string {
    return `host is ${patternList(this.patterns)}`;
  }

  explain(view: RequestView): ConditionExplanation {
    const host = view.host;
    for (let i = 0; i < this.#matchers.length; i++) {
      if (this.#matchers[i]!(host)) return { ok: true, reason: `host ${host} matches ${this.patterns[i]!}` };
    }
    const shown = host === '' ? '(empty)' : host;
    return { ok: false, reason: `host ${shown} does not match ${patternList(this.patterns)}` };
  }
}

/** Compiles a host condition; OR across `patterns`. */
export function compileHostCondition(patterns: readonly string[]): Condition {
  return new HostCondition(patterns);
}
