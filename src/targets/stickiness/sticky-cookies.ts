/**
 * The cookies of stickiness as they appear on the wire (SPEC §4): their names, the compiled
 * per-group settings, the `Set-Cookie` lines Switchyard writes, and reading an application's
 * own `Set-Cookie` for app_cookie.
 *
 * Owns: `SWITCHYARD`, `SWITCHYARD_APP` and `SWITCHYARDTG`; the attributes
 * `Path=/; Max-Age=N; HttpOnly; SameSite=Lax` (+ `Secure` on HTTPS listeners); compiling a
 * group's `stickiness` once per config (never per request). No I/O, never throws.
 */
import type { ResolvedTargetStickiness } from '../../config/defaults.js';
import { equalsAsciiIgnoreCase } from '../../router/wildcard.js';
import { StickyKind } from './cookie-codec.js';

/** lb_cookie: target-level stickiness. */
export const LB_COOKIE = 'SWITCHYARD';
/** app_cookie: follows the application's cookie. */
export const APP_COOKIE = 'SWITCHYARD_APP';
/** Group-level stickiness of a weighted forward. */
export const GROUP_COOKIE = 'SWITCHYARDTG';
/** Application cookies may not use this prefix (validation refuses it). */
export const RESERVED_COOKIE_PREFIX = 'SWITCHYARD';

/** Where Set-Cookie lines for the response go (ClientRequest implements it). */
export interface SetCookieSink {
  addSetCookie(line: string): void;
}

/** A target group's `stickiness`, compiled; null on the group when disabled. */
export interface CompiledTargetStickiness {
  readonly kind: StickyKind.TARGET | StickyKind.APP;
  /** The cookie Switchyard writes: SWITCHYARD or SWITCHYARD_APP. */
  readonly cookieName: string;
  /** app_cookie: the application's cookie that is followed; null for lb_cookie. */
  readonly appCookieName: string | null;
  readonly durationSeconds: number;
}

export function compileTargetStickiness(spec: ResolvedTargetStickiness): CompiledTargetStickiness | null {
  if (!spec.enabled) return null;
  const app = spec.type === 'app_cookie';
  return Object.freeze({
    kind: app ? StickyKind.APP : StickyKind.TARGET,
    cookieName: app ? APP_COOKIE : LB_COOKIE,
    appCookieName: app ? spec.cookieName : null,
    durationSeconds: spec.durationSeconds,
  });
}

/** `NAME=value; Path=/; Max-Age=N; HttpOnly; SameSite=Lax[; Secure]`; value '' and 0 delete it. */
export function renderSetCookie(name: string, value: string, maxAgeSeconds: number, secure: boolean): string {
  const line = name + '=' + value + '; Path=/; Max-Age=' + Math.max(0, Math.floor(maxAgeSeconds)) + '; HttpOnly; SameSite=Lax';
  return secure ? line + '; Secure' : line;
}

/** A request cookie value as the codec wants it: surrounding DQUOTEs (RFC 6265 §4.1.1) removed. */
export function unquote(value: string | null): string | null {
  if (value !== null && value.length >= 2 && value.charCodeAt(0) === 0x22 && value.charCodeAt(value.length - 1) === 0x22) return value.slice(1, -1);
  return value;
}

/** What a response's `Set-Cookie` does to the application cookie. */
export type AppCookieChange = { readonly deleted: false; readonly value: string } | { readonly deleted: true };

/**
 * The last `Set-Cookie` for `name` in a response's raw headers: its value, or `deleted` when
 * it is emptied or expired (Max-Age ≤ 0, or Expires in the past); null when none sets it.
 */
export function appCookieChange(raw: readonly string[], name: string, nowMs: number): AppCookieChange | null {
  let change: AppCookieChange | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!equalsAsciiIgnoreCase(raw[i]!, 'set-cookie')) continue;
    const line = raw[i + 1]!;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    if (line.slice(0, eq).trim() !== name) continue;
    const semi = line.indexOf(';', eq);
    // The value as the client will send it back (quotes included), so request and response agree.
    const value = line.slice(eq + 1, semi < 0 ? line.length : semi).trim();
    change = value === '' || value === '""' || (semi >= 0 && expires(line.slice(semi + 1), nowMs)) ? DELETED : { deleted: false, value };
  }
  return change;
}

const DELETED: AppCookieChange = Object.freeze({ deleted: true });

/** True when the attributes expire the cookie now (RFC 6265 §5.2.1, §5.2.2: Max-Age wins). */
function expires(attributes: string, nowMs: number): boolean {
  let maxAge: number | null = null;
  let expiresAt: number | null = null;
  for (const part of attributes.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const v = part.slice(eq + 1).trim();
    if (key === 'max-age' && /^-?\d+$/.test(v)) maxAge = Number(v);
    else if (key === 'expires') {
      const t = Date.parse(v);
      if (!Number.isNaN(t)) expiresAt = t;
    }
  }
  if (maxAge !== null) return maxAge <= 0;
  return expiresAt !== null && expiresAt <= nowMs;
}
