/**
 * The values of Switchyard's sticky cookies (SPEC §4): opaque, authenticated, and the same on
 * every node that shares `settings.stickinessSecret`.
 *
 * Owns: turning a list of sticky entries into a cookie value and back. A value is
 * `1.` + base64url(tag ‖ ciphertext): the plaintext (version, kind, entries) is authenticated
 * by HMAC-SHA256 truncated to 16 bytes (the tag) and encrypted with AES-128-CTR using the tag
 * as the counter block — the SIV construction (deterministic authenticated encryption), so a
 * client cannot read the target addresses, cannot change a byte unnoticed, and no nonce has to
 * be unique across nodes. Both keys are derived once from the secret (docs/decisions/0007).
 * Must not: throw on any input (a tampered, truncated or foreign value is `{ ok: false }`),
 * check expiry (the entries carry it; sticky-decision.ts decides), or do I/O.
 */
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/** Which cookie a value belongs to; part of the authenticated plaintext, so values cannot be swapped. */
export const enum StickyKind {
  /** `SWITCHYARD` (lb_cookie): group → target. */
  TARGET = 1,
  /** `SWITCHYARD_APP` (app_cookie): group → target, bound to the application cookie's value. */
  APP = 2,
  /** `SWITCHYARDTG` (group stickiness): the target group a forward chose. */
  GROUP = 3,
}

/** One sticky choice. A cookie holds up to MAX_STICKY_ENTRIES of them (one per target group). */
export interface StickyEntry {
  /** Target group name. */
  readonly group: string;
  /** Target id `host:port`; '' in a GROUP cookie. */
  readonly target: string;
  /** Unix seconds after which the entry is stale. */
  readonly expiresAt: number;
  /** APP only: keyed hash of the application cookie value it was issued for (hex); '' otherwise. */
  readonly appHash: string;
}

export type DecodeFailure = 'malformed' | 'bad signature' | 'wrong cookie kind' | 'unsupported version';

export type DecodedCookie =
  | { readonly ok: true; readonly entries: readonly StickyEntry[] }
  | { readonly ok: false; readonly reason: DecodeFailure };

/** Entries per cookie: one per target group (or forward) a client is sticky to. */
export const MAX_STICKY_ENTRIES = 8;
/** Longer values are refused unread (8 entries of 64-character names and long hosts fit). */
const MAX_VALUE_LENGTH = 3000;
const PREFIX = '1.';
const FORMAT_VERSION = 1;
const TAG_BYTES = 16;
const APP_HASH_BYTES = 8;
/** Verified values remembered, so a returning client costs a map lookup, not an HMAC. */
const CACHE_LIMIT = 4096;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export class StickyCodec {
  readonly #macKey: KeyObject;
  readonly #encKey: KeyObject;
  /** value → decoded entries (only values that verified; cleared when full). */
  readonly #verified: Map<string, { readonly kind: StickyKind; readonly result: DecodedCookie }>;

  /** `secret`: any length; both keys are derived from it, once. */
  constructor(secret: Buffer) {
    this.#macKey = createSecretKey(createHmac('sha256', secret).update('switchyard sticky mac v1').digest());
    this.#encKey = createSecretKey(createHmac('sha256', secret).update('switchyard sticky enc v1').digest().subarray(0, 16));
    this.#verified = new Map();
  }

  /** The cookie value for `entries` (at most MAX_STICKY_ENTRIES). Deterministic. */
  encode(kind: StickyKind, entries: readonly StickyEntry[]): string {
    const plain = serialize(kind, entries);
    const tag = createHmac('sha256', this.#macKey).update(plain).digest().subarray(0, TAG_BYTES);
    const cipher = createCipheriv('aes-128-ctr', this.#encKey, tag);
    const body = Buffer.concat([tag, cipher.update(plain), cipher.final()]);
    return PREFIX + body.toString('base64url');
  }

  /** Verifies and reads a cookie value. Never throws; expiry is not checked here. */
  decode(kind: StickyKind, value: string): DecodedCookie {
    const hit = this.#verified.get(value);
    if (hit !== undefined) return hit.kind === kind ? hit.result : WRONG_KIND;
    const result = this.#decode(kind, value);
    if (result.ok) {
      if (this.#verified.size >= CACHE_LIMIT) this.#verified.clear();
      this.#verified.set(value, { kind, result });
    }
    return result;
  }

  #decode(kind: StickyKind, value: string): DecodedCookie {
    if (typeof value !== 'string' || value.length > MAX_VALUE_LENGTH) return MALFORMED;
    if (!value.startsWith(PREFIX)) return value.length > 1 && value.charCodeAt(1) === 0x2e /* . */ ? UNSUPPORTED : MALFORMED;
    const text = value.slice(PREFIX.length);
    if (!BASE64URL.test(text)) return MALFORMED;
    const body = Buffer.from(text, 'base64url');
    // Only the canonical encoding verifies: no two strings stand for the same bytes.
    if (body.length <= TAG_BYTES + 2 || body.toString('base64url') !== text) return MALFORMED;
    const tag = body.subarray(0, TAG_BYTES);
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-128-ctr', this.#encKey, tag);
      plain = Buffer.concat([decipher.update(body.subarray(TAG_BYTES)), decipher.final()]);
    } catch {
      return MALFORMED;
    }
    const expected = createHmac('sha256', this.#macKey).update(plain).digest().subarray(0, TAG_BYTES);
    if (!timingSafeEqual(expected, tag)) return BAD_SIGNATURE;
    // Authentic from here on: the bytes are ours, but parse defensively all the same.
    if (plain[0] !== FORMAT_VERSION) return UNSUPPORTED;
    if (plain[1] !== kind) return WRONG_KIND;
    const entries = deserialize(plain);
    return entries === null ? MALFORMED : { ok: true, entries };
  }

  /** The keyed hash an APP entry stores for an application cookie value (16 hex digits). */
  appHash(appCookieValue: string): string {
    return createHmac('sha256', this.#macKey).update('app\0').update(appCookieValue).digest().toString('hex', 0, APP_HASH_BYTES);
  }
}

const MALFORMED: DecodedCookie = Object.freeze({ ok: false, reason: 'malformed' });
const BAD_SIGNATURE: DecodedCookie = Object.freeze({ ok: false, reason: 'bad signature' });
const WRONG_KIND: DecodedCookie = Object.freeze({ ok: false, reason: 'wrong cookie kind' });
const UNSUPPORTED: DecodedCookie = Object.freeze({ ok: false, reason: 'unsupported version' });

/**
 * version u8 · kind u8 · count u8 · count × (expiresAt u32 BE · group u8-len · target u8-len ·
 * appHash u8-len), strings as UTF-8. Entries whose names do not fit a length byte are skipped
 * (such a client is simply not sticky).
 */
function serialize(kind: StickyKind, entries: readonly StickyEntry[]): Buffer {
  const parts: Buffer[] = [];
  let count = 0;
  for (let i = 0; i < entries.length && count < MAX_STICKY_ENTRIES; i++) {
    const e = entries[i]!;
    const group = Buffer.from(e.group, 'utf8');
    const target = Buffer.from(e.target, 'utf8');
    const hash = e.appHash === '' ? EMPTY : Buffer.from(e.appHash, 'hex');
    if (group.length > 255 || target.length > 255) continue;
    const head = Buffer.allocUnsafe(5);
    head.writeUInt32BE(clampSeconds(e.expiresAt), 0);
    head[4] = group.length;
    parts.push(head, group, Buffer.of(target.length), target, Buffer.of(hash.length), hash);
    count++;
  }
  return Buffer.concat([Buffer.of(FORMAT_VERSION, kind, count), ...parts]);
}

const EMPTY = Buffer.alloc(0);

function clampSeconds(s: number): number {
  return Math.max(0, Math.min(0xffffffff, Math.floor(s)));
}

function deserialize(plain: Buffer): StickyEntry[] | null {
  const count = plain[2];
  if (count === undefined || count > MAX_STICKY_ENTRIES) return null;
  const entries: StickyEntry[] = [];
  let pos = 3;
  for (let i = 0; i < count; i++) {
    if (pos + 5 > plain.length) return null;
    const expiresAt = plain.readUInt32BE(pos);
    pos += 4;
    const group = readString(plain, pos);
    if (group === null) return null;
    pos = group.next;
    const target = readString(plain, pos);
    if (target === null) return null;
    pos = target.next;
    const hashLength = plain[pos];
    if (hashLength === undefined || pos + 1 + hashLength > plain.length) return null;
    const appHash = plain.toString('hex', pos + 1, pos + 1 + hashLength);
    pos += 1 + hashLength;
    entries.push(Object.freeze({ group: group.text, target: target.text, expiresAt, appHash }));
  }
  return pos === plain.length ? entries : null;
}

function readString(buf: Buffer, pos: number): { text: string; next: number } | null {
  const length = buf[pos];
  if (length === undefined || pos + 1 + length > buf.length) return null;
  return { text: buf.toString('utf8', pos + 1, pos + 1 + length), next: pos + 1 + length };
}
