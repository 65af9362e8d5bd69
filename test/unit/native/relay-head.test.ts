/**
 * The relayed response head of the native data path (native/src/relay.cc): the checks the
 * TypeScript path makes beyond llhttp (framing.ts checkResponseHead) and the head it writes to
 * the client (headers.ts buildResponseHead), ported to C++ so that a target's header fields never
 * become JavaScript strings. Differential properties against the TypeScript originals on the
 * generated and mutated heads of response-head.test.ts (whose fields, status and reason are
 * llhttp's, as that file shows): same refusal, same framing facts, byte-identical head.
 *
 * Needs the addon (`node scripts/build-native.mjs`); SWITCHYARD_NATIVE=off skips these tests.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nativeHooks, RUNS, SKIP } from './native-hooks.js';
import { anyResponse, mutateResponse, mutation } from './response-generators.js';
import { checkResponseHead } from '../../../src/proxy/framing.js';
import { buildResponseHead, responseFraming } from '../../../src/proxy/headers.js';

interface RelayResult {
  result: 'NEED_MORE' | 'OK' | 'ERROR';
  refusal: string;
  contentLength: number;
  transferEncoding: boolean;
  head: string;
}

interface ScanResult {
  result: string;
  status: number;
  versionMinor: number;
  reason: string;
  headers: string[];
}

interface NativeHooks {
  relayResponseHead(head: Buffer, framing: string, extra: string): RelayResult;
  scanResponseHead(head: Buffer, maxFields: number): ScanResult;
}

const addon = (): NativeHooks => nativeHooks<NativeHooks>();

/** The engine's field limit (scan.h kMaxFields). */
const ENGINE_MAX_FIELDS = 256;

const framingLine = fc.constantFrom('', 'content-length: 5\r\n', 'transfer-encoding: chunked\r\n');
const extraLines = fc.constantFrom('', 'connection: close\r\n', 'set-cookie: sy=1; Path=/\r\nset-cookie: b=2\r\n');

/** Compares the C++ relay with the TypeScript path on one head; returns what happened. */
function compare(text: string, framing: string, extra: string): string {
  const buf = Buffer.from(text, 'latin1');
  const r = addon().relayResponseHead(buf, framing, extra);
  const s = addon().scanResponseHead(buf, ENGINE_MAX_FIELDS);
  const ctx = JSON.stringify(text);
  assert.equal(r.result, s.result, ctx);
  if (r.result !== 'OK') return r.result;
  const problem = checkResponseHead(s.status, s.versionMinor, s.headers, s.reason);
  assert.equal(r.refusal, problem ?? '', ctx);
  if (problem !== null) return problem;
  const f = responseFraming([...s.headers]);
  assert.deepEqual([r.contentLength, r.transferEncoding], [f.contentLength, f.chunked], ctx);
  assert.equal(r.head, buildResponseHead(s.status, s.reason, s.headers, framing, extra, false), ctx);
  return 'relayed';
}

describe('native relayed response head', { skip: SKIP }, () => {
  it('refuses and rewrites generated heads exactly as the TypeScript path does', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(anyResponse, framingLine, extraLines, (head, framing, extra) => {
        const what = compare(head, framing, extra);
        seen.set(what, (seen.get(what) ?? 0) + 1);
      }),
      { numRuns: RUNS, includeErrorInReport: true },
    );
    // Not vacuous: most accepted heads are relayed, and the refusals are of several kinds.
    assert.ok((seen.get('relayed') ?? 0) > RUNS / 10, JSON.stringify([...seen]));
    if (RUNS >= 1000) {
      for (const kind of ['BadStatus', 'BadTransferEncoding', 'BadContentLength']) assert.ok(seen.has(kind), `${kind}: ${JSON.stringify([...seen])}`);
    }
  });

  it('refuses and rewrites mutated heads exactly as the TypeScript path does', () => {
    fc.assert(
      fc.property(anyResponse, fc.array(mutation, { minLength: 1, maxLength: 3 }), framingLine, extraLines, (head, ms, framing, extra) => {
        compare(ms.reduce(mutateResponse, head), framing, extra);
      }),
      { numRuns: RUNS, includeErrorInReport: true },
    );
  });

  it('drops hop-by-hop fields and the fields Connection names, keeps the rest as sent', () => {
    const head =
      'HTTP/1.1 200 Fine\r\nServer: t\r\nConnection: keep-alive, X-Trace ,\xa0foo\xa0\r\nX-Trace: 1\r\nFOO: 2\r\nKeep-Alive: timeout=5\r\n' +
      'Proxy-Connection: x\r\nUpgrade: h2c\r\nContent-Length: 3\r\nX-Caf: \xe9t\xe9\r\nx-trace: 3\r\n\r\n';
    const r = addon().relayResponseHead(Buffer.from(head, 'latin1'), 'content-length: 3\r\n', '');
    assert.equal(r.head, 'HTTP/1.1 200 Fine\r\nServer: t\r\nX-Caf: \xe9t\xe9\r\ncontent-length: 3\r\n\r\n');
    assert.equal(compare(head, 'content-length: 3\r\n', ''), 'relayed');
  });

  it('refuses what checkResponseHead refuses beyond llhttp', () => {
    const S = 'HTTP/1.1 200 OK\r\n';
    const cases: readonly (readonly [string, string])[] = [
      ['HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n', 'BadStatus'],
      ['HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n', 'BadStatus'],
      [S + 'Transfer-Encoding: gzip, chunked\r\n\r\n', 'BadTransferEncoding'],
      [S + 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', 'BadTransferEncoding'],
      [S + 'Transfer-Encoding:\r\nContent-Length: 1\r\n\r\n', 'BadTransferEncoding'],
      ['HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'UndefinedTransferEncodingSemantics'],
      [S + 'Content-Length: 00000000000000001\r\n\r\n', 'BadContentLength'],
      [S + 'Content-Length: 9007199254740992\r\n\r\n', 'BadContentLength'],
      [S + 'Content_Length: 1\r\nContent-Length: 1\r\n\r\n', 'SuspiciousHeader'],
      [S + 'transfer.encoding: chunked\r\nContent-Length: 1\r\n\r\n', 'SuspiciousHeader'],
    ];
    for (const [head, refusal] of cases) {
      assert.equal(addon().relayResponseHead(Buffer.from(head, 'latin1'), '', '').refusal, refusal, JSON.stringify(head));
      assert.equal(compare(head, '', ''), refusal, JSON.stringify(head));
    }
    // JavaScript's trim() takes NBSP (0xA0) as space: "chunked\xa0" passes, as on the TypeScript path.
    assert.equal(compare(S + 'Transfer-Encoding: chunked\xa0\r\n\r\n', '', ''), 'relayed');
  });
});
