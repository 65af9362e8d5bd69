/**
 * `protection.ipAllow` / `protection.ipDeny`: CIDR lists tested against the client's socket
 * address (never X-Forwarded-For), SPEC §5 403.
 *
 * Owns: compiling both lists once and the verdict for an address. A deny match wins over an
 * allow match; with an allow list, an address outside it (or one that is not an IP at all) is
 * refused. IPv4-mapped IPv6 addresses and blocks are treated as IPv4, as in `match.sourceIp`.
 * Must not: allocate per test, throw per request, or do I/O. Compiling throws on a block that
 * validation should have rejected.
 */
import { CidrSet, parseCidr, type CidrBlock } from '../util/cidr.js';

export const enum IpVerdict {
  ALLOWED,
  /** In an ipDeny block. */
  DENIED,
  /** An allow list exists and the address is not in it. */
  NOT_ALLOWED,
}

/** `::ffff:10.0.0.0/104` → `10.0.0.0/8`, so mapped blocks match unwrapped addresses. */
function unmap(block: CidrBlock): CidrBlock {
  if (block.family !== 6 || block.prefix < 96) return block;
  const b = block.bytes;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return block;
  if (b[10] !== 0xff || b[11] !== 0xff) return block;
  return { family: 4, bytes: b.slice(12), prefix: block.prefix - 96, text: block.text };
}

function compile(list: readonly string[], what: string): CidrSet | null {
  if (list.length === 0) return null;
  const blocks: CidrBlock[] = [];
  for (const text of list) {
    const b = parseCidr(text);
    if (b === null) throw new Error(`${what}: ${JSON.stringify(text)} is not a CIDR block or address`);
    blocks.push(unmap(b));
  }
  return new CidrSet(blocks);
}

export class IpFilter {
  readonly #allow: CidrSet | null;
  readonly #deny: CidrSet | null;

  constructor(allow: readonly string[], deny: readonly string[]) {
    this.#allow = compile(allow, 'ipAllow');
    this.#deny = compile(deny, 'ipDeny');
  }

  /** `ip` as parseIp returns it (4 or 16 bytes, mapped IPv4 unwrapped), or null. */
  test(ip: Uint8Array | null): IpVerdict {
    if (this.#deny !== null && this.#deny.containsBytes(ip)) return IpVerdict.DENIED;
    if (this.#allow !== null && !this.#allow.containsBytes(ip)) return IpVerdict.NOT_ALLOWED;
    return IpVerdict.ALLOWED;
  }
}
