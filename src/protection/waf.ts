/**
 * `protection.waf`: rules that look at a request (routing conditions plus regular expressions on
 * the path, query, headers and body prefix) and block it (403) or only count it, plus the
 * optional built-in signatures (builtin-rules.ts). docs/decisions/0010.
 *
 * Owns: compiling WAF rules once (conditions through the router's own compiler, regexes with
 * their flags), the percent-decoding applied before patterns are tested (repeated up to three
 * times, so `%252e` is seen as `.`), and the evaluation order: rules in configured order, then
 * the built-in ones; every hit is reported, the first blocking hit ends the evaluation. Rules
 * without body patterns run as soon as the head is routed; rules with body patterns (and the
 * built-ins' body check) run once `inspectBodyBytes` of the body (or all of it) have arrived.
 * Must not: keep per-request state between calls (evaluation is synchronous), do I/O, or
 * throw per request.
 */
import type { ResolvedWaf, ResolvedWafRule } from '../config/defaults.js';
import type { Condition } from '../router/condition.js';
import { compileConditions } from '../router/matcher.js';
import type { RequestView } from '../router/request-view.js';
import { toAsciiLowerCase, equalsAsciiIgnoreCase } from '../router/wildcard.js';
import { BUILTIN_RULES } from './builtin-rules.js';

/** What a protection reports when it acts (pre-built per rule: reporting allocates nothing). */
export interface ProtectionHit {
  readonly protection: 'ip_filter' | 'rate_limit' | 'waf';
  /** WAF rule name, `deny`/`allow` for the IP filter, `rate_limit` for the limiter. */
  readonly name: string;
  readonly action: 'block' | 'count';
}

/** Receives every hit (metrics and logs). `scope` is the rule priority, or -1 for the listener. */
export interface ProtectionReporter {
  onProtection(scope: number, hit: ProtectionHit, sourceIp: string, method: string, path: string): void;
}

// ---- decoding --------------------------------------------------------------------------------

function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** One pass of lenient percent-decoding (UTF-8; malformed escapes kept), `+` → space if asked. */
function decodeOnce(s: string, plus: boolean): string {
  let out = '';
  let i = 0;
  let run = 0;
  const n = s.length;
  let bytes: number[] | null = null;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < n && hex(s.charCodeAt(i + 1)) >= 0 && hex(s.charCodeAt(i + 2)) >= 0) {
      out += s.slice(run, i);
      bytes ??= [];
      bytes.length = 0;
      while (i + 2 < n && s.charCodeAt(i) === 0x25 && hex(s.charCodeAt(i + 1)) >= 0 && hex(s.charCodeAt(i + 2)) >= 0) {
        bytes.push((hex(s.charCodeAt(i + 1)) << 4) | hex(s.charCodeAt(i + 2)));
        i += 3;
      }
      out += Buffer.from(bytes).toString('utf8');
      run = i;
      continue;
    }
    if (plus && c === 0x2b) {
      out += s.slice(run, i) + ' ';
      run = i + 1;
    }
    i++;
  }
  return out + s.slice(run);
}

/**
 * The value patterns are tested against: percent-decoded until it stops changing (at most three
 * passes). Returns the input itself when it has nothing to decode.
 */
export function decodeForInspection(s: string, plus: boolean): string {
  let cur = s;
  for (let pass = 0; pass < 3; pass++) {
    if (cur.indexOf('%') < 0 && (!plus || cur.indexOf('+') < 0)) return cur;
    const next = decodeOnce(cur, plus && pass === 0);
    if (next === cur) return cur;
    cur = next;
  }
  return cur;
}

/** The decoded parts of one request, computed lazily; reset for each evaluation. */
class Subject {
  view: RequestView | null = null;
  #path: string | null = null;
  #query: string | null = null;

  reset(view: RequestView): this {
    this.view = view;
    this.#path = null;
    this.#query = null;
    return this;
  }

  get path(): string {
    return (this.#path ??= decodeForInspection(this.view!.path, false));
  }

  get query(): string {
    return (this.#query ??= decodeForInspection(this.view!.query, true));
  }

  /** Whether any value of header `lowerName` (decoded) matches one of `res`. */
  headerMatches(lowerName: string, res: readonly RegExp[]): boolean {
    const raw = this.view!.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      if (!equalsAsciiIgnoreCase(raw[i]!, lowerName)) continue;
      if (anyMatch(res, decodeForInspection(raw[i + 1]!, false))) return true;
    }
    return false;
  }
}

/** Evaluation is synchronous: one Subject serves every request in turn. */
const subject = new Subject();

function anyMatch(res: readonly RegExp[], s: string): boolean {
  for (let i = 0; i < res.length; i++) if (res[i]!.test(s)) return true;
  return false;
}

// ---- rules -----------------------------------------------------------------------------------

interface WafRule {
  readonly hit: ProtectionHit;
  /** Evaluated once the body prefix is known (null body: head phase). */
  readonly usesBody: boolean;
  /** Head-phase test (rules that do not use the body, and the built-ins' head targets). */
  testHead(s: Subject): boolean;
  /** Body-phase test; `body` is the decoded prefix. */
  testBody(s: Subject, body: string): boolean;
}

class ConfiguredRule implements WafRule {
  readonly hit: ProtectionHit;
  readonly usesBody: boolean;
  readonly #conditions: readonly Condition[];
  readonly #path: readonly RegExp[] | null;
  readonly #query: readonly RegExp[] | null;
  readonly #headers: readonly (readonly [string, readonly RegExp[]])[];
  readonly #body: readonly RegExp[] | null;

  constructor(r: ResolvedWafRule) {
    const flags = r.caseSensitive ? '' : 'i';
    const re = (list: readonly string[]): RegExp[] | null => (list.length === 0 ? null : list.map((p) => new RegExp(p, flags)));
    this.hit = Object.freeze({ protection: 'waf' as const, name: r.name, action: r.action });
    this.#conditions = compileConditions(r.match);
    this.#path = re(r.path);
    this.#query = re(r.query);
    this.#headers = Object.entries(r.header)
      .filter(([, v]) => v.length > 0)
      .map(([name, values]) => [toAsciiLowerCase(name), re(values)!] as const);
    this.#body = re(r.body);
    this.usesBody = this.#body !== null;
  }

  testHead(s: Subject): boolean {
    const view = s.view!;
    const c = this.#conditions;
    for (let i = 0; i < c.length; i++) if (!c[i]!.test(view)) return false;
    if (this.#path !== null && !anyMatch(this.#path, s.path)) return false;
    if (this.#query !== null && !anyMatch(this.#query, s.query)) return false;
    const h = this.#headers;
    for (let i = 0; i < h.length; i++) if (!s.headerMatches(h[i]![0], h[i]![1])) return false;
    return true;
  }

  testBody(s: Subject, body: string): boolean {
    return this.testHead(s) && this.#body !== null && anyMatch(this.#body, body);
  }
}

const BUILTIN_HEADERS = ['cookie', 'referer', 'user-agent'];

class BuiltinRule implements WafRule {
  readonly hit: ProtectionHit;
  readonly usesBody = true;
  readonly #patterns: readonly RegExp[];

  constructor(name: string, patterns: readonly RegExp[], action: 'block' | 'count') {
    this.hit = Object.freeze({ protection: 'waf' as const, name, action });
    this.#patterns = patterns;
  }

  testHead(s: Subject): boolean {
    const p = this.#patterns;
    if (anyMatch(p, s.path) || anyMatch(p, s.query)) return true;
    for (let i = 0; i < BUILTIN_HEADERS.length; i++) if (s.headerMatches(BUILTIN_HEADERS[i]!, p)) return true;
    return false;
  }

  testBody(_s: Subject, body: string): boolean {
    return anyMatch(this.#patterns, body);
  }
}

export class CompiledWaf {
  readonly inspectBodyBytes: number;
  /** Some rule looks at the body (a `body` pattern, or the built-ins with inspectBodyBytes > 0). */
  readonly needsBody: boolean;
  readonly #rules: readonly WafRule[];

  constructor(w: ResolvedWaf) {
    const rules: WafRule[] = w.rules.map((r) => new ConfiguredRule(r));
    if (w.builtin) for (const b of BUILTIN_RULES) rules.push(new BuiltinRule(b.name, b.patterns, w.mode));
    this.#rules = rules;
    this.inspectBodyBytes = w.inspectBodyBytes;
    this.needsBody = w.inspectBodyBytes > 0 && rules.some((r) => r.usesBody);
  }

  /**
   * The head phase. With `bodyFollows` false (no body, or body inspection off) rules that use
   * the body are tested against an empty body now; otherwise they wait for `inspectBody`. Every
   * hit goes to `reporter`; returns the first blocking hit, or null.
   */
  inspectHead(view: RequestView, bodyFollows: boolean, reporter: ProtectionReporter | null, scope: number, sourceIp: string): ProtectionHit | null {
    const s = subject.reset(view);
    const rules = this.#rules;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      let hit: boolean;
      // The built-ins test the head targets now and the body later; a configured rule with a
      // body pattern waits for the body, or sees an empty one when none follows.
      if (r instanceof BuiltinRule) hit = r.testHead(s);
      else hit = r.usesBody ? !bodyFollows && r.testBody(s, '') : r.testHead(s);
      if (!hit) continue;
      reporter?.onProtection(scope, r.hit, sourceIp, view.method, view.path);
      if (r.hit.action === 'block') return r.hit;
    }
    return null;
  }

  /** The body phase: rules that use the body, against the decoded prefix. */
  inspectBody(view: RequestView, prefix: Buffer, reporter: ProtectionReporter | null, scope: number, sourceIp: string): ProtectionHit | null {
    const s = subject.reset(view);
    const body = decodeForInspection(prefix.toString('utf8'), true);
    const rules = this.#rules;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (!r.usesBody || !r.testBody(s, body)) continue;
      reporter?.onProtection(scope, r.hit, sourceIp, view.method, view.path);
      if (r.hit.action === 'block') return r.hit;
    }
    return null;
  }
}
