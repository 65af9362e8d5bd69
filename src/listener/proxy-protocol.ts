/**
 * PROXY protocol headers (HAProxy's spec, versions 1 and 2) that a TCP listener writes to a
 * target before any client byte, so the target learns the client's address.
 *
 * Owns: encoding one header from the client's address (source) and the address the client
 * connected to (destination). IPv4-mapped IPv6 addresses (how Node reports IPv4 clients on a
 * dual-stack socket) are sent as IPv4; a mixed pair is sent as IPv6. Unparseable addresses give
 * `PROXY UNKNOWN` (v1) or an UNSPEC header (v2), which targets must accept. Pure; never throws.
 */
import { parseIp } from '../util/cidr.js';

export type ProxyProtocolVersion = 'v1' | 'v2';

export interface ProxyEndpoints {
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly destinationAddress: string;
  readonly destinationPort: number;
}

/** The 12-byte v2 signature: \r\n\r\n\0\r\nQUIT\n. */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

const V1_UNKNOWN = Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
/** Version 2, command PROXY. */
const V2_PROXY = 0x21;
/** AF_UNSPEC, UNSPEC transport. */
const V2_UNSPEC = 0x00;
/** AF_INET / AF_INET6 over STREAM. */
const V2_TCP4 = 0x11;
const V2_TCP6 = 0x21;

export function encodeProxyHeader(version: ProxyProtocolVersion, ends: ProxyEndpoints): Buffer {
  const pair = addressPair(ends);
  return version === 'v1' ? encodeV1(pair, ends) : encodeV2(pair, ends);
}

interface AddressPair {
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
}

function addressPair(ends: ProxyEndpoints): AddressPair | null {
  if (!validPort(ends.sourcePort) || !validPort(ends.destinationPort)) return null;
  let src = parseIp(ends.sourceAddress);
  let dst = parseIp(ends.destinationAddress);
  if (src === null || dst === null) return null;
  if (src.length !== dst.length) {
    src = toV6(src);
    dst = toV6(dst);
  }
  return { src, dst };
}

function validPort(p: number): boolean {
  return Number.isInteger(p) && p >= 0 && p <= 65535;
}

function toV6(b: Uint8Array): Uint8Array {
  if (b.length === 16) return b;
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(b, 12);
  return out;
}

function encodeV1(pair: AddressPair | null, ends: ProxyEndpoints): Buffer {
  if (pair === null) return V1_UNKNOWN;
  const v4 = pair.src.length === 4;
  const line = `PROXY ${v4 ? 'TCP4' : 'TCP6'} ${formatIp(pair.src)} ${formatIp(pair.dst)} ${ends.sourcePort} ${ends.destinationPort}\r\n`;
  return Buffer.from(line, 'latin1');
}

function encodeV2(pair: AddressPair | null, ends: ProxyEndpoints): Buffer {
  const addrLen = pair === null ? 0 : pair.src.length === 4 ? 12 : 36;
  const out = Buffer.allocUnsafe(16 + addrLen);
  PROXY_V2_SIGNATURE.copy(out, 0);
  out[12] = V2_PROXY;
  out[13] = pair === null ? V2_UNSPEC : pair.src.length === 4 ? V2_TCP4 : V2_TCP6;
  out.writeUInt16BE(addrLen, 14);
  if (pair !== null) {
    const n = pair.src.length;
    out.set(pair.src, 16);
    out.set(pair.dst, 16 + n);
    out.writeUInt16BE(ends.sourcePort, 16 + 2 * n);
    out.writeUInt16BE(ends.destinationPort, 18 + 2 * n);
  }
  return out;
}

/** Dotted quad, or the full (uncompressed, lower-case) IPv6 form, which every parser accepts. */
function formatIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(':');
}
