/**
 * The facts about one request that rule conditions look at, computed lazily and at most once.
 *
 * Owns: deriving the matching host (lowercased, port and one trailing dot removed), header
 * values by name, query pairs, cookies and the source address bytes from what the data plane
 * received. Built once per request by the listener; conditions only read it.
 * Must not: do I/O, throw on hostile input, create per-request closures, or normalise the path
 * (the caller passes it already normalised by path-normalize.ts, so routing and forwarding use
 * the same path).
 */
import { parseIp } from '../util/cidr.js';
import { equalsAsciiIgnoreCase, toAsciiLowerCase } from './wildcard.js';

/** One `key=value` pair of the query string, `+` and percent-escapes decoded. */
export interface QueryPair {
  readonly key: string;
  /** '' for a bare key (`?debug`) and for `key=`. */
  readonly value: string;
}

const NO_VALUES: readonly string[] = Object.freeze([]);

export class RequestView {
  /** Request method as received (case-sensitive). */
  readonly method: string;
  /** Host header (or `:authority`) as received, possibly with a port. */
  readonly rawHost: string;
  /** The normalised path, without query. */
  readonly path: string;
  /** Raw query string without the `?`; '' when none. */
  readonly query: string;
  /** Flat `[name, value, name, value, …]` as received; names keep their case, duplicates kept. */
  readonly rawHeaders: readonly string[];
  /** The socket's remote address (never X-Forwarded-For). */
  readonly sourceIp: string;

  #host: string | null;
  #headerCache: Map<string, readonly string[]> | null;
  #queryPairs: readonly QueryPair[] | null;
  #cookies: Map<string, string> | null;
  #sourceIpBytes: Uint8Array | null;
  #sourceIpParsed: boolean;

  constructor(
    method: string,
    host: string,
    path: string,
    query: string,
    rawHeaders: readonly string[],
    sourceIp: string,
  ) {
    this.method = method;
    this.rawHost = host;
    this.path = path;
    this.query = query;
    this.rawHeaders = rawHeaders;
    this.sourceIp = sourceIp;
    this.#host = null;
    this.#headerCache = null;
    this.#queryPairs = null;
    this.#cookies = null;
    this.#sourceIpBytes = null;
    this.#sourceIpParsed = false;
  }

  /**
   * The host for matching: ASCII-lowercased, port removed, one trailing dot removed. An IPv6
   * literal keeps its brackets (`[::1]:8080` → `[::1]`) so it can be put back into a URL.
   */
  get host(): string {
    if (this.#host === null) this.#host = matchingHost(this.rawHost);
    return this.#host;
  }

  /**
   * Every value of the header `lowerName` (give the name in lowercase), in order received. A
   * comma-separated value is one value: conditions match the whole field value, as ALB does.
   */
  headerValues(lowerName: string): readonly string[] {
    const cached = this.#headerCache?.get(lowerName);
    if (cached !== undefined) return cached;
    let values: string[] | null = null;
    const raw = this.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      if (equalsAsciiIgnoreCase(raw[i]!, lowerName)) (values ??= []).push(raw[i + 1]!);
    }
    const result = values ?? NO_VALUES;
    (this.#headerCache ??= new Map()).set(lowerName, result);
    return result;
  }

  /** Query pairs in order, `+` → space and percent-escapes decoded; bad escapes kept as-is. */
  queryPairs(): readonly QueryPair[] {
    if (this.#queryPairs === null) this.#queryPairs = parseQuery(this.query);
    return this.#queryPairs;
  }

  /** The value of cookie `name` (case-sensitive) across all Cookie headers; first one wins. */
  cookie(name: string): string | null {
    if (this.#cookies === null) this.#cookies = parseCookies(this.rawHeaders);
    return this.#cookies.get(name) ?? null;
  }

  /** The source address as 4 or 16 bytes (IPv4-mapped IPv6 unwrapped to 4), or null. */
  sourceIpBytes(): Uint8Array | null {
    if (!this.#sourceIpParsed) {
      this.#sourceIpBytes = parseIp(this.sourceIp);
      this.#sourceIpParsed = true;
    }
    return this.#sourceIpBytes;
  }
}

/** See RequestView.host. Exported for the data plane and tests. */
export function matchingHost(raw: string): string {
  let host: string;
  if (raw.charCodeAt(0) === 0x5b /* [ */) {
    const close = raw.indexOf(']');
    host = close < 0 ? raw : raw.slice(0, close + 1);
  } else {
    const colon = raw.indexOf(':');
    host = colon < 0 ? raw : raw.slice(0, colon);
    if (host.charCodeAt(host.length - 1) === 0x2e /* . */) host = host.slice(0, -1);
  }
  return toAsciiLowerCase(host);
}

function parseQuery(query: string): readonly QueryPair[] {
  if (query === '') return [];
  const pairs: QueryPair[] = [];
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf('&', start);
    if (end < 0) end = query.length;
    if (end > start) {
      const eq = query.indexOf('=', start);
      if (eq >= 0 && eq < end) {
        pairs.push({ key: decodeComponent(query.slice(start, eq)), value: decodeComponent(query.slice(eq + 1, end)) });
      } else {
        pairs.push({ key: decodeComponent(query.slice(start, end)), value: '' });
      }
    }
    start = end + 1;
  }
  return pairs;
}

/** `+` → space, then percent-decoding as UTF-8; malformed escapes stay as they were. */
export function decodeComponent(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  const plus = s.replaceAll('+', ' ');
  if (plus.indexOf('%') < 0) return plus;
  try {
    return decodeURIComponent(plus);
  } catch {
    return decodeLenient(plus);
  }
}

/** Decodes each run of valid `%XX` escapes as UTF-8 (invalid sequences become U+FFFD). */
function decodeLenient(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    if (s.charCodeAt(i) === 0x25 && isEscape(s, i)) {
      const bytes: number[] = [];
      while (i < s.length && s.charCodeAt(i) === 0x25 && isEscape(s, i)) {
        bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
        i += 3;
      }
      out += Buffer.from(bytes).toString('utf8');
    } else {
      out += s[i]!;
      i++;
    }
  }
  return out;
}

function isEscape(s: string, i: number): boolean {
  return i + 2 < s.length && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2));
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function parseCookies(raw: readonly string[]): Map<string, string> {
  const cookies = new Map<string, string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!equalsAsciiIgnoreCase(raw[i]!, 'cookie')) continue;
    const header = raw[i + 1]!;
    let start = 0;
    while (start < header.length) {
      let end = header.indexOf(';', start);
      if (end < 0) end = header.length;
      const eq = header.indexOf('=', start);
      if (eq >= 0 && eq < end) {
        const name = header.slice(start, eq).trim();
        if (name !== '' && !cookies.has(name)) cookies.set(name, header.slice(eq + 1, end).trim());
      }
      start = end + 1;
    }
  }
  return cookies;
}
