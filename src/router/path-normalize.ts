/**
 * The request path as Switchyard routes AND forwards it (SPEC §3; docs/decisions/0002).
 *
 * Owns: splitting an origin-form request target into path and query, and normalising the path:
 * decode percent-escapes of unreserved characters, uppercase the hex of the other escapes,
 * percent-encode printable ASCII that RFC 3986 does not allow raw in a path, remove dot-segments
 * (RFC 3986 §5.2.4), and reject what a target could read differently from us.
 * Must not: decode reserved characters (above all `%2F`), merge repeated slashes, throw, or do
 * anything but string work. `null` means "answer 400".
 */

/** Character classes for ASCII 0x00–0x7F. */
const ALLOWED = 1; // May appear raw in a path: unreserved, sub-delims, ':', '@', '/'.
const UNRESERVED = 2; // ALPHA DIGIT - . _ ~ (RFC 3986 §2.3): decoded when percent-encoded.
const ENCODE = 4; // Printable but not allowed raw: percent-encoded on output.
const REJECT = 8; // CTLs, space, DEL, '\', '#': the request is rejected.

const CLASS = new Uint8Array(128);
(() => {
  for (let c = 0; c < 128; c++) {
    if (c <= 0x20 || c === 0x7f) CLASS[c] = REJECT;
    else if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)) {
      CLASS[c] = ALLOWED | UNRESERVED;
    } else CLASS[c] = ENCODE;
  }
  for (const ch of '-._~') CLASS[ch.charCodeAt(0)] = ALLOWED | UNRESERVED;
  for (const ch of "!$&'()*+,;=:@/") CLASS[ch.charCodeAt(0)] = ALLOWED;
  // '\' is a path separator to some servers (IIS, Windows targets); '#' is a fragment, which a
  // request target never carries (RFC 9112 §3.2.1).
  CLASS[0x5c] = REJECT;
  CLASS[0x23] = REJECT;
  // '%' is handled as an escape before the table is consulted.
})();

const HEX = '0123456789ABCDEF';

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Escaped bytes that are rejected outright: every CTL (NUL included), DEL, '/' and '\'. */
function isForbiddenEscape(b: number): boolean {
  return b < 0x20 || b === 0x7f || b === 0x2f || b === 0x5c;
}

/**
 * Normalises an origin-form path (no query): unreserved escapes decoded, other escapes' hex
 * uppercased, printable characters not allowed raw in a path (`"<>[]^`{|}` and a stray `?`)
 * percent-encoded, dot-segments removed. Returns the input itself when it is already normal, a
 * new string when something was rewritten, or `null` (→ 400) when the path:
 * does not start with `/`; contains a raw CTL, space, DEL, `\`, `#` or a character ≥ 0x80;
 * contains a malformed `%` escape; encodes a CTL (`%00`–`%1F`, `%7F`), `/` (`%2F`) or `\`
 * (`%5C`); has a dot-segment that climbs above the root (`/../x`); or has a segment that is
 * `.` or `..` followed by `;` parameters (`/a/..;/b`, read as `..` by some Java servers).
 *
 * Repeated slashes are kept as they are by default: `//` is a legal empty segment, and merging
 * it would forward a different path from the one the client sent. With `mergeSlashes`
 * (`settings.mergeSlashes`) every run of `/` becomes one, for targets that merge slashes
 * themselves (nginx, Spring): then `//admin` meets an `/admin*` rule and is forwarded as `/admin`.
 */
export function normalizePath(raw: string, mergeSlashes = false): string | null {
  const n = raw.length;
  if (n === 0 || raw.charCodeAt(0) !== 0x2f) return null;
  // Pass 1: validate, and find out whether anything must be rewritten.
  let rewrite = false;
  let dots = false;
  let slashes = false;
  for (let i = 0; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x2f && mergeSlashes && raw.charCodeAt(i - 1) === 0x2f) slashes = true;
    if (c === 0x25) {
      if (i + 2 >= n) return null;
      const h1 = raw.charCodeAt(i + 1);
      const h2 = raw.charCodeAt(i + 2);
      const hi = hexValue(h1);
      const lo = hexValue(h2);
      if (hi < 0 || lo < 0) return null;
      const b = (hi << 4) | lo;
      if (isForbiddenEscape(b)) return null;
      // Decodable (unreserved) or lowercase hex: the canonical form differs.
      if ((b < 0x80 && (CLASS[b]! & UNRESERVED) !== 0) || h1 >= 0x61 || h2 >= 0x61) rewrite = true;
      i += 2;
      continue;
    }
    if (c >= 0x80) return null;
    const cls = CLASS[c]!;
    if ((cls & REJECT) !== 0) return null;
    if ((cls & ENCODE) !== 0) rewrite = true;
    else if (c === 0x2e && raw.charCodeAt(i - 1) === 0x2f) dots = true;
  }
  let out = raw;
  if (rewrite) {
    out = '';
    let runStart = 0;
    for (let i = 0; i < n; i++) {
      const c = raw.charCodeAt(i);
      if (c === 0x25) {
        const b = (hexValue(raw.charCodeAt(i + 1)) << 4) | hexValue(raw.charCodeAt(i + 2));
        out += raw.slice(runStart, i);
        if (b < 0x80 && (CLASS[b]! & UNRESERVED) !== 0) out += String.fromCharCode(b);
        else out += '%' + HEX[b >> 4]! + HEX[b & 15]!;
        i += 2;
        runStart = i + 1;
      } else if ((CLASS[c]! & ENCODE) !== 0) {
        out += raw.slice(runStart, i) + '%' + HEX[c >> 4]! + HEX[c & 15]!;
        runStart = i + 1;
      }
    }
    out += raw.slice(runStart);
    // Decoding `%2E` can create dot-segments the raw scan did not see.
    if (!dots) dots = out.indexOf('/.') >= 0;
  }
  // Before dot-segments, as nginx does: `/a//../b` is `/a/../b`, so `/b`. (Decoding cannot
  // create a slash: `%2F` is refused above.)
  if (slashes) out = out.replace(REPEATED_SLASHES, '/');
  return dots ? removeDotSegments(out) : out;
}

const REPEATED_SLASHES = /\/{2,}/g;

/**
 * RFC 3986 §5.2.4 on a path that starts with `/`, except that climbing above the root is an
 * error rather than being clamped: a client that sends `/../x` is probing, not browsing.
 */
function removeDotSegments(path: string): string | null {
  const segments = path.split('/');
  const stack: string[] = [];
  let trailingSlash = false;
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (seg === '.') {
      if (last) trailingSlash = true;
      continue;
    }
    if (seg === '..') {
      if (stack.length === 0) return null;
      stack.pop();
      if (last) trailingSlash = true;
      continue;
    }
    if (seg.charCodeAt(0) === 0x2e) {
      // `.;x` / `..;x`: a dot-segment with matrix parameters to Tomcat and friends.
      const semi = seg.indexOf(';');
      if (semi === 1 || (semi === 2 && seg.charCodeAt(1) === 0x2e)) return null;
    }
    stack.push(seg);
  }
  if (stack.length === 0) return '/';
  const joined = '/' + stack.join('/');
  return trailingSlash ? joined + '/' : joined;
}

/** An origin-form request target split at the first `?`. */
export interface RequestTarget {
  /** Raw path, not yet normalised. */
  readonly path: string;
  /** Raw query without the `?`; '' when there is none (or the target ends in a bare `?`). */
  readonly query: string;
}

/**
 * Splits an origin-form request target (`/a/b?x=1`). Returns `null` when the target does not
 * start with `/` (the caller handles `*` and absolute-form before calling), or when it carries a
 * fragment (`#`) or a raw CTL, space or DEL anywhere: not a valid request target, so 400.
 */
export function splitTarget(url: string): RequestTarget | null {
  const n = url.length;
  if (n === 0 || url.charCodeAt(0) !== 0x2f) return null;
  let q = -1;
  for (let i = 0; i < n; i++) {
    const c = url.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x23) return null;
    if (c === 0x3f && q < 0) q = i;
  }
  if (q < 0) return { path: url, query: '' };
  return { path: url.slice(0, q), query: url.slice(q + 1) };
}
