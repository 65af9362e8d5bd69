/**
 * Desync mitigation through the whole proxy, over raw TCP (SPEC `desyncMitigation`,
 * docs/decisions/0009): a table of request-smuggling tricks, each sent to three instances
 * (monitor, defensive, strictest) whose fake target records every byte it receives. For every
 * case and mode the test checks the client's answer and connection, and that the target saw
 * exactly the requests expected, each one canonical (strict-wire.ts): nothing smuggled, no
 * framing copied from the client, and — for ambiguous requests in defensive mode — the target
 * connection closed after the response.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startRawTarget,
  startSwitchyard,
  listener,
  group,
  RawClient,
  header,
  waitFor,
  waitStable,
  OK_RESPONSE,
  type RawTarget,
  type Running,
  type ResponseMessage,
} from '../harness/index.js';
import { strictParse, type StrictRequest } from './strict-wire.js';

type Mode = 'monitor' | 'defensive' | 'strictest';
const MODES: readonly Mode[] = ['monitor', 'defensive', 'strictest'];

/** What happens to a case: refused (4xx/5xx and close), forwarded, or forwarded then closed. */
type Outcome = 'refused' | 'forwarded' | 'closed';

interface Case {
  readonly name: string;
  /** The bytes; `$` is replaced by the case's path prefix (`/cN`). */
  readonly bytes: string;
  readonly outcome: Outcome | Readonly<Record<Mode, Outcome>>;
  /** Status of a refusal (default 400). */
  readonly status?: number;
  /** Requests the target sees when forwarded (default 1). */
  readonly forwards?: number | Readonly<Partial<Record<Mode, number>>>;
  /** The client connection closes after a forwarded response anyway (HTTP/1.0, upgrade). */
  readonly clientCloses?: boolean;
  /** Extra checks on the requests the target saw. */
  readonly check?: (reqs: readonly StrictRequest[]) => void;
}

const SEVERE: Outcome = 'refused';
const AMBIGUOUS: Readonly<Record<Mode, Outcome>> = { monitor: 'forwarded', defensive: 'closed', strictest: 'refused' };
const ACCEPTABLE: Readonly<Record<Mode, Outcome>> = { monitor: 'forwarded', defensive: 'forwarded', strictest: 'refused' };
const COMPLIANT: Outcome = 'forwarded';

const POST = (headers: string, body = ''): string => `POST $/x HTTP/1.1\r\nHost: a\r\n${headers}\r\n${body}`;
const CHUNKED = (body: string): string => POST('Transfer-Encoding: chunked\r\n', body);
const SMUGGLE = 'GET $/smuggled HTTP/1.1\r\nHost: a\r\n\r\n';

const CASES: readonly Case[] = [
  // ---- severe: refused in every mode, nothing complete reaches the target ----
  { name: 'TE ",chunked"', bytes: POST('Transfer-Encoding: ,chunked\r\n', '0\r\n\r\n'), outcome: SEVERE },
  { name: 'TE "chunked, chunked"', bytes: POST('Transfer-Encoding: chunked, chunked\r\n', '0\r\n\r\n'), outcome: SEVERE },
  { name: 'two TE chunked lines', bytes: POST('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'), outcome: SEVERE },
  { name: 'TE xchunked', bytes: POST('Transfer-Encoding: xchunked\r\n', '0\r\n\r\n'), outcome: SEVERE },
  { name: 'TE "chunked" quoted', bytes: POST('Transfer-Encoding: "chunked"\r\n', '0\r\n\r\n'), outcome: SEVERE },
  { name: 'TE chunked\\x0b', bytes: POST('Transfer-Encoding: chunked\x0b\r\n', '0\r\n\r\n'), outcome: SEVERE },
  { name: 'TE \\x0cchunked', bytes: POST('Transfer-Encoding: \x0cchunked\r\n', '0\r\n\r\n'), outcome: SEVERE },
  { name: 'TE \\xa0chunked', bytes: POST('Transfer-Encoding: \xa0chunked\r\n', '0\r\n\r\n'), outcome: SEVERE },
  // A parameter on chunked is not defined: not supported (501), never forwarded.
  { name: 'TE chunked;ext (501)', bytes: POST('Transfer-Encoding: chunked;x=1\r\n', '0\r\n\r\n'), outcome: SEVERE, status: 501 },
  { name: 'TE identity with CL', bytes: POST('Transfer-Encoding: identity\r\nContent-Length: 5\r\n', 'hello'), outcome: SEVERE },
  { name: 'CL then TE (CL.TE)', bytes: POST('Content-Length: 6\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\nG'), outcome: SEVERE },
  { name: 'TE then CL (TE.CL)', bytes: POST('Transfer-Encoding: chunked\r\nContent-Length: 3\r\n', '8\r\nSMUGGLED\r\n0\r\n\r\n'), outcome: SEVERE },
  { name: 'TE with a tab-prefixed CL', bytes: POST('Transfer-Encoding: chunked\r\nContent-Length:\t3\r\n', '0\r\n\r\n'), outcome: SEVERE },
  { name: 'CL "5, 5"', bytes: POST('Content-Length: 5, 5\r\n', 'hello'), outcome: SEVERE },
  { name: 'CL "5 5"', bytes: POST('Content-Length: 5 5\r\n', 'hello'), outcome: SEVERE },
  { name: 'CL "+5"', bytes: POST('Content-Length: +5\r\n', 'hello'), outcome: SEVERE },
  { name: 'CL "0x5"', bytes: POST('Content-Length: 0x5\r\n', 'hello'), outcome: SEVERE },
  { name: 'CL empty', bytes: POST('Content-Length: \r\n', 'hello'), outcome: SEVERE },
  { name: 'CL 2^64', bytes: POST('Content-Length: 18446744073709551616\r\n', 'hello'), outcome: SEVERE },
  { name: 'CL 2^53+1 (exact in llhttp, not in a double)', bytes: POST('Content-Length: 9007199254740993\r\n', 'hello'), outcome: SEVERE },
  { name: 'duplicate CL, same value', bytes: POST('Content-Length: 5\r\nContent-Length: 5\r\n', 'hello'), outcome: SEVERE },
  { name: 'duplicate CL, different values', bytes: POST('Content-Length: 0\r\nContent-Length: 38\r\n', SMUGGLE), outcome: SEVERE },
  { name: 'space before the colon', bytes: POST('Transfer-Encoding : chunked\r\n', '0\r\n\r\n'), outcome: SEVERE },
  { name: 'space before the name (obs-fold)', bytes: POST(' Transfer-Encoding: chunked\r\n', '0\r\n\r\n'), outcome: SEVERE },
  { name: 'tab before the name', bytes: POST('\tTransfer-Encoding: chunked\r\n', '0\r\n\r\n'), outcome: SEVERE },
  { name: '\\x0b before the name', bytes: POST('\x0bTransfer-Encoding: chunked\r\n', '0\r\n\r\n'), outcome: SEVERE },
  { name: 'Transfer-Encodıng (UTF-8 dotless i)', bytes: POST('Transfer-Encod\xc4\xb1ng: chunked\r\nContent-Length: 5\r\n', 'hello'), outcome: SEVERE },
  { name: 'NUL in a header value', bytes: POST('X-A: a\x00b\r\nContent-Length: 0\r\n'), outcome: SEVERE },
  { name: 'NUL in the URI', bytes: 'GET $/x\x00 HTTP/1.1\r\nHost: a\r\n\r\n', outcome: SEVERE },
  { name: 'CRLF injection in the URI', bytes: 'GET $/x\r\nGET /y HTTP/1.1\r\nHost: a\r\n\r\n', outcome: SEVERE },
  { name: 'bare CR in a header line', bytes: 'GET $/x HTTP/1.1\r\nHost: a\rX: y\r\n\r\n', outcome: SEVERE },
  { name: 'bare LF line endings', bytes: 'GET $/x HTTP/1.1\nHost: a\n\n', outcome: SEVERE },
  { name: 'bare LF between headers', bytes: 'GET $/x HTTP/1.1\r\nHost: a\nX: y\r\n\r\n', outcome: SEVERE },
  { name: 'obs-fold continuation', bytes: 'GET $/x HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n', outcome: SEVERE },
  { name: '\\r\\n\\rX header terminator', bytes: 'GET $/x HTTP/1.1\r\nHost: a\r\n\rX\r\n\r\n', outcome: SEVERE },
  { name: 'header without colon', bytes: 'GET $/x HTTP/1.1\r\nHost: a\r\nTe\nst: x\r\n\r\n', outcome: SEVERE },
  { name: 'duplicate Host', bytes: 'GET $/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', outcome: SEVERE },
  { name: 'absolute-form authority differs from Host', bytes: 'GET http://evil.example$/x HTTP/1.1\r\nHost: a\r\n\r\n', outcome: SEVERE },
  { name: 'chunk size 0x5', bytes: CHUNKED('0x5\r\nhello\r\n0\r\n\r\n'), outcome: SEVERE },
  { name: 'chunk size " 5"', bytes: CHUNKED(' 5\r\nhello\r\n0\r\n\r\n'), outcome: SEVERE },
  { name: 'chunk size "5 "', bytes: CHUNKED('5 \r\nhello\r\n0\r\n\r\n'), outcome: SEVERE },
  { name: 'chunk size -0', bytes: CHUNKED('-0\r\n\r\n'), outcome: SEVERE },
  { name: 'chunk size overflow', bytes: CHUNKED('fffffffffffffffff\r\nhello\r\n0\r\n\r\n'), outcome: SEVERE },
  { name: 'chunk extension with a bare CR', bytes: CHUNKED('5;a\rb\r\nhello\r\n0\r\n\r\n'), outcome: SEVERE },
  { name: 'chunk extension of 20 KiB', bytes: CHUNKED('5;' + 'a'.repeat(20_000) + '\r\nhello\r\n0\r\n\r\n'), outcome: SEVERE },
  { name: 'chunk data longer than its size', bytes: CHUNKED('5\r\nhelloXX\r\n0\r\n\r\n'), outcome: SEVERE },
  { name: 'bare LF after a chunk size', bytes: CHUNKED('5\nhello\r\n0\r\n\r\n'), outcome: SEVERE },
  { name: 'bare LF after chunk data', bytes: CHUNKED('5\r\nhello\n0\r\n\r\n'), outcome: SEVERE },
  { name: 'HTTP/1.2', bytes: 'GET $/x HTTP/1.2\r\nHost: a\r\n\r\n', outcome: SEVERE },
  { name: 'HTTP/1.01', bytes: 'GET $/x HTTP/1.01\r\nHost: a\r\n\r\n', outcome: SEVERE },
  { name: 'lowercase http/1.1', bytes: 'GET $/x http/1.1\r\nHost: a\r\n\r\n', outcome: SEVERE },
  { name: 'bad method GE(T', bytes: 'GE(T $/x HTTP/1.1\r\nHost: a\r\n\r\n', outcome: SEVERE },
  { name: 'HTTP/0.9 (505)', bytes: 'GET $/x\r\n\r\n', outcome: SEVERE, status: 505 },
  { name: 'HTTP/2.0 request line (505)', bytes: 'GET $/x HTTP/2.0\r\nHost: a\r\n\r\n', outcome: SEVERE, status: 505 },

  // ---- ambiguous: monitor forwards, defensive forwards then closes both sides, strictest refuses ----
  {
    name: 'Transfer_Encoding (underscore) beside CL',
    bytes: POST('Transfer_Encoding: chunked\r\nContent-Length: 5\r\n', 'hello'),
    outcome: AMBIGUOUS,
    check: (r) => assert.equal(r[0]!.body.toString(), 'hello'),
  },
  { name: 'Transfer.Encoding (dot) beside CL', bytes: POST('Transfer.Encoding: chunked\r\nContent-Length: 5\r\n', 'hello'), outcome: AMBIGUOUS },
  {
    name: 'Content_Length hiding a request in the body',
    bytes: `GET $/x HTTP/1.1\r\nHost: a\r\nContent_Length: ${SMUGGLE.length - 1}\r\n\r\n${SMUGGLE}`,
    outcome: AMBIGUOUS,
    // For Switchyard (and llhttp) the "body" is a second, pipelined request of the same client:
    // in monitor mode it is served as such, in defensive mode the connection closes first.
    forwards: { monitor: 2, defensive: 1 },
  },
  {
    name: 'GET with a body (CL.0)',
    bytes: `GET $/x HTTP/1.1\r\nHost: a\r\nContent-Length: ${SMUGGLE.length - 1}\r\n\r\n${SMUGGLE}`,
    outcome: AMBIGUOUS,
    check: (r) => assert.equal(r[0]!.framing, 'length'),
  },
  { name: 'GET with a chunked body', bytes: 'GET $/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', outcome: AMBIGUOUS },
  {
    name: 'HTTP/1.0 with Transfer-Encoding',
    bytes: 'POST $/x HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    outcome: AMBIGUOUS,
    clientCloses: true,
    check: (r) => {
      assert.equal(r[0]!.framing, 'chunked', 're-framed by Switchyard');
      assert.equal(r[0]!.body.toString(), 'hello');
    },
  },
  {
    name: 'h2c upgrade',
    bytes: 'GET $/x HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n',
    outcome: AMBIGUOUS,
    clientCloses: true,
  },
  { name: 'HTTP2-Settings without Upgrade', bytes: 'GET $/x HTTP/1.1\r\nHost: a\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n', outcome: AMBIGUOUS },

  // ---- acceptable: refused only in strictest ----
  { name: 'GET with Content-Length: 0', bytes: 'GET $/x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n', outcome: ACCEPTABLE },
  { name: 'obs-text in a header value', bytes: 'GET $/x HTTP/1.1\r\nHost: a\r\nUser-Agent: caf\xc3\xa9\r\n\r\n', outcome: ACCEPTABLE },

  // ---- compliant ----
  { name: 'plain GET', bytes: 'GET $/x HTTP/1.1\r\nHost: a\r\n\r\n', outcome: COMPLIANT },
  { name: 'POST with Content-Length', bytes: POST('Content-Length: 5\r\n', 'hello'), outcome: COMPLIANT },
  {
    name: 'chunked with extensions (re-chunked without them)',
    bytes: CHUNKED('5;name=value\r\nhello\r\n3;x="a b"\r\n!!!\r\n0\r\n\r\n'),
    outcome: COMPLIANT,
    check: (r) => assert.equal(r[0]!.body.toString(), 'hello!!!'),
  },
  {
    name: 'chunked with trailers, then a pipelined request: trailers never become its headers',
    bytes: CHUNKED('5\r\nhello\r\n0\r\nX-Trailer: evil\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n') + 'GET $/second HTTP/1.1\r\nHost: a\r\n\r\n',
    outcome: COMPLIANT,
    forwards: 2,
    check: (r) => {
      assert.equal(r[1]!.target.endsWith('/second'), true, `second target ${r[1]!.target}`);
      const names = r[1]!.headers.map(([n]) => n.toLowerCase());
      assert.ok(!names.includes('x-trailer'), `trailer leaked into the next request: ${names.join(',')}`);
      assert.ok(!r[0]!.headers.some(([n]) => n.toLowerCase() === 'x-trailer'), 'trailers are not forwarded');
    },
  },
  { name: 'TE CHUNKED (case-insensitive)', bytes: POST('Transfer-Encoding: CHUNKED\r\n', '5\r\nhello\r\n0\r\n\r\n'), outcome: COMPLIANT },
];

function outcomeOf(c: Case, mode: Mode): Outcome {
  return typeof c.outcome === 'string' ? c.outcome : c.outcome[mode];
}

function forwardsOf(c: Case, mode: Mode): number {
  if (c.forwards === undefined) return 1;
  if (typeof c.forwards === 'number') return c.forwards;
  return c.forwards[mode] ?? 1;
}

describe('desync mitigation battery (raw TCP, recording target)', () => {
  const targets = new Map<Mode, RawTarget>();
  const lbs = new Map<Mode, Running>();

  before(async () => {
    for (const mode of MODES) {
      const t = await startRawTarget({ onRequest: (_r, conn) => conn.socket.write(OK_RESPONSE) });
      targets.set(mode, t);
      lbs.set(
        mode,
        await startSwitchyard({
          settings: { desyncMitigation: mode },
          listeners: [listener('web', { forward: { targetGroup: 'g' } })],
          targetGroups: [group('g', [t.port])],
        }),
      );
    }
  });

  after(async () => {
    for (const lb of lbs.values()) await lb.close();
    for (const t of targets.values()) await t.close();
  });

  /** Every request the target received so far, strictly parsed, per connection. */
  function targetView(t: RawTarget): { reqs: StrictRequest[]; conns: { reqs: StrictRequest[]; closed: boolean }[] } {
    const all: StrictRequest[] = [];
    const conns = t.connections.map((c) => {
      const p = strictParse(c.data);
      assert.equal(p.error, null, `the target received non-canonical bytes: ${p.error}\n${JSON.stringify(c.data.toString('latin1').slice(0, 600))}`);
      if (!c.closed) assert.equal(p.rest.length, 0, `an open target connection holds a partial request: ${JSON.stringify(p.rest.toString('latin1').slice(0, 200))}`);
      all.push(...p.requests);
      return { reqs: p.requests, closed: c.closed };
    });
    return { reqs: all, conns };
  }

  const totalBytes = (t: RawTarget): number => t.connections.reduce((n, c) => n + c.data.length, 0);

  for (const mode of MODES) {
    describe(mode, () => {
      CASES.forEach((c, i) => {
        const prefix = `/${mode[0]}${i}`;
        const outcome = outcomeOf(c, mode);
        it(`${outcome}: ${c.name}`, async () => {
          const lb = lbs.get(mode)!;
          const t = targets.get(mode)!;
          const mine = (r: StrictRequest): boolean => r.target.startsWith(prefix + '/');
          const client = await RawClient.connect(lb.port());
          try {
            client.write(c.bytes.replaceAll('$', prefix));
            const first: ResponseMessage = await client.readResponse({ timeoutMs: 3000 });
            if (outcome === 'refused') {
              assert.equal(first.status, c.status ?? 400, `status ${first.status}: ${first.body.toString()}`);
              assert.equal(header(first, 'server'), 'switchyard');
              assert.equal(header(first, 'connection'), 'close');
              await client.waitClosed(2000);
              await waitStable(() => totalBytes(t), 50, 3000, 'target bytes');
              const seen = targetView(t).reqs.filter(mine);
              assert.equal(seen.length, 0, `the target saw ${seen.map((r) => r.target).join(', ')}`);
              return;
            }
            assert.equal(first.status, 200, `status ${first.status}: ${first.body.toString()}`);
            const expected = forwardsOf(c, mode);
            for (let k = 1; k < expected; k++) assert.equal((await client.readResponse()).status, 200);
            if (outcome === 'closed' || c.clientCloses) {
              if (outcome === 'closed' && !c.clientCloses) assert.equal(header(first, 'connection'), 'close');
              await client.waitClosed(2000);
              assert.equal(client.unread.length, 0, 'nothing after the last response');
            } else {
              // The connection is still good for another request.
              client.write(`GET ${prefix}/after HTTP/1.1\r\nHost: a\r\n\r\n`);
              assert.equal((await client.readResponse()).status, 200);
            }
            await waitStable(() => totalBytes(t), 30, 3000, 'target bytes');
            const view = targetView(t);
            const seen = view.reqs.filter(mine).filter((r) => !r.target.startsWith(prefix + '/after'));
            assert.equal(seen.length, expected, `the target saw ${seen.map((r) => r.target).join(', ')}`);
            for (const r of seen) {
              const framing = r.headers.filter(([n]) => /^(content-length|transfer-encoding)$/i.test(n));
              assert.ok(framing.length <= 1, 'one framing header at most');
            }
            c.check?.(seen);
            if (outcome === 'closed') {
              const carrier = view.conns.find((k) => k.reqs.some(mine));
              assert.ok(carrier !== undefined);
              const idx = view.conns.indexOf(carrier);
              await waitFor(() => t.connections[idx]!.closed, 2000, 'the target connection closed after an ambiguous request');
            }
          } finally {
            client.destroy();
          }
        });
      });
    });
  }

  it('counts non-compliant requests by classification, reason and outcome', async () => {
    const text = await lbs.get('defensive')!.sy.metrics.render();
    assert.match(text, /switchyard_desync_requests_total\{listener="web",classification="ambiguous",reason="SuspiciousHeader",outcome="forwarded_then_closed"\} [1-9]/);
    assert.match(text, /switchyard_desync_requests_total\{listener="web",classification="severe",reason="BadTransferEncoding",outcome="refused"\} [1-9]/);
    const strict = await lbs.get('strictest')!.sy.metrics.render();
    assert.match(strict, /switchyard_desync_requests_total\{listener="web",classification="acceptable",reason="GetHeadZeroContentLength",outcome="refused"\} 1/);
    const monitor = await lbs.get('monitor')!.sy.metrics.render();
    assert.match(monitor, /switchyard_desync_requests_total\{listener="web",classification="ambiguous",reason="UndefinedContentLengthSemantics",outcome="forwarded"\} [1-9]/);
  });
});
