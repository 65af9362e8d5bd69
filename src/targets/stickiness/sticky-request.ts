/**
 * Target stickiness for one forwarded request (SPEC §4; ARCHITECTURE §4 step 4.2): wraps the
 * group's balancer, never replaces it.
 *
 * Owns: reading the request's SWITCHYARD / SWITCHYARD_APP cookie (through the RequestView's
 * lazy cookie parser, once), choosing the sticky target when sticky-decision.ts honours it or
 * asking the balancer otherwise (with the retry exclusion set), and the Set-Cookie the
 * response needs: a new or moved target, a refresh once half the duration has passed, or an
 * application cookie that was set anew or deleted. Created only for groups with stickiness,
 * so the non-sticky path never parses cookies.
 * Must not: do I/O or throw; a cookie it cannot use only means normal balancing.
 */
import type { RequestView } from '../../router/request-view.js';
import type { Target } from '../target.js';
import type { TargetGroupRuntime } from '../target-group.js';
import { MAX_STICKY_ENTRIES, StickyKind, type DecodedCookie, type StickyCodec, type StickyEntry } from './cookie-codec.js';
import { decideStickyTarget, mergeEntries } from './sticky-decision.js';
import { appCookieChange, renderSetCookie, unquote, type CompiledTargetStickiness, type SetCookieSink } from './sticky-cookies.js';

export class StickyRequest {
  readonly #codec: StickyCodec;
  readonly #sticky: CompiledTargetStickiness;
  readonly #secure: boolean;
  readonly #nowMs: number;
  readonly #nowSeconds: number;
  /** The request's cookie, decoded; null when it sent none. */
  readonly #cookie: DecodedCookie | null;
  /** app_cookie: the request's application cookie value (null when absent); null for lb_cookie. */
  readonly #appValue: string | null;
  /** app_cookie: hash of #appValue ('' when absent); null for lb_cookie. */
  readonly #appHash: string | null;
  /** The entry that chose the current target, when the cookie was honoured. */
  #honoured: StickyEntry | null;

  constructor(codec: StickyCodec, sticky: CompiledTargetStickiness, view: RequestView, secure: boolean) {
    this.#codec = codec;
    this.#sticky = sticky;
    this.#secure = secure;
    this.#nowMs = Date.now();
    this.#nowSeconds = Math.floor(this.#nowMs / 1000);
    const value = unquote(view.cookie(sticky.cookieName));
    this.#cookie = value === null ? null : codec.decode(sticky.kind, value);
    if (sticky.appCookieName !== null) {
      this.#appValue = view.cookie(sticky.appCookieName);
      this.#appHash = this.#appValue === null ? '' : codec.appHash(this.#appValue);
    } else {
      this.#appValue = null;
      this.#appHash = null;
    }
    this.#honoured = null;
  }

  /** The sticky target when the cookie is honoured, else the balancer's pick (undefined: none left). */
  pick(group: TargetGroupRuntime, exclude: ReadonlySet<string> | null, hashKey: string): Target | undefined {
    const d = decideStickyTarget(this.#cookie, group, exclude, this.#nowSeconds, this.#appHash);
    this.#honoured = d.target === null ? null : d.entry;
    return d.target ?? group.pick(exclude, hashKey);
  }

  /**
   * Adds the response's Set-Cookie to `sink` when one is due: `target` answered for `group`;
   * `responseRaw` is the target's response head (read only for app_cookie).
   */
  respond(sink: SetCookieSink, group: string, target: string, responseRaw: readonly string[]): void {
    const sticky = this.#sticky;
    const now = this.#nowSeconds;
    const sameGroup = (e: StickyEntry): boolean => e.group === group;
    let appHash = '';
    if (sticky.kind === StickyKind.APP) {
      const change = appCookieChange(responseRaw, sticky.appCookieName!, this.#nowMs);
      if (change !== null && change.deleted) {
        // The application ended its session: so does the stickiness that followed it.
        if (this.#cookie === null || !this.#cookie.ok || !this.#cookie.entries.some(sameGroup)) return;
        this.#write(sink, mergeEntries(this.#cookie, null, sameGroup, now, MAX_STICKY_ENTRIES));
        return;
      }
      if (change !== null) appHash = this.#codec.appHash(change.value);
      else if (this.#appValue !== null) appHash = this.#appHash!;
      else return; // No application session to follow.
    }
    const h = this.#honoured;
    if (h !== null && h.target === target && h.appHash === appHash && h.expiresAt - now >= sticky.durationSeconds / 2) return;
    const fresh: StickyEntry = { group, target, expiresAt: now + sticky.durationSeconds, appHash };
    this.#write(sink, mergeEntries(this.#cookie, fresh, sameGroup, now, MAX_STICKY_ENTRIES));
  }

  #write(sink: SetCookieSink, entries: readonly StickyEntry[]): void {
    const name = this.#sticky.cookieName;
    if (entries.length === 0) {
      sink.addSetCookie(renderSetCookie(name, '', 0, this.#secure));
      return;
    }
    let last = 0;
    for (let i = 0; i < entries.length; i++) last = Math.max(last, entries[i]!.expiresAt);
    sink.addSetCookie(renderSetCookie(name, this.#codec.encode(this.#sticky.kind, entries), last - this.#nowSeconds, this.#secure));
  }
}
