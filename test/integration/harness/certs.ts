/**
 * Test certificates made with the `openssl` command in a temporary folder: self-signed server
 * certificates with chosen SANs, a CA, and certificates it signs (server or client).
 *
 * EC P-256 keys, valid one day. Nothing here is cached: every test file makes its own, and
 * removes the folder when it is done (`CertDir.remove`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** The PEM certificate (for a client's `ca` or `cert`). */
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface CertOptions {
  /** Subject common name. */
  readonly cn: string;
  /** subjectAltName entries, e.g. ['DNS:a.test', 'DNS:*.a.test', 'IP:127.0.0.1']; none when empty. */
  readonly sans?: readonly string[];
  /** Extra subject parts before CN, e.g. '/O=Acme'. */
  readonly subjectPrefix?: string;
  /** extendedKeyUsage: clientAuth (client certificates) or serverAuth. */
  readonly usage?: 'clientAuth' | 'serverAuth';
}

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export class CertDir {
  readonly dir: string;

  constructor(prefix = 'switchyard-certs-') {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** A self-signed certificate `<name>.pem` / `<name>.key`. */
  selfSigned(name: string, o: CertOptions): CertFiles {
    const certFile = this.path(`${name}.pem`);
    const keyFile = this.path(`${name}.key`);
    const args = [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '1',
      '-subj', `${o.subjectPrefix ?? ''}/CN=${o.cn}`,
    ];
    if (o.sans && o.sans.length > 0) args.push('-addext', `subjectAltName=${o.sans.join(',')}`);
    openssl(args);
    return this.#files(certFile, keyFile);
  }

  /** A CA (self-signed, CA:TRUE) that `signed` can issue certificates from. */
  ca(name: string, cn = `${name} test CA`): CertFiles {
    const certFile = this.path(`${name}.pem`);
    const keyFile = this.path(`${name}.key`);
    openssl([
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return this.#files(certFile, keyFile);
  }

  /** A certificate `<name>.pem` / `<name>.key` signed by `ca`. */
  signed(name: string, ca: CertFiles, o: CertOptions): CertFiles {
    const certFile = this.path(`${name}.pem`);
    const keyFile = this.path(`${name}.key`);
    const csr = this.path(`${name}.csr`);
    const ext = this.path(`${name}.ext`);
    openssl([
      'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', csr, '-subj', `${o.subjectPrefix ?? ''}/CN=${o.cn}`,
    ]);
    const lines = ['basicConstraints=CA:FALSE'];
    if (o.sans && o.sans.length > 0) lines.push(`subjectAltName=${o.sans.join(',')}`);
    if (o.usage) lines.push(`extendedKeyUsage=${o.usage}`);
    writeFileSync(ext, lines.join('\n') + '\n');
    openssl([
      'x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial',
      '-days', '1', '-out', certFile, '-extfile', ext,
    ]);
    return this.#files(certFile, keyFile);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  #files(certFile: string, keyFile: string): CertFiles {
    return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
  }
}
