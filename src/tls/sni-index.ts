/**
 * SNI name → certificate, for one HTTPS listener: an exact-name map first, then wildcard
 * certificates (`*.example.com` covers exactly one more label, RFC 6125 §6.4.3), then the
 * listener's first certificate as the default (also when the client sends no SNI).
 *
 * Owns: the lookup only, rebuilt whole when a certificate changes; no I/O.
 */
import type { SecureContext } from 'node:tls';
import type { LoadedCertificate } from './certificates.js';

export class SniIndex {
  readonly #exact: Map<string, SecureContext>;
  readonly #wildcard: Map<string, SecureContext>;
  readonly defaultContext: SecureContext;
  readonly defaultCertificate: LoadedCertificate;
  readonly certificates: readonly LoadedCertificate[];

  /** `certs[0]` is the default. Earlier certificates win when two cover the same name. */
  constructor(certs: readonly LoadedCertificate[]) {
    if (certs.length === 0) throw new Error('an HTTPS listener needs at least one certificate');
    this.certificates = certs;
    this.defaultContext = certs[0]!.context;
    this.defaultCertificate = certs[0]!;
    this.#exact = new Map();
    this.#wildcard = new Map();
    for (const c of certs) {
      for (const name of c.names) {
        if (name.startsWith('*.')) {
          const suffix = name.slice(2);
          if (!this.#wildcard.has(suffix)) this.#wildcard.set(suffix, c.context);
        } else if (!this.#exact.has(name)) {
          this.#exact.set(name, c.context);
        }
      }
    }
  }

  /** The context for an SNI name (any case, optional trailing dot). */
  lookup(servername: string | undefined): SecureContext {
    if (!servername) return this.defaultContext;
    let name = servername.toLowerCase();
    if (name.endsWith('.')) name = name.slice(0, -1);
    const exact = this.#exact.get(name);
    if (exact) return exact;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const wild = this.#wildcard.get(name.slice(dot + 1));
      if (wild) return wild;
    }
    return this.defaultContext;
  }
}
