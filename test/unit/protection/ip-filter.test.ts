/**
 * IP allow and deny lists (src/protection/ip-filter.ts): deny wins, an allow list refuses
 * everything outside it, IPv4-mapped IPv6 addresses and blocks count as IPv4.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IpFilter, IpVerdict } from '../../../src/protection/ip-filter.js';
import { parseIp } from '../../../src/util/cidr.js';

const test = (f: IpFilter, ip: string): IpVerdict => f.test(parseIp(ip));

describe('IpFilter', () => {
  it('deny list', () => {
    const f = new IpFilter([], ['203.0.113.0/24', '2001:db8::/32']);
    assert.equal(test(f, '203.0.113.9'), IpVerdict.DENIED);
    assert.equal(test(f, '::ffff:203.0.113.9'), IpVerdict.DENIED, 'mapped IPv4');
    assert.equal(test(f, '2001:db8::1'), IpVerdict.DENIED);
    assert.equal(test(f, '198.51.100.1'), IpVerdict.ALLOWED);
    assert.equal(f.test(null), IpVerdict.ALLOWED, 'not an IP: no deny match');
  });

  it('allow list; deny wins inside it', () => {
    const f = new IpFilter(['10.0.0.0/8', '::ffff:192.168.0.0/112'], ['10.9.0.0/16']);
    assert.equal(test(f, '10.1.2.3'), IpVerdict.ALLOWED);
    assert.equal(test(f, '192.168.3.4'), IpVerdict.ALLOWED, 'a mapped block matches plain IPv4');
    assert.equal(test(f, '10.9.1.1'), IpVerdict.DENIED);
    assert.equal(test(f, '11.0.0.1'), IpVerdict.NOT_ALLOWED);
    assert.equal(f.test(null), IpVerdict.NOT_ALLOWED);
  });

  it('throws on a block validation should have refused', () => {
    assert.throws(() => new IpFilter(['10.0.0.0/33'], []));
  });
});
