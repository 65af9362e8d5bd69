/**
 * `match.method`: the request method, exact and case-sensitive, no wildcards.
 *
 * Owns: testing RequestView.method against the configured list.
 * Must not: fold case (`get` is not `GET`, as with ALB) or treat HEAD as GET.
 */
import type { Condition, ConditionExplanation } from '../condition.js';
import type { RequestView } from '../request-view.js';

class MethodCondition implements Condition {
  readonly kind = 'method' as const;
  readonly methods: readonly string[];

  constructor(methods: readonly string[]) {
    this.methods = methods.slice();
  }

  test(view: RequestView): boolean {
    const method = view.method;
    const list = this.methods;
    for (let i = 0; i < list.length; i++) if (list[i] === method) return true;
    return false;
  }

  describe(): string {
    return `method is ${this.methods.join(' or ')}`;
  }

  explain(view: RequestView): ConditionExplanation {
    const method = view.method;
    if (this.test(view)) return { ok: true, reason: `method ${method} is ${method}` };
    const upper = method.toUpperCase();
    if (upper !== method && this.methods.includes(upper)) {
      return { ok: false, reason: `method is case-sensitive: ${method} is not ${upper}` };
    }
    return { ok: false, reason: `method ${method} is not ${this.methods.join(' or ')}` };
  }
}

/** Compiles a method condition; OR across `methods`. */
export function compileMethodCondition(methods: readonly string[]): Condition {
  return new MethodCondition(methods);
}
