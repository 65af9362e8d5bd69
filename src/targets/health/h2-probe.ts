/**
 * HTTP/2 health probes, for target groups spoken to in HTTP/2 (`protocolVersion: HTTP2 |
 * GRPC`), whose targets often speak nothing else (a gRPC server answers no HTTP/1.1).
 *
 * Owns: one check on a fresh session (h2c with prior knowledge, or TLS with ALPN h2, the
 * certificate not verified, as for HTTPS probes), `:authority: host:port`, the request (`GET
 * <path>`; for GRPC groups a gRPC-shaped `POST <path>` with an empty message, since gRPC
 * servers refuse other requests), the verdict by HTTP status (`matcher`) once the response has
 * ended, and the whole-check deadline. For GRPC groups any gRPC answer is a 200, even
 * UNIMPLEMENTED: the check proves the target serves gRPC, not that a service is well. Never
 * rejects; never throws for target behaviour.
 */
import http2 from 'node:http2';
import { formatTargetId } from '../target.js';
import { compileStatusMatcher, type StatusMatcher } from './matcher.js';
import { PROBE_PASSED, errorCode, runProbe, type HealthProbe, type ProbeResult } from './probe.js';

export interface H2ProbeOptions {
  readonly tls: boolean;
  /** A gRPC-shaped POST instead of a GET. */
  readonly grpc: boolean;
  readonly path: string;
  readonly matcher: string;
  readonly timeoutMs: number;
}

const USER_AGENT = 'switchyard-health-check';
/** A gRPC message frame: not compressed, length 0. */
const EMPTY_GRPC_MESSAGE = Buffer.alloc(5);

export class H2Probe implements HealthProbe {
  readonly #o: H2ProbeOptions;
  readonly #matcher: StatusMatcher;

  constructor(o: H2ProbeOptions) {
    this.#o = o;
    this.#matcher = compileStatusMatcher(o.matcher);
  }

  check(host: string, port: number, signal: AbortSignal): Promise<ProbeResult> {
    const o = this.#o;
    return runProbe(o.timeoutMs, signal, (finish, onSettle) => {
      let connected = false;
      let session: http2.ClientHttp2Session;

      const authority = formatTargetId(host, port);
      try {
        // Deliberate: targets' certificates are not verified (as HTTPS probes).
        session = http2.connect(`${o.tls ? 'https' : 'http'}://${authority}`, o.tls ? { rejectUnauthorized: false } : {});
      } catch (err) {
        finish({ ok: false, reason: `health check: ${errorCode(err)}` });
        return;
      }
      onSettle(() => session.destroy());
      session.on('error', (err) => finish({ ok: false, reason: `health check: ${connected ? '' : 'connect '}${errorCode(err)}` }));
      session.on('close', () => finish({ ok: false, reason: 'health check: connection closed' }));
      session.once('connect', () => (connected = true));
      const headers: http2.OutgoingHttpHeaders = { ':method': o.grpc ? 'POST' : 'GET', ':path': o.path, ':authority': authority, 'user-agent': USER_AGENT };
      if (o.grpc) {
        headers['content-type'] = 'application/grpc';
        headers['te'] = 'trailers';
      }
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request(headers, { endStream: !o.grpc });
      } catch (err) {
        finish({ ok: false, reason: `health check: ${errorCode(err)}` });
        return;
      }
      if (o.grpc) stream.end(EMPTY_GRPC_MESSAGE);
      let verdict: ProbeResult | null = null;
      stream.on('response', (h) => {
        const status = Number(h[':status']);
        verdict = this.#matcher.test(status) ? { ok: true, reason: PROBE_PASSED } : { ok: false, reason: `health check: status ${status} not in ${this.#matcher.source}` };
      });
      stream.on('error', (err) => finish({ ok: false, reason: `health check: response ${errorCode(err)}` }));
      stream.on('end', () => finish(verdict ?? { ok: false, reason: 'health check: no response' }));
      stream.on('close', () => finish(verdict !== null && stream.rstCode === 0 ? verdict : { ok: false, reason: 'health check: stream reset' }));
      stream.resume();
    });
  }
}
