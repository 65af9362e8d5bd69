/**
 * Health checks of groups spoken to in HTTP/2: HTTP/2 probes (a target that speaks only
 * HTTP/2 can pass), gRPC-shaped for GRPC groups (a grpc-js server passes).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import type { AddressInfo } from 'node:net';
import type { TargetGroupConfig } from '../../../src/config/types.js';
import { listener, startSwitchyard, waitFor } from '../harness/index.js';

const FAST = { enabled: true, intervalSeconds: 0.25, timeoutSeconds: 0.2, healthyThreshold: 1, unhealthyThreshold: 1 } as const;

function config(port: number, extra: Partial<TargetGroupConfig>) {
  return {
    listeners: [listener('web', { forward: { targetGroup: 'g' } })],
    targetGroups: [{ name: 'g', targets: [{ host: '127.0.0.1', port }], ...extra }],
  };
}

it('an HTTP2 group is checked over HTTP/2: the status decides', async () => {
  let status = 200;
  const paths: string[] = [];
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    paths.push(String(headers[':path']));
    stream.respond({ ':status': status });
    stream.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const sy = await startSwitchyard(config(port, { protocolVersion: 'HTTP2', healthCheck: { ...FAST, path: '/healthz' } })).catch((err: Error) => {
    server.close();
    throw err;
  });
  try {
    const t = sy.sy.groups.get('g')!.targets.get(`127.0.0.1:${port}`)!;
    await waitFor(() => t.state === 'healthy', 5000, 'healthy');
    assert.ok(paths.includes('/healthz'));
    status = 503;
    await waitFor(() => t.state === 'unhealthy', 5000, 'unhealthy');
    assert.match(t.reason, /status 503 not in 200-399/);
  } finally {
    await sy.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

it('a GRPC group is checked with a gRPC-shaped call: a grpc-js server is healthy (checked over HTTP/1.1 it is not)', async () => {
  const server = new grpc.Server();
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const sy = await startSwitchyard(config(port, { protocolVersion: 'GRPC', healthCheck: FAST })).catch((err: Error) => {
    server.forceShutdown();
    throw err;
  });
  try {
    const t = sy.sy.groups.get('g')!.targets.get(`127.0.0.1:${port}`)!;
    await waitFor(() => t.state === 'healthy', 5000, 'grpc target healthy');
    // The same server checked over HTTP/1.1 (an HTTP1 group) never passes.
    const r = await sy.sy.apply(config(port, { protocolVersion: 'HTTP1', healthCheck: FAST }));
    assert.equal(r.ok, true);
    await waitFor(() => t.state === 'unhealthy', 5000, 'unhealthy over HTTP/1.1');
  } finally {
    await sy.close();
    server.forceShutdown();
  }
});
