/**
 * The `redirect` action (SPEC §2): `#{protocol}` `#{host}` `#{port}` `#{path}` `#{query}`
 * templates, split into part lists once at compile time and rendered per request.
 *
 * Owns: checking and compiling a RedirectConfig, and rendering the Location value
 * `protocol://host[:port]/path[?query]` with the port omitted when it is the protocol's default
 * and `?` omitted when the query is empty.
 * Must not: write to a socket, throw while rendering, or ever emit a raw CR, LF, NUL, other
 * control character, space or non-ASCII character in `location` (header injection): those are
 * percent-encoded, whatever the request or the config contained.
 */
import type { RedirectConfig, RedirectStatus } from '../config/types.js';

/** What the request contributes to the templates. */
export interface RedirectContext {
  readonly protocol: 'http' | 'https';
  /** Lowercased, without port; an IPv6 literal keeps its brackets. */
  readonly host: string;
  /** The listener (or Host header) port, decimal. */
  readonly port: string;
  /** The normalised path, with its leading `/`. */
  readonly path: string;
  /** Raw query, without `?`; '' when none. */
  readonly query: string;
}

export interface RedirectResult {
  readonly statusCode: RedirectStatus;
  readonly location: string;
}

export interface CompiledRedirect {
  readonly statusCode: RedirectStatus;
  render(ctx: RedirectContext): RedirectResult;
}

/** A literal, or a placeholder given by its field number (see FIELDS). */
type Part = string | number;

const FIELDS = ['protocol', 'host', 'port', 'path', 'query'] as const;
type Field = (typeof FIELDS)[number];
const PROTOCOL = 0;
const HOST = 1;
const PORT = 2;
const PATH = 3;
const QUERY = 4;

/** Each field defaults to the request's own value; `#{path}` has no leading `/`, hence `/#{path}`. */
const DEFAULTS: Readonly<Record<Field, string>> = {
  protocol: '#{protocol}',
  host: '#{host}',
  port: '#{port}',
  path: '/#{path}',
  query: '#{query}',
};

/** Characters percent-encoded in every part, beyond CTLs, space, DEL and non-ASCII. */
const ALWAYS = '"<>`\\';
/** Per part: what would otherwise end the part early or change the URL's structure. */
const EXTRA: Readonly<Record<Field, string>> = {
  protocol: '',
  host: '/?#@',
  port: '/?#@',
  path: '?#',
  query: '#',
};

function parseTemplate(text: string, field: Field, errors: string[]): Part[] {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('#{', i);
    if (open < 0) {
      literal += text.slice(i);
      break;
    }
    literal += text.slice(i, open);
    const close = text.indexOf('}', open + 2);
    if (close < 0) {
      errors.push(`redirect.${field}: unterminated "#{" in ${JSON.stringify(text)}`);
      return parts;
    }
    const name = text.slice(open + 2, close);
    const id = (FIELDS as readonly string[]).indexOf(name);
    if (id < 0) {
      errors.push(
        `redirect.${field}: unknown placeholder #{${name}}; expected one of ${FIELDS.map((f) => `#{${f}}`).join(', ')}`,
      );
    } else {
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push(id);
    }
    i = close + 1;
  }
  if (literal !== '') parts.push(literal);
  return parts;
}

interface Compiled {
  readonly parts: Readonly<Record<Field, readonly Part[]>>;
  /** 'http' / 'https' when the protocol is fixed; null for `#{protocol}`. */
  readonly protocol: 'http' | 'https' | null;
}

function compileParts(cfg: RedirectConfig): { compiled: Compiled; errors: string[] } {
  const errors: string[] = [];
  const parts = {} as Record<Field, readonly Part[]>;
  for (const f of FIELDS) {
    const v = cfg[f];
    parts[f] = parseTemplate(v === undefined ? DEFAULTS[f] : String(v), f, errors);
  }

  let protocol: 'http' | 'https' | null = null;
  const p = parts.protocol;
  if (p.length === 1 && p[0] === PROTOCOL) protocol = null;
  else if (p.length === 1 && typeof p[0] === 'string' && /^https?$/i.test(p[0])) {
    protocol = p[0].toLowerCase() as 'http' | 'https';
  } else errors.push(`redirect.protocol: expected HTTP, HTTPS or #{protocol}, got ${JSON.stringify(cfg.protocol)}`);

  const port = parts.port;
  if (port.every((x) => typeof x === 'string')) {
    const text = port.join('');
    if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
      errors.push(`redirect.port: expected 1-65535 or a template such as #{port}, got ${JSON.stringify(cfg.port)}`);
    }
  }
  if (![301, 302, 303, 307, 308].includes(cfg.statusCode)) {
    errors.push(`redirect.statusCode: expected 301, 302, 303, 307 or 308, got ${String(cfg.statusCode)}`);
  }
  return { compiled: { parts, protocol }, errors };
}

/** Every problem with a redirect's templates (empty when it compiles); for validation. */
export function redirectTemplateErrors(cfg: RedirectConfig): string[] {
  return compileParts(cfg).errors;
}

class Redirect implements CompiledRedirect {
  readonly statusCode: RedirectStatus;
  readonly #protocol: 'http' | 'https' | null;
  readonly #host: readonly Part[];
  readonly #port: readonly Part[];
  readonly #path: readonly Part[];
  readonly #query: readonly Part[];

  constructor(statusCode: RedirectStatus, c: Compiled) {
    this.statusCode = statusCode;
    this.#protocol = c.protocol;
    this.#host = c.parts.host;
    this.#port = c.parts.port;
    this.#path = c.parts.path;
    this.#query = c.parts.query;
  }

  render(ctx: RedirectContext): RedirectResult {
    const protocol = this.#protocol ?? ctx.protocol;
    const host = encodeUnsafe(fill(this.#host, ctx), EXTRA.host);
    const port = encodeUnsafe(fill(this.#port, ctx), EXTRA.port);
    let path = encodeUnsafe(fill(this.#path, ctx), EXTRA.path);
    if (path.charCodeAt(0) !== 0x2f) path = '/' + path;
    const query = encodeUnsafe(fill(this.#query, ctx), EXTRA.query);
    let location = protocol + '://' + host;
    if (port !== '' && port !== (protocol === 'https' ? '443' : '80')) location += ':' + port;
    location += path;
    if (query !== '') location += '?' + query;
    return { statusCode: this.statusCode, location };
  }
}

function fill(parts: readonly Part[], ctx: RedirectContext): string {
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (typeof part === 'string') out += part;
    else if (part === PROTOCOL) out += ctx.protocol;
    else if (part === HOST) out += ctx.host;
    else if (part === PORT) out += ctx.port;
    else if (part === PATH) out += ctx.path.charCodeAt(0) === 0x2f ? ctx.path.slice(1) : ctx.path;
    else if (part === QUERY) out += ctx.query;
  }
  return out;
}

const HEX = '0123456789ABCDEF';

function pct(b: number): string {
  return '%' + HEX[b >> 4]! + HEX[b & 15]!;
}

/**
 * Percent-encodes CTLs, space, DEL, ALWAYS and `extra`, and every non-ASCII character: code
 * points up to 0xFF as one byte (Node decodes request bytes as Latin-1, so this restores the
 * byte the client sent), higher ones as UTF-8. Returns `s` itself when nothing needs encoding.
 */
export function encodeUnsafe(s: string, extra: string): string {
  let out: string | null = null;
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const unsafe = c <= 0x20 || c >= 0x7f || ALWAYS.indexOf(s[i]!) >= 0 || extra.indexOf(s[i]!) >= 0;
    if (!unsafe) continue;
    out = (out ?? '') + s.slice(run, i);
    if (c <= 0xff) out += pct(c);
    else {
      let cp = c;
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const lo = s.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
          i++;
        } else cp = 0xfffd;
      } else if (c >= 0xd800 && c <= 0xdfff) cp = 0xfffd;
      out += utf8(cp);
    }
    run = i + 1;
  }
  return out === null ? s : out + s.slice(run);
}

function utf8(cp: number): string {
  if (cp < 0x800) return pct(0xc0 | (cp >> 6)) + pct(0x80 | (cp & 63));
  if (cp < 0x10000) return pct(0xe0 | (cp >> 12)) + pct(0x80 | ((cp >> 6) & 63)) + pct(0x80 | (cp & 63));
  return pct(0xf0 | (cp >> 18)) + pct(0x80 | ((cp >> 12) & 63)) + pct(0x80 | ((cp >> 6) & 63)) + pct(0x80 | (cp & 63));
}

/**
 * Compiles a redirect. Unset fields keep the request's value. Throws (a startup error) on
 * templates validation should have rejected: see redirectTemplateErrors.
 */
export function compileRedirect(cfg: RedirectConfig): CompiledRedirect {
  const { compiled, errors } = compileParts(cfg);
  if (errors.length > 0) throw new Error(errors.join('; '));
  return new Redirect(cfg.statusCode, compiled);
}
