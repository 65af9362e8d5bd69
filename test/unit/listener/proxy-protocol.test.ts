/**
 * PROXY protocol header bytes, checked against the examples and layouts of HAProxy's
 * proxy-protocol.txt: v1 lines for IPv4 and IPv6, IPv4-mapped addresses sent as IPv4, mixed
 * families sent as IPv6, UNKNOWN/UNSPEC for addresses that cannot be parsed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeProxyHeader, PROXY_V2_SIGNATURE } from '../../../src/listener/proxy-protocol.js';

const v4 = { sourceAddress: '192.168.0.1', sourcePort: 56324, destinationAddress: '192.168.0.11', destinationPort: 443 };

test('v1 IPv4: the spec example, byte for byte', () => {
  assert.equal(encodeProxyHeader('v1', v4).toString('latin1'), 'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n');
});

test('v1 IPv6 and IPv4-mapped addresses', () => {
  const six = { sourceAddress: '2001:db8::1', sourcePort: 1, destinationAddress: '::1', destinationPort: 65535 };
  assert.equal(
    encodeProxyHeader('v1', six).toString('latin1'),
    'PROXY TCP6 2001:db8:0:0:0:0:0:1 0:0:0:0:0:0:0:1 1 65535\r\n',
  );
  const mapped = { ...v4, sourceAddress: '::ffff:10.0.0.1', destinationAddress: '::ffff:10.0.0.2' };
  assert.equal(encodeProxyHeader('v1', mapped).toString('latin1'), 'PROXY TCP4 10.0.0.1 10.0.0.2 56324 443\r\n');
  const mixed = { ...v4, destinationAddress: '2001:db8::2' };
  assert.equal(
    encodeProxyHeader('v1', mixed).toString('latin1'),
    'PROXY TCP6 0:0:0:0:0:ffff:c0a8:1 2001:db8:0:0:0:0:0:2 56324 443\r\n',
  );
});

test('v1 UNKNOWN when an address is missing', () => {
  assert.equal(encodeProxyHeader('v1', { ...v4, sourceAddress: '' }).toString('latin1'), 'PROXY UNKNOWN\r\n');
});

test('v2 IPv4: signature, PROXY command, AF_INET/STREAM, 12 address bytes', () => {
  const b = encodeProxyHeader('v2', v4);
  assert.equal(b.length, 28);
  assert.deepEqual(b.subarray(0, 12), Buffer.from('0d0a0d0a000d0a515549540a', 'hex'));
  assert.deepEqual(b.subarray(12), Buffer.from('2111000c' + 'c0a80001' + 'c0a8000b' + 'dc04' + '01bb', 'hex'));
});

test('v2 IPv6: AF_INET6/STREAM, 36 address bytes', () => {
  const b = encodeProxyHeader('v2', { sourceAddress: '2001:db8::1', sourcePort: 8080, destinationAddress: '::1', destinationPort: 443 });
  assert.equal(b.length, 52);
  assert.deepEqual(b.subarray(0, 12), PROXY_V2_SIGNATURE);
  assert.deepEqual(
    b.subarray(12),
    Buffer.from('21210024' + '20010db8000000000000000000000001' + '00000000000000000000000000000001' + '1f90' + '01bb', 'hex'),
  );
});

test('v2 UNSPEC with no address block when an address cannot be parsed', () => {
  const b = encodeProxyHeader('v2', { ...v4, destinationAddress: 'not-an-ip' });
  assert.deepEqual(b.subarray(12), Buffer.from('21000000', 'hex'));
});
