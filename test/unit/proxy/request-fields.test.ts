import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_HEADER_RULES, buildRequestHead, compileHeaderRules, requestFields, type RequestHeadContext } from '../../../src/proxy/headers.js';

function ctx(o: Partial<RequestHeadContext> = {}): RequestHeadContext {
  return {
    method: 'POST',
    target: '/v1/items?x=1',
    rawHeaders: [
      'Host', 'app.test',
      'Connection', 'keep-alive, X-Hop',
      'X-Hop', '1',
      'TE', 'trailers, deflate',
      'Content-Length', '5',
      'X-Forwarded-For', '10.0.0.1',
      'X-Request-Id', 'rid-7',
      'Cookie', 'a=1',
      'X-Debug', 'yes',
      'X-Client-Cert-Subject', 'CN=forged',
    ],
    clientIp: '127.0.0.1',
    listenerProto: 'https',
    listenerPort: '8443',
    xForwardedFor: 'append',
    preserveHost: true,
    targetAuthority: '127.0.0.1:9001',
    rules: compileHeaderRules({ 'X-From-LB': '1' }, ['X-Debug']),
    framing: 5,
    websocket: false,
    extra: 'x-client-cert-subject: CN=client,O=Acme\r\nx-client-cert-verified: true\r\n',
    reserved: new Set(['x-client-cert-subject', 'x-client-cert-verified']),
    ...o,
  };
}

test('requestFields: the fields of the HTTP/1.1 head, in order, without framing', () => {
  const { fields, requestId } = requestFields(ctx());
  assert.equal(requestId, 'rid-7');
  assert.deepEqual(fields, [
    'Host', 'app.test',
    'te', 'trailers',
    'Cookie', 'a=1',
    'x-forwarded-for', '10.0.0.1, 127.0.0.1',
    'x-forwarded-proto', 'https',
    'x-forwarded-port', '8443',
    'x-request-id', 'rid-7',
    'X-From-LB', '1',
    'x-client-cert-subject', 'CN=client,O=Acme',
    'x-client-cert-verified', 'true',
  ]);
});

test('buildRequestHead renders exactly requestFields, then the framing', () => {
  for (const c of [ctx(), ctx({ extra: '', reserved: null, rules: NO_HEADER_RULES }), ctx({ framing: 'chunked' }), ctx({ framing: null, preserveHost: false })]) {
    // The client's X-Request-Id is kept, so both calls use the same one.
    const { fields } = requestFields(c);
    const { head } = buildRequestHead(c);
    let expected = `${c.method} ${c.target} HTTP/1.1\r\n`;
    for (let i = 0; i < fields.length; i += 2) expected += `${fields[i]}: ${fields[i + 1]}\r\n`;
    if (c.framing === 'chunked') expected += 'transfer-encoding: chunked\r\n';
    else if (c.framing !== null) expected += `content-length: ${c.framing}\r\n`;
    assert.equal(head, expected + '\r\n');
  }
});

test('requestFields: Host from the target when not preserved; no connection: upgrade even for a WebSocket', () => {
  const { fields } = requestFields(ctx({ preserveHost: false, websocket: true, rawHeaders: ['Host', 'app.test', 'Upgrade', 'websocket', 'Connection', 'Upgrade'] }));
  assert.deepEqual(fields.slice(0, 4), ['Upgrade', 'websocket', 'host', '127.0.0.1:9001']);
  assert.equal(fields.includes('connection'), false);
});
