/**
 * The TLS side of tests: HTTPS listener configs, raw TLS handshakes, and HTTPS requests over
 * node:https (HTTP/1.1 through ALPN).
 */
import https from 'node:https';
import tls from 'node:tls';
import type { ActionConfig, ListenerConfig, ListenerTlsConfig, RuleConfig } from '../../../src/config/types.js';
import type { CertFiles } from './certs.js';
import type { Reply } from './client.js';
import { within } from './wait.js';

/** An HTTPS listener on 127.0.0.1:0; the first certificate is the default. */
export function httpsListener(
  name: string,
  certs: readonly CertFiles[],
  defaultAction: ActionConfig,
  o: { rules?: RuleConfig[]; tls?: ListenerTlsConfig } = {},
): ListenerConfig {
  return {
    name,
    protocol: 'HTTPS',
    host: '127.0.0.1',
    port: 0,
    certificates: certs.map((c) => ({ certFile: c.certFile, keyFile: c.keyFile })),
    ...(o.tls ? { tls: o.tls } : {}),
    rules: o.rules ?? [],
    defaultAction,
  };
}

/** Resolves with the socket once the handshake is done; rejects when it fails. */
export function tlsHandshake(port: number, o: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return within(
    new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...o });
      s.once('secureConnect', () => {
        s.off('error', reject);
        s.on('error', () => undefined);
        resolve(s);
      });
      s.once('error', reject);
      s.once('close', () => reject(new Error('closed during the handshake')));
    }),
    5000,
    'TLS handshake',
  );
}

/** The common name of the certificate the server presented. */
export async function servedCommonName(port: number, o: tls.ConnectionOptions = {}): Promise<string> {
  const s = await tlsHandshake(port, o);
  const cn = s.getPeerCertificate().subject.CN;
  s.destroy();
  return Array.isArray(cn) ? cn.join('+') : String(cn);
}

export interface HttpsRequestOptions {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | string;
  readonly agent?: https.Agent | false;
  /** TLS options for the connection (servername, ca, cert, key, …). Default: no verification. */
  readonly tls?: tls.ConnectionOptions;
}

/** One HTTPS request to 127.0.0.1:port (HTTP/1.1). */
export function httpsRequest(port: number, o: HttpsRequestOptions = {}): Promise<Reply> {
  return within(
    new Promise<Reply>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          method: o.method ?? 'GET',
          path: o.path ?? '/',
          headers: o.headers ?? {},
          agent: o.agent ?? false,
          rejectUnauthorized: false,
          ...(o.tls as https.RequestOptions | undefined),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const body = Buffer.concat(chunks);
            const text = body.toString('utf8');
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              rawHeaders: res.rawHeaders,
              body,
              text,
              json: <T>() => JSON.parse(text) as T,
            });
          });
        },
      );
      req.on('error', reject);
      req.end(o.body);
    }),
    10_000,
    `HTTPS ${o.method ?? 'GET'} ${o.path ?? '/'}`,
  );
}
