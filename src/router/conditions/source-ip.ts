/**
 * `match.sourceIp`: the client's socket address against a CIDR list (IPv4 and IPv6).
 *
 * Owns: compiling the CIDR list once and testing RequestView.sourceIpBytes(). IPv4 clients that
 * Node reports as IPv4-mapped IPv6 (`::ffff:10.1.2.3`) are unwrapped by parseIp and so match
 * IPv4 blocks; a block written in mapped form (`::ffff:10.0.0.0/104`) is turned into its IPv4
 * equivalent here so it matches them too.
 * Must not: read X-Forwarded-For (SPEC §3) or throw per request. Compiling throws on a CIDR that
 * validation should already have rejected.
 */
import { type Condition, type ConditionExplanation } from '../condition.js';
import type { RequestView } from '../request-view.js';
import { CidrSet, cidrContains, parseCidr, type CidrBlock } from '../../util/cidr.js';

function unmapBlock(block: CidrBlock): CidrBlock {
  if (block.family !== 6 || block.prefix < 96) return block;
  const b = block.bytes;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return block;
  if (b[10] !== 0xff || b[11] !== 0xff) return block;
  return { family: 4, bytes: b.slice(12), prefix: block.prefix - 96, text: block.text };
}

class SourceIpCondition implements Condition {
  readonly kind = 'sourceIp' as const;
  readonly cidrs: readonly string[];
  readonly #set: CidrSet;

  constructor(cidrs: readonly string[]) {
    this.cidrs = cidrs.slice();
    const blocks: CidrBlock[] = [];
    for (const text of cidrs) {
      const block = parseCidr(text);
      if (block === null) throw new Error(`sourceIp: ${JSON.stringify(text)} is not a CIDR block or address`);
      blocks.push(unmapBlock(block));
    }
    this.#set = new CidrSet(blocks);
  }

  test(view: RequestView): boolean {
    return this.#set.containsBytes(view.sourceIpBytes());
  }

  describe(): string {
    return `source IP in ${this.cidrs.join(', ')}`;
  }

  explain(view: RequestView): ConditionExplanation {
    const ip = view.sourceIp;
    const bytes = view.sourceIpBytes();
    if (bytes === null) return { ok: false, reason: `source IP ${JSON.stringify(ip)} is not an IP address` };
    const blocks = this.#set.blocks;
    for (let i = 0; i < blocks.length; i++) {
      if (cidrContains(blocks[i]!, bytes)) return { ok: true, reason: `source IP ${ip} is in ${this.cidrs[i]!}` };
    }
    return { ok: false, reason: `source IP ${ip} is not in ${this.cidrs.join(', ')}` };
  }
}

/** Compiles a sourceIp condition; OR across `cidrs`. Throws on an invalid block. */
export function compileSourceIpCondition(cidrs: readonly string[]): Condition {
  return new SourceIpCondition(cidrs);
}
