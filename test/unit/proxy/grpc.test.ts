import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grpcMessage, grpcStatusFor, isGrpcContentType, isGrpcRequest, protocolFits } from '../../../src/proxy/grpc.js';
import type { ClientRequest } from '../../../src/listener/client-request.js';

const req = (http2: boolean, contentType: string | null): ClientRequest =>
  ({ http2, rawHeaders: contentType === null ? ['host', 'x'] : ['host', 'x', 'Content-Type', contentType] }) as unknown as ClientRequest;

test('isGrpcContentType: application/grpc and its +format/;params forms, not grpc-web', () => {
  for (const v of ['application/grpc', 'application/grpc+proto', 'application/grpc+json', 'application/grpc;charset=utf-8']) assert.equal(isGrpcContentType(v), true, v);
  for (const v of [undefined, '', 'application/grpc-web', 'application/grpc-web+proto', 'application/json', 'application/grpcx']) assert.equal(isGrpcContentType(v), false, String(v));
});

test('a gRPC request is HTTP/2 with a gRPC content-type (any case)', () => {
  assert.equal(isGrpcRequest(req(true, 'application/grpc')), true);
  assert.equal(isGrpcRequest(req(true, 'Application/GRPC+proto')), true);
  assert.equal(isGrpcRequest(req(false, 'application/grpc')), false);
  assert.equal(isGrpcRequest(req(true, 'application/json')), false);
  assert.equal(isGrpcRequest(req(true, null)), false);
});

test('protocolFits: gRPC only to GRPC groups, nothing else to them (464)', () => {
  const cases: [ClientRequest, 'HTTP1' | 'HTTP2' | 'GRPC', boolean][] = [
    [req(false, null), 'HTTP1', true],
    [req(false, null), 'HTTP2', true],
    [req(false, null), 'GRPC', false],
    [req(false, 'application/grpc'), 'GRPC', false],
    [req(true, null), 'HTTP1', true],
    [req(true, null), 'HTTP2', true],
    [req(true, null), 'GRPC', false],
    [req(true, 'application/grpc'), 'HTTP1', false],
    [req(true, 'application/grpc'), 'HTTP2', false],
    [req(true, 'application/grpc'), 'GRPC', true],
  ];
  for (const [r, v, fits] of cases) assert.equal(protocolFits(r, v), fits, `${r.http2 ? 'h2' : 'h1'} ${JSON.stringify(r.rawHeaders)} → ${v}`);
});

test('grpcStatusFor: gRPC\'s HTTP mapping, and Switchyard\'s own statuses', () => {
  assert.deepEqual(
    [400, 401, 403, 404, 408, 413, 414, 429, 431, 463, 464, 500, 502, 503, 504].map((s) => grpcStatusFor(s)),
    [13, 16, 7, 12, 2, 8, 8, 14, 8, 2, 12, 2, 14, 14, 14],
  );
});

test('grpcMessage percent-encodes what is not printable ASCII, and %', () => {
  assert.equal(grpcMessage('503 no registered targets'), '503 no registered targets');
  assert.equal(grpcMessage('50% done\n'), '50%25 done%0A');
  assert.equal(grpcMessage('café'), 'caf%C3%A9');
});
