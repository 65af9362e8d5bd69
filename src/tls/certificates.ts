/**
 * TLS material for HTTPS listeners: certificates loaded from PEM files, the names they serve,
 * and the cipher policies.
 *
 * Owns: reading a certificate chain and key, extracting the DNS names it covers (SAN, else CN),
 * and building one SecureContext per certificate with the listener's TLS options. Throws a
 * readable Error (file, reason) on unreadable or mismatched files; callers turn it into a
 * config error at load and into a logged, ignored change on a hot reload.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { isAbsolute, resolve } from 'node:path';
import type { ResolvedTls } from '../config/defaults.js';

/**
 * Named cipher policies. All offer forward secrecy only (ECDHE key exchange for TLS 1.2; every
 * TLS 1.3 suite is forward secret). `fs-2023` is the default.
 */
export const CIPHER_POLICIES: Readonly<Record<string, { readonly ciphers: string; readonly minVersion?: 'TLSv1.3' }>> = Object.freeze({
  'fs-2023': {
    ciphers: [
      'TLS_AES_128_GCM_SHA256',
      'TLS_AES_256_GCM_SHA384',
      'TLS_CHACHA20_POLY1305_SHA256',
      'ECDHE-ECDSA-AES128-GCM-SHA256',
      'ECDHE-RSA-AES128-GCM-SHA256',
      'ECDHE-ECDSA-AES256-GCM-SHA384',
      'ECDHE-RSA-AES256-GCM-SHA384',
      'ECDHE-ECDSA-CHACHA20-POLY1305',
      'ECDHE-RSA-CHACHA20-POLY1305',
    ].join(':'),
  },
  'fs-tls13-only': {
    ciphers: 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256',
    minVersion: 'TLSv1.3',
  },
});

export const DEFAULT_CIPHER_POLICY = 'fs-2023';

export interface LoadedCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  /** Lowercased DNS names from the SAN (or the CN when there is no SAN); may hold `*.x` entries. */
  readonly names: readonly string[];
  readonly context: SecureContext;
  /** What `context` was built from, for the server's default context (no SNI). */
  readonly contextOptions: SecureContextOptions;
  readonly validTo: string;
}

/** Resolves a certificate path against the config file's directory. */
export function resolveTlsPath(path: string, baseDir: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

/** DNS names a certificate covers. */
export function certificateNames(cert: X509Certificate): string[] {
  const names: string[] = [];
  const san = cert.subjectAltName;
  if (san) {
    for (const part of san.split(/,\s*/)) {
      if (part.startsWith('DNS:')) names.push(part.slice(4).toLowerCase());
    }
  }
  if (names.length === 0) {
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject);
    if (cn) names.push(cn[1]!.trim().toLowerCase());
  }
  return names;
}

export function loadCertificate(certFile: string, keyFile: string, tls: ResolvedTls, clientCa: Buffer | null): LoadedCertificate {
  let certPem: Buffer;
  let keyPem: Buffer;
  try {
    certPem = readFileSync(certFile);
  } catch (err) {
    throw new Error(`cannot read certFile ${certFile}: ${(err as Error).message}`);
  }
  try {
    keyPem = readFileSync(keyFile);
  } catch (err) {
    throw new Error(`cannot read keyFile ${keyFile}: ${(err as Error).message}`);
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certPem);
  } catch (err) {
    throw new Error(`certFile ${certFile} is not a PEM certificate: ${(err as Error).message}`);
  }
  const policy = CIPHER_POLICIES[tls.policy ?? DEFAULT_CIPHER_POLICY];
  if (!policy) throw new Error(`unknown TLS policy ${tls.policy}; known: ${Object.keys(CIPHER_POLICIES).join(', ')}`);
  let context: SecureContext;
  const contextOptions: SecureContextOptions = {
    cert: certPem,
    key: keyPem,
    minVersion: policy.minVersion ?? tls.minVersion,
    ciphers: policy.ciphers,
    honorCipherOrder: true,
    ...(clientCa ? { ca: clientCa } : {}),
  };
  try {
    context = createSecureContext(contextOptions);
  } catch (err) {
    throw new Error(`certificate ${certFile} with key ${keyFile} cannot be used: ${(err as Error).message}`);
  }
  return { certFile, keyFile, names: certificateNames(x509), context, contextOptions, validTo: x509.validTo };
}
