/**
 * TLS termination for one HTTPS listener: server options, SNI certificate choice, hot
 * certificate reload, and the client-certificate facts passed to targets (mutual TLS).
 *
 * Owns: the SniIndex swap when a certificate or key file changes on disk (polled, so a file
 * replaced by rename is seen too), without dropping connections: a new handshake uses the new
 * certificate, open connections keep theirs. A change that fails to load is logged and the old
 * certificate stays. Also renders the `x-client-cert-*` headers; the listener strips any such
 * header a client sent, so targets can trust them (docs/decisions/0013-https-http2-grpc.md).
 */
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import type { Server as TlsServer, TLSSocket, TlsOptions } from 'node:tls';
import type { ResolvedListener } from '../config/defaults.js';
import type { Logger } from '../observability/logger.js';
import { loadCertificate, resolveTlsPath, type LoadedCertificate } from './certificates.js';
import { SniIndex } from './sni-index.js';
import { byteString } from '../proxy/headers.js';

/** How often certificate files are checked for changes. */
const WATCH_INTERVAL_MS = 1000;
const DEFAULT_ALPN = ['h2', 'http/1.1'];

/**
 * Header names Switchyard sets from a client certificate on mutual-TLS listeners; copies a
 * client sends are dropped. Subject and fingerprint are sent for a verified certificate only.
 */
export const CLIENT_CERT_HEADERS = ['x-client-cert-subject', 'x-client-cert-fingerprint', 'x-client-cert-verified'] as const;

export class TlsTerminator {
  #listener: ResolvedListener;
  readonly #baseDir: string;
  readonly #log: Logger;
  #index: SniIndex;
  #clientCa: Buffer | null;
  #watched: string[];
  #server: TlsServer | null;
  readonly #onFileChange: (curr: Stats, prev: Stats) => void;

  /** Loads every certificate now; throws a readable Error when one cannot be used. */
  constructor(listener: ResolvedListener, baseDir: string, log: Logger) {
    this.#listener = listener;
    this.#baseDir = baseDir;
    this.#log = log;
    this.#clientCa = null;
    this.#watched = [];
    this.#server = null;
    this.#index = this.#load();
    this.#onFileChange = (curr, prev) => {
      if (curr.mtimeMs !== prev.mtimeMs || curr.size !== prev.size || curr.ino !== prev.ino) this.reloadCertificates();
    };
    this.#watch();
  }

  get index(): SniIndex {
    return this.#index;
  }

  /** True when targets get the x-client-cert-* headers (and client copies are stripped). */
  get mutualTls(): boolean {
    return this.#listener.tls.clientCa !== null;
  }

  /**
   * Options for tls.createServer. The certificate contexts carry the version floor and the
   * cipher policy; ALPN and the handshake timeout are fixed for the server's life.
   */
  serverOptions(): TlsOptions {
    const tls = this.#listener.tls;
    const alpn = tls.alpn.length > 0 ? [...tls.alpn] : DEFAULT_ALPN;
    return {
      // The server's own context serves clients that send no SNI: the first certificate. Its
      // minVersion is the policy's when the policy is stricter than tls.minVersion.
      ...this.#index.defaultCertificate.contextOptions,
      SNICallback: (servername, cb) => cb(null, this.#index.lookup(servername)),
      ALPNProtocols: alpn,
      handshakeTimeout: tls.handshakeTimeoutSeconds * 1000,
      requestCert: tls.clientCa !== null,
      rejectUnauthorized: tls.clientCa !== null && tls.clientCertMode === 'verify',
    };
  }

  /** The server whose default context follows certificate reloads. */
  attach(server: TlsServer): void {
    this.#server = server;
  }

  /**
   * A reload of the config: a new certificate list, version floor, policy or client CA applies
   * to new handshakes. ALPN and the handshake timeout need the listener to be recreated.
   */
  update(listener: ResolvedListener): void {
    this.#listener = listener;
    this.reloadCertificates();
    const server = this.#server as (TlsServer & { requestCert?: boolean; rejectUnauthorized?: boolean }) | null;
    if (server !== null) {
      // tls.Server reads these two for every connection it accepts.
      server.requestCert = listener.tls.clientCa !== null;
      server.rejectUnauthorized = listener.tls.clientCa !== null && listener.tls.clientCertMode === 'verify';
    }
    this.#unwatch();
    this.#watch();
  }

  /** Re-reads every certificate; keeps the old set when any fails. */
  reloadCertificates(): void {
    try {
      this.#index = this.#load();
      this.#server?.setSecureContext(this.#index.defaultCertificate.contextOptions);
      this.#log.info({ listener: this.#listener.name }, 'certificates reloaded');
    } catch (err) {
      this.#log.warn({ listener: this.#listener.name, err: (err as Error).message }, 'certificate reload failed; the previous certificates stay');
    }
  }

  close(): void {
    this.#unwatch();
  }

  /**
   * The x-client-cert-* header lines for a connection: subject, fingerprint and `verified:
   * true` for a certificate that verified against the client CA; only `verified: false` for
   * one that did not (optional mode), so no target can mistake its subject for a proven one;
   * '' without a client certificate.
   */
  clientCertHeaders(socket: TLSSocket): string {
    if (!this.mutualTls) return '';
    const cert = socket.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return '';
    if (!socket.authorized) return 'x-client-cert-verified: false\r\n';
    return (
      'x-client-cert-subject: ' + byteString(headerSafe(distinguishedName(cert.subject))) + '\r\n' +
      'x-client-cert-fingerprint: ' + headerSafe(cert.fingerprint256 ?? '') + '\r\n' +
      'x-client-cert-verified: true\r\n'
    );
  }

  #load(): SniIndex {
    const tls = this.#listener.tls;
    this.#clientCa = null;
    if (tls.clientCa !== null) {
      const caFile = resolveTlsPath(tls.clientCa, this.#baseDir);
      try {
        this.#clientCa = readFileSync(caFile);
      } catch (err) {
        throw new Error(`cannot read tls.clientCa ${caFile}: ${(err as Error).message}`);
      }
    }
    const certs: LoadedCertificate[] = [];
    for (const c of this.#listener.certificates) {
      certs.push(loadCertificate(resolveTlsPath(c.certFile, this.#baseDir), resolveTlsPath(c.keyFile, this.#baseDir), tls, this.#clientCa));
    }
    return new SniIndex(certs);
  }

  #watch(): void {
    const files = new Set<string>();
    for (const c of this.#listener.certificates) {
      files.add(resolveTlsPath(c.certFile, this.#baseDir));
      files.add(resolveTlsPath(c.keyFile, this.#baseDir));
    }
    if (this.#listener.tls.clientCa !== null) files.add(resolveTlsPath(this.#listener.tls.clientCa, this.#baseDir));
    for (const f of files) watchFile(f, { interval: WATCH_INTERVAL_MS, persistent: false }, this.#onFileChange);
    this.#watched = [...files];
  }

  #unwatch(): void {
    for (const f of this.#watched) unwatchFile(f, this.#onFileChange);
    this.#watched = [];
  }
}

/**
 * A subject as an RFC 4514 string, most specific first (`CN=client,O=Acme,C=US`), the way
 * nginx's `$ssl_client_s_dn` and OpenSSL's `-nameopt RFC2253` print it.
 */
export function distinguishedName(subject: Readonly<Record<string, string | string[] | undefined>> | undefined): string {
  if (!subject) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(subject)) {
    if (v === undefined) continue;
    const values = Array.isArray(v) ? v : [v];
    for (const one of values) parts.push(k + '=' + escapeDnValue(one));
  }
  return parts.reverse().join(',');
}

/** RFC 4514 §2.4: escape the special characters, and a leading '#' or space, a trailing space. */
function escapeDnValue(v: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if ('"+,;<>\\'.includes(c) || (i === 0 && (c === '#' || c === ' ')) || (i === v.length - 1 && c === ' ')) out += '\\';
    out += c;
  }
  return out;
}

/** Header values from certificate fields: no CR, LF or other control characters. */
function headerSafe(v: string): string {
  return v.replace(/[\x00-\x1f\x7f]/g, ' ');
}
