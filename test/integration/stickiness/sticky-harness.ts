/**
 * Helpers for the stickiness tests: reading Switchyard's Set-Cookie lines from a reply, and
 * making cookie values with a known secret (to tamper with, expire, or sign with another key).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { StickyCodec, StickyKind, type StickyEntry } from '../../../src/targets/stickiness/cookie-codec.js';
import type { Reply } from '../harness/index.js';

export const SECRET = 'stickiness-test-secret-0123456789abcdef';
export const OTHER_SECRET = 'a-different-secret-fedcba9876543210';

export interface SetCookie {
  readonly name: string;
  readonly value: string;
  /** Attributes after the value, as sent (`Path=/; Max-Age=…`). */
  readonly attributes: string;
  readonly maxAge: number | null;
}

/** The Set-Cookie for `name` in a reply; null when absent; fails when it appears twice. */
export function setCookieOf(r: Reply, name: string): SetCookie | null {
  const all = (r.headers['set-cookie'] ?? []).filter((line) => line.startsWith(name + '='));
  assert.ok(all.length <= 1, `Set-Cookie ${name} appears ${all.length} times: ${JSON.stringify(all)}`);
  const line = all[0];
  if (line === undefined) return null;
  const semi = line.indexOf(';');
  const value = line.slice(name.length + 1, semi < 0 ? line.length : semi);
  const attributes = semi < 0 ? '' : line.slice(semi + 1).trim();
  const m = /(?:^|;\s*)Max-Age=(\d+)/.exec(attributes);
  return { name, value, attributes, maxAge: m === null ? null : Number(m[1]) };
}

/** The Set-Cookie for `name`, which must be there. */
export function mustSetCookie(r: Reply, name: string): SetCookie {
  const c = setCookieOf(r, name);
  assert.ok(c !== null, `expected a Set-Cookie ${name}, got ${JSON.stringify(r.headers['set-cookie'] ?? [])}`);
  return c;
}

/** The target that answered (echo targets tag their replies). */
export function answeredBy(r: Reply): string {
  const t = r.headers['x-target'];
  assert.equal(typeof t, 'string', `no x-target in ${JSON.stringify(r.headers)}`);
  return t as string;
}

/** A codec over `secret`, as Switchyard builds it from `settings.stickinessSecret`. */
export function codec(secret = SECRET): StickyCodec {
  return new StickyCodec(Buffer.from(secret));
}

/** The entries of a SWITCHYARD / SWITCHYARD_APP / SWITCHYARDTG value signed with `secret`. */
export function entriesOf(kind: StickyKind, value: string, secret = SECRET): readonly StickyEntry[] {
  const d = codec(secret).decode(kind, value);
  assert.ok(d.ok, `cookie value does not verify: ${d.ok ? '' : d.reason}`);
  return d.entries;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** A minimal tagged target on a given port (to bring a stopped target back on its address). */
export async function taggedTargetOn(name: string, port: number): Promise<{ requests: number; close(): Promise<void> }> {
  const state = { requests: 0 };
  const server = http.createServer((req, res) => {
    state.requests++;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'x-target': name, 'content-type': 'text/plain' });
      res.end(name);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port }, () => resolve());
  });
  return {
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
