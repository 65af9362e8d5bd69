import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  H,
  NO_HEADER_RULES,
  buildRequestHead,
  compileHeaderRules,
  connectionTokens,
  countForwardedFor,
  headerCode,
  isWellFormedRequestId,
  responseFraming,
} from '../../../src/proxy/headers.js';

test('headerCode recognises special headers in any case and nothing else', () => {
  const cases: [string, H][] = [
    ['Host', H.HOST],
    ['host', H.HOST],
    ['HoSt', H.HOST],
    ['Content-Length', H.CONTENT_LENGTH],
    ['CONTENT-LENGTH', H.CONTENT_LENGTH],
    ['transfer-encoding', H.TRANSFER_ENCODING],
    ['TE', H.TE],
    ['Connection', H.CONNECTION],
    ['Keep-Alive', H.KEEP_ALIVE],
    ['Proxy-Connection', H.PROXY_CONNECTION],
    ['Upgrade', H.UPGRADE],
    ['HTTP2-Settings', H.HTTP2_SETTINGS],
    ['X-Forwarded-For', H.X_FORWARDED_FOR],
    ['x-forwarded-proto', H.X_FORWARDED_PROTO],
    ['X-Forwarded-Port', H.X_FORWARDED_PORT],
    ['X-Request-ID', H.X_REQUEST_ID],
    ['Cookie', H.COOKIE],
    ['User-Agent', H.OTHER],
    ['Content-Type', H.OTHER],
    ['Hosu', H.OTHER],
    ['H0st', H.OTHER],
    ['Content_Length', H.OTHER],
    ['', H.OTHER],
    ['X-Forwarded-Fo', H.OTHER],
  ];
  for (const [name, code] of cases) assert.equal(headerCode(name), code, name);
});

test('connectionTokens lists the names a Connection header nominates, not its keywords', () => {
  assert.equal(connectionTokens(['Host', 'a', 'Connection', 'keep-alive']), null);
  const t = connectionTokens(['Connection', 'close, X-Secret', 'connection', ' Foo ,upgrade']);
  assert.deepEqual([...(t ?? [])].sort(), ['foo', 'x-secret']);
});

test('countForwardedFor counts addresses across every X-Forwarded-For line', () => {
  assert.equal(countForwardedFor(['Host', 'x']), 0);
  assert.equal(countForwardedFor(['X-Forwarded-For', '1.1.1.1, 2.2.2.2', 'x-forwarded-for', '3.3.3.3']), 3);
  assert.equal(countForwardedFor(['X-Forwarded-For', '   ']), 0);
});

test('isWellFormedRequestId accepts visible ASCII up to 200 bytes', () => {
  assert.equal(isWellFormedRequestId('abc-123'), true);
  assert.equal(isWellFormedRequestId('a b'), false);
  assert.equal(isWellFormedRequestId('x'.repeat(201)), false);
  assert.equal(isWellFormedRequestId(''), false);
});

test('responseFraming reads Content-Length and chunked', () => {
  assert.deepEqual(responseFraming(['Content-Length', ' 12 ']), { contentLength: 12, chunked: false });
  assert.deepEqual(responseFraming(['Transfer-Encoding', 'chunked']), { contentLength: -1, chunked: true });
  assert.deepEqual(responseFraming([]), { contentLength: -1, chunked: false });
});

test('buildRequestHead re-frames, strips hop-by-hop headers and adds the forwarding headers', () => {
  const { head, requestId } = buildRequestHead({
    method: 'POST',
    target: '/a?b=1',
    rawHeaders: [
      'Host', 'example.com',
      'Connection', 'keep-alive, X-Secret',
      'X-Secret', 's',
      'Keep-Alive', 'timeout=5',
      'TE', 'trailers, gzip',
      'Transfer-Encoding', 'chunked',
      'X-Forwarded-For', '10.0.0.1',
      'X-Request-Id', 'req-1',
      'X-Debug', '1',
      'Accept', '*/*',
    ],
    clientIp: '127.0.0.9',
    listenerProto: 'http',
    listenerPort: '8080',
    xForwardedFor: 'append',
    preserveHost: true,
    targetAuthority: '127.0.0.1:9001',
    rules: compileHeaderRules({ 'X-From-LB': '1' }, ['X-Debug']),
    framing: 'chunked',
    websocket: false,
    extra: '',
    reserved: null,
  });
  assert.equal(requestId, 'req-1');
  const lines = head.split('\r\n');
  assert.equal(lines[0], 'POST /a?b=1 HTTP/1.1');
  assert.ok(head.endsWith('\r\n\r\n'));
  const names = lines.slice(1).filter(Boolean).map((l) => l.slice(0, l.indexOf(':')).toLowerCase());
  for (const gone of ['connection', 'x-secret', 'keep-alive', 'x-debug']) assert.ok(!names.includes(gone), gone);
  assert.equal(names.filter((n) => n === 'transfer-encoding').length, 1);
  assert.ok(!names.includes('content-length'));
  assert.ok(lines.includes('te: trailers'));
  assert.ok(lines.includes('Host: example.com'));
  assert.ok(lines.includes('x-forwarded-for: 10.0.0.1, 127.0.0.9'));
  assert.ok(lines.includes('x-forwarded-proto: http'));
  assert.ok(lines.includes('x-forwarded-port: 8080'));
  assert.ok(lines.includes('x-request-id: req-1'));
  assert.ok(lines.includes('X-From-LB: 1'));
  assert.ok(lines.includes('Accept: */*'));
});

test('buildRequestHead: reserved names are dropped and the connection extras added', () => {
  const { head } = buildRequestHead({
    method: 'GET',
    target: '/',
    rawHeaders: ['Host', 'h', 'X-Client-Cert-Subject', 'forged'],
    clientIp: '1.2.3.4',
    listenerProto: 'https',
    listenerPort: '443',
    xForwardedFor: 'remove',
    preserveHost: false,
    targetAuthority: '10.0.0.5:80',
    rules: NO_HEADER_RULES,
    framing: null,
    websocket: false,
    extra: 'x-client-cert-subject: CN=real\r\n',
    reserved: new Set(['x-client-cert-subject']),
  });
  assert.ok(!head.includes('forged'));
  assert.ok(head.includes('x-client-cert-subject: CN=real\r\n'));
  assert.ok(head.includes('host: 10.0.0.5:80\r\n'));
  assert.ok(!/x-forwarded-for/i.test(head));
});
