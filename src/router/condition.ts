/**
 * The Condition interface: one compiled `match` key of a rule (SPEC §3).
 *
 * Owns: the contract every condition in ./conditions/ implements, and small helpers for their
 * human-readable explanations.
 * Must not: hold per-request state. `test` is synchronous and allocation-free beyond the
 * RequestView's own one-time lazy parsing; `explain` may allocate (it serves the CLI).
 */
import type { RequestView } from './request-view.js';

export type ConditionKind = 'host' | 'path' | 'method' | 'header' | 'query' | 'cookie' | 'sourceIp';

export interface ConditionExplanation {
  /** Always equal to `test(view)` for the same view. */
  readonly ok: boolean;
  /** Why, for a human: `host api.example.com does not match *.api.example.com`. */
  readonly reason: string;
}

export interface Condition {
  readonly kind: ConditionKind;
  /** True when the request satisfies this condition (values of one key are OR'd). */
  test(view: RequestView): boolean;
  /** The condition as configured, e.g. `host in [api.example.com, *.api.example.com]`. */
  describe(): string;
  /** Same verdict as `test`, with the reason. */
  explain(view: RequestView): ConditionExplanation;
}

/** `a` for one pattern, `any of a, b` for several. */
export function patternList(patterns: readonly string[]): string {
  return patterns.length === 1 ? patterns[0]! : `any of ${patterns.join(', ')}`;
}

/** A request-supplied value quoted for display (control characters escaped). */
export function quote(value: string): string {
  return JSON.stringify(value);
}
