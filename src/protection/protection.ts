/**
 * A `protection` section (per listener and per rule), compiled, and its check on a request:
 * IP allow/deny lists (403), the rate limit (429 with Retry-After), the WAF (403, or counted).
 *
 * Owns: compiling a ResolvedProtection once (keeping a previous rate limiter's buckets across a
 * reload when its settings did not change), the order of the checks (listener before rule; in
 * each: IP filter, rate limit, WAF head rules), answering a refused request, and holding a
 * request whose body the WAF must see until `inspectBodyBytes` (or the whole body) have arrived.
 * Must not: allocate on the path of an allowed request (hits, headers and results are built at
 * compile time), route, or forward. docs/decisions/0010.
 */
import type { Downstream } from '../proxy/downstream.js';
import type { BodySink, ClientRequest } from '../listener/client-request.js';
import type { ResolvedProtection } from '../config/defaults.js';
import type { RequestView } from '../router/request-view.js';
import { ProxyErrors } from '../proxy/errors.js';
import { IpFilter, IpVerdict } from './ip-filter.js';
import { RateLimiter } from './rate-limit.js';
import { CompiledWaf, type ProtectionHit, type ProtectionReporter } from './waf.js';

export type { ProtectionHit, ProtectionReporter } from './waf.js';

const IP_DENY_HIT: ProtectionHit = Object.freeze({ protection: 'ip_filter', name: 'deny', action: 'block' });
const IP_NOT_ALLOWED_HIT: ProtectionHit = Object.freeze({ protection: 'ip_filter', name: 'allow', action: 'block' });
const RATE_LIMIT_HIT: ProtectionHit = Object.freeze({ protection: 'rate_limit', name: 'rate_limit', action: 'block' });

/** Retry-After header lists for 1–120 s, built once. */
const RETRY_AFTER: readonly (readonly (readonly [string, string])[])[] = Array.from({ length: 121 }, (_, s) =>
  Object.freeze([Object.freeze(['Retry-After', String(Math.max(1, s))] as const)]),
);

function retryAfter(seconds: number): readonly (readonly [string, string])[] {
  return seconds < RETRY_AFTER.length ? RETRY_AFTER[seconds]! : [['Retry-After', String(seconds)]];
}

export class CompiledProtection {
  readonly ipFilter: IpFilter | null;
  readonly rateLimiter: RateLimiter | null;
  readonly waf: CompiledWaf | null;

  constructor(ipFilter: IpFilter | null, rateLimiter: RateLimiter | null, waf: CompiledWaf | null) {
    this.ipFilter = ipFilter;
    this.rateLimiter = rateLimiter;
    this.waf = waf;
  }
}

/**
 * Compiles a protection section; null when it protects nothing. `previous` is the same
 * section's compiled form in the config being replaced: its rate limiter (and so every client's
 * bucket) is kept when the rate-limit settings are unchanged.
 */
export function compileProtection(p: ResolvedProtection | null, previous: CompiledProtection | null = null): CompiledProtection | null {
  if (p === null) return null;
  const ipFilter = p.ipAllow.length > 0 || p.ipDeny.length > 0 ? new IpFilter(p.ipAllow, p.ipDeny) : null;
  let rateLimiter: RateLimiter | null = null;
  if (p.rateLimit !== null) {
    const prev = previous?.rateLimiter ?? null;
    rateLimiter = prev !== null && prev.sameAs(p.rateLimit) ? prev : new RateLimiter(p.rateLimit);
  }
  const waf = p.waf !== null && (p.waf.rules.length > 0 || p.waf.builtin) ? new CompiledWaf(p.waf) : null;
  if (ipFilter === null && rateLimiter === null && waf === null) return null;
  return new CompiledProtection(ipFilter, rateLimiter, waf);
}

export const enum Guard {
  /** Go on with the action. */
  PASS,
  /** Refused; the response is written. */
  BLOCKED,
  /** Passed so far; the WAF must see the body prefix first (see `inspectBody`). */
  INSPECT_BODY,
}

function guardOne(
  conn: Downstream,
  req: ClientRequest,
  view: RequestView,
  p: CompiledProtection,
  scope: number,
  reporter: ProtectionReporter | null,
  hasBody: boolean,
): Guard {
  if (p.ipFilter !== null) {
    const v = p.ipFilter.test(view.sourceIpBytes());
    if (v !== IpVerdict.ALLOWED) {
      reporter?.onProtection(scope, v === IpVerdict.DENIED ? IP_DENY_HIT : IP_NOT_ALLOWED_HIT, conn.remoteAddress, req.method, view.path);
      conn.replyError(req, ProxyErrors.IP_DENIED);
      return Guard.BLOCKED;
    }
  }
  if (p.rateLimiter !== null) {
    const wait = p.rateLimiter.takeFor(conn.remoteAddress, req.rawHeaders);
    if (wait > 0) {
      reporter?.onProtection(scope, RATE_LIMIT_HIT, conn.remoteAddress, req.method, view.path);
      conn.replyError(req, ProxyErrors.RATE_LIMITED, false, retryAfter(wait));
      return Guard.BLOCKED;
    }
  }
  const waf = p.waf;
  if (waf !== null) {
    const follows = hasBody && waf.needsBody;
    if (waf.inspectHead(view, follows, reporter, scope, conn.remoteAddress) !== null) {
      conn.replyError(req, ProxyErrors.WAF_BLOCKED);
      return Guard.BLOCKED;
    }
    if (follows) return Guard.INSPECT_BODY;
  }
  return Guard.PASS;
}

/**
 * Runs the listener's protection, then the matched rule's (`rule` is its priority; -1 is used
 * for the listener in reports). Answers the request itself when it is refused.
 */
export function guardRequest(
  conn: Downstream,
  req: ClientRequest,
  view: RequestView,
  listener: CompiledProtection | null,
  rule: CompiledProtection | null,
  priority: number,
  reporter: ProtectionReporter | null,
): Guard {
  const hasBody = req.chunked || req.contentLength > 0;
  let g = Guard.PASS;
  if (listener !== null) {
    g = guardOne(conn, req, view, listener, -1, reporter, hasBody);
    if (g === Guard.BLOCKED) return g;
  }
  if (rule !== null) {
    const r = guardOne(conn, req, view, rule, priority, reporter, hasBody);
    if (r !== Guard.PASS) return r;
  }
  return g;
}

/**
 * Holds the request body until the WAF has seen its prefix, then runs the body rules and either
 * refuses the request (403) or calls `next` with every held chunk back on the request, so the
 * action streams the body from its first byte. The body keeps being read meanwhile (at most
 * `inspectBodyBytes` plus one read are held).
 */
export function inspectBody(
  conn: Downstream,
  req: ClientRequest,
  view: RequestView,
  listener: CompiledProtection | null,
  rule: CompiledProtection | null,
  priority: number,
  reporter: ProtectionReporter | null,
  next: () => void,
): void {
  new BodyInspector(conn, req, view, listener, rule, priority, reporter, next).start();
}

/** Removes `Expect: 100-continue` from the raw header list; true when it was there. */
function takeExpectContinue(raw: string[]): boolean {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.length === 6 && raw[i]!.toLowerCase() === 'expect' && raw[i + 1]!.trim().toLowerCase() === '100-continue') {
      raw.splice(i, 2);
      return true;
    }
  }
  return false;
}

function wantedBytes(p: CompiledProtection | null): number {
  return p !== null && p.waf !== null && p.waf.needsBody ? p.waf.inspectBodyBytes : 0;
}

class BodyInspector implements BodySink {
  readonly #conn: Downstream;
  readonly #req: ClientRequest;
  readonly #view: RequestView;
  readonly #listener: CompiledProtection | null;
  readonly #rule: CompiledProtection | null;
  readonly #priority: number;
  readonly #reporter: ProtectionReporter | null;
  readonly #next: () => void;
  readonly #limit: number;
  #chunks: Buffer[];
  #bytes: number;
  #done: boolean;

  constructor(
    conn: Downstream,
    req: ClientRequest,
    view: RequestView,
    listener: CompiledProtection | null,
    rule: CompiledProtection | null,
    priority: number,
    reporter: ProtectionReporter | null,
    next: () => void,
  ) {
    this.#conn = conn;
    this.#req = req;
    this.#view = view;
    this.#listener = listener;
    this.#rule = rule;
    this.#priority = priority;
    this.#reporter = reporter;
    this.#next = next;
    this.#limit = Math.max(wantedBytes(listener), wantedBytes(rule));
    this.#chunks = [];
    this.#bytes = 0;
    this.#done = false;
  }

  start(): void {
    const req = this.#req;
    const held = req.bodyChunks;
    req.bodyChunks = [];
    for (let i = 0; i < held.length; i++) {
      this.#chunks.push(held[i]!);
      this.#bytes += held[i]!.length;
    }
    req.sink = this;
    if (this.#bytes >= this.#limit || req.bodyComplete) {
      this.#decide();
      return;
    }
    if (this.#bytes === 0 && takeExpectContinue(req.rawHeaders)) {
      // The client waits for 100 Continue before sending the body we wait for: answer it
      // ourselves (the target, which no longer sees the Expect, will not send another).
      this.#conn.relayInterim(req, 100, 'Continue', []);
    }
  }

  onBody(chunk: Buffer): void {
    if (this.#done) return;
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    if (this.#bytes >= this.#limit) this.#decide();
  }

  onBodyEnd(): void {
    this.#decide();
  }

  abort(): void {
    this.#done = true;
    this.#chunks = [];
  }

  #decide(): void {
    if (this.#done) return;
    this.#done = true;
    const req = this.#req;
    if (req.sink === this) req.sink = null;
    const chunks = this.#chunks;
    this.#chunks = [];
    // Chunks that arrived after the sink was set are ours; none can be on the request now.
    req.bodyChunks = chunks.concat(req.bodyChunks);
    if (req.finished) return;
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const view = this.#view;
    const ip = this.#conn.remoteAddress;
    for (const [p, scope] of [
      [this.#listener, -1],
      [this.#rule, this.#priority],
    ] as const) {
      const waf = p?.waf ?? null;
      if (waf === null || !waf.needsBody) continue;
      const prefix = body.length > waf.inspectBodyBytes ? body.subarray(0, waf.inspectBodyBytes) : body;
      if (waf.inspectBody(view, prefix, this.#reporter, scope, ip) !== null) {
        req.bodyChunks = [];
        this.#conn.replyError(req, ProxyErrors.WAF_BLOCKED);
        return;
      }
    }
    this.#next();
  }
}
