/**
 * A listener's compiled rules: `match(view)` picks the action, `explain(view)` says why, both
 * from the same compiled conditions (SPEC §3).
 *
 * Owns: compiling each rule's MatchConfig into conditions (cheapest first), building the
 * RuleIndex, the first-match-by-ascending-priority walk over the index's candidates, and the
 * explain trace for `switchyard explain`.
 * Must not: allocate in `match` (results are pre-built per rule), interpret raw config per
 * request, or know what an action is (it is the type parameter `A`).
 */
import type { MatchConfig } from '../config/types.js';
import type { Condition, ConditionKind } from './condition.js';
import { compileCookieCondition } from './conditions/cookie.js';
import { compileHeaderCondition } from './conditions/header.js';
import { compileHostCondition } from './conditions/host.js';
import { compileMethodCondition } from './conditions/method.js';
import { compilePathCondition } from './conditions/path.js';
import { compileQueryCondition } from './conditions/query.js';
import { compileSourceIpCondition } from './conditions/source-ip.js';
import type { RequestView } from './request-view.js';
import { RuleIndex, type IndexedRule, type RuleIndexStats } from './rule-index.js';

/** A rule as the matcher takes it; `match` absent or empty matches every request. */
export interface RuleInput<A> {
  /** 1–50000, unique per listener (validation checks); lowest is evaluated first. */
  readonly priority: number;
  readonly match?: MatchConfig | undefined;
  readonly action: A;
}

/** The outcome of matching: the action and the rule's priority, 0 for the default action. */
export interface MatchResult<A> {
  readonly action: A;
  readonly priority: number;
}

export interface ConditionTrace {
  readonly kind: ConditionKind;
  readonly description: string;
  readonly ok: boolean;
  readonly reason: string;
}

export interface RuleTrace {
  readonly priority: number;
  /** In evaluation order; empty for a rule without conditions (it matches everything). */
  readonly conditions: readonly ConditionTrace[];
  /** Every condition held. */
  readonly matched: boolean;
  /** This rule decided the request (the first one that matched). */
  readonly winner: boolean;
}

export interface ExplainTrace<A> {
  /** Rules in ascending priority up to and including the winner; every condition evaluated. */
  readonly rules: readonly RuleTrace[];
  /** The deciding rule's result, or the default's (priority 0); the object `match` returns. */
  readonly winner: MatchResult<A>;
  /** True when no rule matched and the default action runs. */
  readonly isDefault: boolean;
  /** Rules after the winner, which were not evaluated. */
  readonly notEvaluated: number;
}

export interface Matcher<A> {
  /** First rule (ascending priority) whose conditions all hold, else the default action. */
  match(view: RequestView): MatchResult<A>;
  /** The same decision with a per-rule, per-condition account of it. */
  explain(view: RequestView): ExplainTrace<A>;
  /** The rules the index would hand to `match` for this request, in order (allocates). */
  candidates(view: RequestView): readonly CompiledRule<A>[];
  /** All rules in ascending priority. */
  readonly rules: readonly CompiledRule<A>[];
  /** Number of `Condition.test` calls made by `match` so far (for tests and benchmarks). */
  readonly conditionEvaluations: number;
  readonly indexStats: RuleIndexStats;
}

/** One compiled rule. `result` is the pre-built object `match` returns for it. */
export class CompiledRule<A> implements IndexedRule {
  readonly priority: number;
  readonly order: number;
  /** Cheapest first; all must hold. */
  readonly conditions: readonly Condition[];
  readonly action: A;
  readonly result: MatchResult<A>;
  readonly hostPatterns: readonly string[] | null;
  readonly pathPatterns: readonly string[] | null;

  constructor(priority: number, order: number, match: MatchConfig | undefined, action: A) {
    this.priority = priority;
    this.order = order;
    this.conditions = compileConditions(match);
    this.action = action;
    this.result = Object.freeze({ action, priority });
    this.hostPatterns = nonEmpty(match?.host);
    this.pathPatterns = nonEmpty(match?.path);
  }
}

/** Evaluation order: cheap and selective first, lazily-parsed facts last. */
const COST: Readonly<Record<ConditionKind, number>> = {
  method: 0,
  host: 1,
  path: 2,
  header: 3,
  sourceIp: 4,
  cookie: 5,
  query: 6,
};

/**
 * Compiles a MatchConfig: one condition per key (per name for `header` and `cookie`), AND'd;
 * the values of one key are OR'd. A key with an empty list is treated as absent.
 */
export function compileConditions(match: MatchConfig | undefined): Condition[] {
  const out: Condition[] = [];
  if (match === undefined) return out;
  const host = nonEmpty(match.host);
  if (host !== null) out.push(compileHostCondition(host));
  const path = nonEmpty(match.path);
  if (path !== null) out.push(compilePathCondition(path));
  const method = nonEmpty(match.method);
  if (method !== null) out.push(compileMethodCondition(method));
  if (match.header !== undefined) {
    for (const [name, values] of Object.entries(match.header)) {
      if (values.length > 0) out.push(compileHeaderCondition(name, values));
    }
  }
  const query = match.query;
  if (query !== undefined && query.length > 0) out.push(compileQueryCondition(query));
  if (match.cookie !== undefined) {
    for (const [name, values] of Object.entries(match.cookie)) {
      if (values.length > 0) out.push(compileCookieCondition(name, values));
    }
  }
  const sourceIp = nonEmpty(match.sourceIp);
  if (sourceIp !== null) out.push(compileSourceIpCondition(sourceIp));
  // Array#sort is stable, so conditions of one kind keep their configured order.
  out.sort((a, b) => COST[a.kind] - COST[b.kind]);
  return out;
}

function nonEmpty<T>(list: readonly T[] | undefined): readonly T[] | null {
  return list !== undefined && list.length > 0 ? list : null;
}

const NO_RULES: readonly never[] = Object.freeze([]);

class RuleMatcher<A> implements Matcher<A> {
  readonly rules: readonly CompiledRule<A>[];
  readonly #index: RuleIndex<CompiledRule<A>>;
  readonly #defaultResult: MatchResult<A>;
  #evaluations: number;

  constructor(rules: readonly RuleInput<A>[], defaultAction: A) {
    const sorted = rules
      .map((r, i) => ({ r, i }))
      .sort((x, y) => x.r.priority - y.r.priority || x.i - y.i);
    const compiled: CompiledRule<A>[] = [];
    for (let k = 0; k < sorted.length; k++) {
      const { r } = sorted[k]!;
      compiled.push(new CompiledRule(r.priority, k, r.match, r.action));
    }
    this.rules = compiled;
    this.#index = new RuleIndex(compiled);
    this.#defaultResult = Object.freeze({ action: defaultAction, priority: 0 });
    this.#evaluations = 0;
  }

  get conditionEvaluations(): number {
    return this.#evaluations;
  }

  get indexStats(): RuleIndexStats {
    return this.#index.stats;
  }

  match(view: RequestView): MatchResult<A> {
    const index = this.#index;
    const hosts = index.hasHostBuckets ? index.hostBucket(view.host) : NO_RULES;
    const paths = index.pathBucket(view.path);
    const hn = hosts.length;
    const pn = paths.length;
    let i = 0;
    let j = 0;
    // Two sorted, disjoint lists: walk them merged by `order` (ascending priority).
    while (i < hn || j < pn) {
      let rule: CompiledRule<A>;
      if (j >= pn || (i < hn && hosts[i]!.order < paths[j]!.order)) rule = hosts[i++]!;
      else rule = paths[j++]!;
      if (this.#holds(rule, view)) return rule.result;
    }
    return this.#defaultResult;
  }

  #holds(rule: CompiledRule<A>, view: RequestView): boolean {
    const conditions = rule.conditions;
    for (let k = 0; k < conditions.length; k++) {
      this.#evaluations++;
      if (!conditions[k]!.test(view)) return false;
    }
    return true;
  }

  candidates(view: RequestView): readonly CompiledRule<A>[] {
    return this.#index.candidates(view.host, view.path);
  }

  explain(view: RequestView): ExplainTrace<A> {
    // Every rule, not only the index's candidates: the trace must show why each earlier rule
    // failed. The verdict is the same because the index only drops rules that cannot match.
    const traces: RuleTrace[] = [];
    let result = this.#defaultResult;
    for (const rule of this.rules) {
      const conditions: ConditionTrace[] = [];
      let matched = true;
      for (const c of rule.conditions) {
        const e = c.explain(view);
        conditions.push({ kind: c.kind, description: c.describe(), ok: e.ok, reason: e.reason });
        if (!e.ok) matched = false;
      }
      traces.push({ priority: rule.priority, conditions, matched, winner: matched });
      if (matched) {
        result = rule.result;
        break;
      }
    }
    return {
      rules: traces,
      winner: result,
      isDefault: result === this.#defaultResult,
      notEvaluated: this.rules.length - traces.length,
    };
  }
}

/**
 * Compiles a listener's rules. `rules` may be in any order; duplicate priorities (which
 * validation rejects) keep their input order. Throws only on input validation should have
 * rejected (an invalid CIDR).
 */
export function createMatcher<A>(rules: readonly RuleInput<A>[], defaultAction: A): Matcher<A> {
  return new RuleMatcher(rules, defaultAction);
}
