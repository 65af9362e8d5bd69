/**
 * How Switchyard talks to the targets of one group: HTTP/1.1 or HTTP/2 (`protocolVersion`),
 * over TCP or TLS (`protocol: HTTPS`), and with which certificate checks (`tls`).
 *
 * Owns: reading the group's CA file (at apply time, before the swap, so an unreadable file
 * rejects the config), the tls.connect options for one target (SNI is the servername, else the
 * target's host unless it is an IP address; the certificate is checked against that name),
 * and building the right pool for a target. `key` tells a reload whether pools must be rebuilt.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import type { ResolvedTargetGroup } from '../config/defaults.js';
import { H2UpstreamPool } from './h2-upstream.js';
import { UpstreamPool, type TargetPool, type UpstreamTls } from './upstream-pool.js';

export interface TargetTransportTls {
  readonly verify: boolean;
  /** CA bundle (PEM) to verify against; null: Node's built-in roots. */
  readonly ca: Buffer | null;
  /** SNI and the name checked; null: the target's host (no SNI for an IP address). */
  readonly servername: string | null;
}

export interface TargetTransport {
  /** HTTP/2 to targets (protocolVersion HTTP2 or GRPC). */
  readonly http2: boolean;
  /** TLS to targets (protocol HTTPS); null for plain TCP. */
  readonly tls: TargetTransportTls | null;
  /** Equal for equal transports: a reload that keeps it keeps the targets' connections. */
  readonly key: string;
}

/**
 * The transport of a group. Reads `tls.ca` (relative to `baseDir`) when `baseDir` is given;
 * without it (tools that never connect, such as `explain`) the CA is left out. Throws a
 * readable Error when the CA file cannot be read.
 */
export function loadTargetTransport(spec: ResolvedTargetGroup, baseDir: string | null): TargetTransport {
  const http2 = spec.protocolVersion !== 'HTTP1';
  if (spec.protocol !== 'HTTPS') return { http2, tls: null, key: http2 ? 'h2c' : 'http1' };
  let ca: Buffer | null = null;
  if (spec.tls.ca !== null && baseDir !== null) {
    const file = isAbsolute(spec.tls.ca) ? spec.tls.ca : resolve(baseDir, spec.tls.ca);
    try {
      ca = readFileSync(file);
    } catch (err) {
      throw new Error(`target group ${spec.name}: cannot read tls.ca ${file}: ${(err as Error).message}`);
    }
  }
  const tls: TargetTransportTls = { verify: spec.tls.verify, ca, servername: spec.tls.servername };
  const caHash = ca === null ? '' : createHash('sha256').update(ca).digest('hex');
  return { http2, tls, key: `${http2 ? 'h2' : 'http1'}|tls|${tls.verify}|${tls.servername ?? ''}|${caHash}` };
}

/** tls.connect options towards one target (ALPN: h2 for HTTP/2 groups, http/1.1 otherwise). */
export function upstreamTlsOptions(t: TargetTransportTls, host: string, http2: boolean): UpstreamTls {
  const name = t.servername ?? (isIP(host) === 0 ? host : null);
  const options: UpstreamTls = {
    rejectUnauthorized: t.verify,
    minVersion: 'TLSv1.2',
    ALPNProtocols: http2 ? ['h2'] : ['http/1.1'],
    // Node checks the certificate against servername, else the host (an IP: its IP SANs).
    ...(name !== null ? { servername: name } : {}),
    ...(t.ca !== null ? { ca: t.ca } : {}),
  };
  return options;
}

/** A pool of connections to one target, for the group's transport. */
export function createTargetPool(host: string, port: number, connectTimeoutMs: number, transport: TargetTransport): TargetPool {
  const tls = transport.tls === null ? null : upstreamTlsOptions(transport.tls, host, transport.http2);
  return transport.http2 ? new H2UpstreamPool(host, port, connectTimeoutMs, tls) : new UpstreamPool(host, port, connectTimeoutMs, tls);
}

/** Plain HTTP/1.1: what a group gets when nothing else is said (tests, tools). */
export const HTTP1_TRANSPORT: TargetTransport = Object.freeze({ http2: false, tls: null, key: 'http1' });
