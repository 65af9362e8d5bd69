/**
 * CIDR blocks for IPv4 and IPv6, parsed once at config load and tested per request.
 *
 * Owns: parsing "a.b.c.d/n" and "x:y::/n" (a bare address means a single host) and testing an
 * address against a list of blocks. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, as Node reports
 * IPv4 clients on dual-stack sockets) are tested as IPv4. No I/O; never throws on bad input.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface CidrBlock {
  readonly family: 4 | 6;
  /** Network address, 4 or 16 bytes, host bits already cleared. */
  readonly bytes: Uint8Array;
  readonly prefix: number;
  readonly text: string;
}

function parseIPv4(s: string): Uint8Array | null {
  if (!isIPv4(s)) return null;
  const parts = s.split('.');
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) out[i] = Number(parts[i]);
  return out;
}

function parseIPv6(s: string): Uint8Array | null {
  if (!isIPv6(s)) return null;
  let text = s;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const out = new Uint8Array(16);
  // A trailing dotted quad (::ffff:1.2.3.4) becomes the last two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIPv4(tail);
    if (!v4) return null;
    const hi = ((v4[0]! << 8) | v4[1]!).toString(16);
    const lo = ((v4[2]! << 8) | v4[3]!).toString(16);
    text = text.slice(0, lastColon + 1) + hi + ':' + lo;
  }
  const dbl = text.indexOf('::');
  const head = dbl >= 0 ? text.slice(0, dbl) : text;
  const rest = dbl >= 0 ? text.slice(dbl + 2) : '';
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === '' ? [] : rest.split(':');
  const groups: string[] = headGroups.slice();
  const missing = 8 - headGroups.length - restGroups.length;
  for (let i = 0; i < missing; i++) groups.push('0');
  for (const g of restGroups) groups.push(g);
  if (groups.length !== 8) return null;
  for (let i = 0; i < 8; i++) {
    const v = parseInt(groups[i]!, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  }
  return out;
}

/** Parses an address into bytes, unwrapping IPv4-mapped IPv6 to 4 bytes. Null if not an IP. */
export function parseIp(s: string): Uint8Array | null {
  const v4 = parseIPv4(s);
  if (v4) return v4;
  const v6 = parseIPv6(s);
  if (!v6) return null;
  if (isV4Mapped(v6)) return v6.subarray(12);
  return v6;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** Parses "addr/prefix" or a bare address. Null (never a throw) when malformed. */
export function parseCidr(text: string): CidrBlock | null {
  const slash = text.indexOf('/');
  const addr = slash >= 0 ? text.slice(0, slash) : text;
  const bytes = parseIPv4(addr) ?? parseIPv6(addr);
  if (!bytes) return null;
  const max = bytes.length * 8;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > max) return null;
  }
  const net = new Uint8Array(bytes);
  for (let bit = prefix; bit < max; bit++) net[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return { family: bytes.length === 4 ? 4 : 6, bytes: net, prefix, text };
}

/** True when `ip` (bytes from parseIp) lies inside `block`. */
export function cidrContains(block: CidrBlock, ip: Uint8Array): boolean {
  if (ip.length !== block.bytes.length) return false;
  const full = block.prefix >> 3;
  for (let i = 0; i < full; i++) if (ip[i] !== block.bytes[i]) return false;
  const rem = block.prefix & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return ((ip[full]! & mask) === block.bytes[full]);
}

/** A list of blocks tested together; the address string is parsed once per call. */
export class CidrSet {
  readonly #blocks: readonly CidrBlock[];
  constructor(blocks: readonly CidrBlock[]) {
    this.#blocks = blocks;
  }
  get blocks(): readonly CidrBlock[] {
    return this.#blocks;
  }
  containsBytes(ip: Uint8Array | null): boolean {
    if (ip === null) return false;
    for (let i = 0; i < this.#blocks.length; i++) if (cidrContains(this.#blocks[i]!, ip)) return true;
    return false;
  }
  contains(address: string): boolean {
    return this.containsBytes(parseIp(address));
  }
}
