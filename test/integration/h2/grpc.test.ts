/**
 * gRPC end to end with @grpc/grpc-js: a real client through an HTTPS listener (ALPN h2) to
 * GRPC target groups whose targets are real grpc-js servers (h2c, and TLS). Unary,
 * server-streaming and bidirectional calls; grpc-status and trailing metadata from the server;
 * the gRPC-shaped errors Switchyard answers itself (464, 503, 502); the 464 protocol rule.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../../src/config/types.js';
import { CertDir, type CertFiles } from '../harness/certs.js';
import { h2close, h2connect, h2request } from '../harness/h2-client.js';
import { httpsListener, httpsRequest } from '../harness/tls-client.js';
import { group, refusedPort, startSwitchyard, startHttpTarget, within, type HttpTarget, type Running } from '../harness/index.js';

// This file runs from dist/test/integration/h2/; the proto is not compiled, so read the source.
const PROTO = fileURLToPath(new URL('../../../../test/fixtures/grpc/echo.proto', import.meta.url));

interface SayRequest {
  text: string;
}
interface SayReply {
  text: string;
  authority: string;
  forwardedProto: string;
  forwardedFor: string;
  target: string;
}
interface CountReply {
  n: number;
}

type EchoClient = grpc.Client & {
  say(req: SayRequest, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: SayReply) => void): grpc.ClientUnaryCall;
  count(req: { upTo: number }, md?: grpc.Metadata): grpc.ClientReadableStream<CountReply>;
  chat(md?: grpc.Metadata): grpc.ClientDuplexStream<SayRequest, SayReply>;
};
type EchoClientCtor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => EchoClient;

const definition = protoLoader.loadSync(PROTO, { keepCase: false, defaults: true });
const pkg = grpc.loadPackageDefinition(definition) as unknown as { switchyard: { test: { Echo: EchoClientCtor & { service: grpc.ServiceDefinition } } } };
const Echo = pkg.switchyard.test.Echo;

/** Lets a test hold a server-streaming call after its first message. */
let countGate: Promise<void> = Promise.resolve();

interface EchoServer {
  readonly port: number;
  readonly name: string;
  close(): Promise<void>;
}

function reply(name: string, md: grpc.Metadata, text: string): SayReply {
  const first = (k: string): string => String(md.get(k)[0] ?? '');
  return { text, authority: first(':authority'), forwardedProto: first('x-forwarded-proto'), forwardedFor: first('x-forwarded-for'), target: name };
}

async function startEchoServer(name: string, creds: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure()): Promise<EchoServer> {
  const server = new grpc.Server();
  server.addService(Echo.service, {
    say: (call: grpc.ServerUnaryCall<SayRequest, SayReply>, cb: grpc.sendUnaryData<SayReply>) => {
      if (call.request.text === 'missing') {
        const trailer = new grpc.Metadata();
        trailer.set('x-lookup', 'done');
        cb({ code: grpc.status.NOT_FOUND, details: 'no such thing', metadata: trailer });
        return;
      }
      // Authority as the server saw it: grpc-js keeps it off the metadata, so read the header.
      const md = call.metadata.clone();
      md.set(':authority', String((call as unknown as { getHost(): string }).getHost()));
      cb(null, reply(name, md, `hello ${call.request.text}`));
    },
    count: async (call: grpc.ServerWritableStream<{ upTo: number; intervalMs: number }, CountReply>) => {
      for (let n = 1; n <= call.request.upTo; n++) {
        call.write({ n });
        if (n === 1) await countGate;
      }
      call.end();
    },
    chat: (call: grpc.ServerDuplexStream<SayRequest, SayReply>) => {
      call.on('data', (m: SayRequest) => call.write(reply(name, call.metadata, `echo ${m.text}`)));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
  return {
    port,
    name,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())).then(() => server.forceShutdown()),
  };
}

function unary(client: EchoClient, text: string, md = new grpc.Metadata()): Promise<SayReply> {
  return within(
    new Promise<SayReply>((resolve, reject) => {
      client.say({ text }, md, { deadline: Date.now() + 5000 }, (err, res) => (err ? reject(err) : resolve(res!)));
    }),
    6000,
    'unary call',
  );
}

async function unaryError(client: EchoClient, text: string): Promise<grpc.ServiceError> {
  try {
    await unary(client, text);
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('the call succeeded');
}

let dir: CertDir;
let edge: CertFiles;
let ca: CertFiles;
let targetCert: CertFiles;

before(() => {
  dir = new CertDir();
  edge = dir.selfSigned('edge', { cn: 'grpc.test', sans: ['DNS:grpc.test'] });
  ca = dir.ca('targets');
  targetCert = dir.signed('target', ca, { cn: 'backend.internal', sans: ['DNS:backend.internal'], usage: 'serverAuth' });
});

after(() => dir.remove());

function clientFor(port: number): EchoClient {
  return new Echo(`127.0.0.1:${port}`, grpc.credentials.createSsl(edge.cert), {
    'grpc.ssl_target_name_override': 'grpc.test',
    'grpc.default_authority': 'grpc.test',
  });
}

describe('gRPC through an HTTPS listener to a GRPC target group', () => {
  let a: EchoServer;
  let http1: HttpTarget;
  let sy: Running;
  let client: EchoClient;
  let wrongGroup: EchoClient;
  let emptyGroup: EchoClient;
  let downGroup: EchoClient;

  before(async () => {
    a = await startEchoServer('a');
    http1 = await startHttpTarget('h1');
    const down = await refusedPort();
    const config: Config = {
      listeners: [
        httpsListener('grpc', [edge], { forward: { targetGroup: 'echo' } }),
        httpsListener('wrong', [edge], { forward: { targetGroup: 'plain' } }),
        httpsListener('empty', [edge], { forward: { targetGroup: 'none' } }),
        httpsListener('down', [edge], { forward: { targetGroup: 'down' } }),
      ],
      targetGroups: [
        group('echo', [a.port], { protocolVersion: 'GRPC' }),
        group('plain', [http1.port]),
        group('none', [], { protocolVersion: 'GRPC' }),
        group('down', [down], { protocolVersion: 'GRPC' }),
      ],
    };
    sy = await startSwitchyard(config);
    client = clientFor(sy.port('grpc'));
    wrongGroup = clientFor(sy.port('wrong'));
    emptyGroup = clientFor(sy.port('empty'));
    downGroup = clientFor(sy.port('down'));
  });

  after(async () => {
    for (const c of [client, wrongGroup, emptyGroup, downGroup]) c?.close();
    await sy?.close();
    await a?.close();
    await http1?.close();
  });

  it('a unary call: the reply, and the target sees :authority and X-Forwarded-*', async () => {
    const r = await unary(client, 'world');
    assert.equal(r.text, 'hello world');
    assert.equal(r.target, 'a');
    assert.equal(r.authority, 'grpc.test');
    assert.equal(r.forwardedProto, 'https');
    assert.equal(r.forwardedFor, '127.0.0.1');
    // Many calls share the client's one connection and Switchyard's sessions.
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => unary(client, `n${i}`)));
    assert.deepEqual(many.map((m) => m.text), Array.from({ length: 50 }, (_, i) => `hello n${i}`));
  });

  it('a server-streaming call streams: the first message arrives while the server still holds the rest', async () => {
    let release!: () => void;
    countGate = new Promise<void>((r) => (release = r));
    const got: number[] = [];
    const call = client.count({ upTo: 5 });
    await within(
      new Promise<void>((resolve, reject) => {
        call.on('data', (m: CountReply) => {
          got.push(m.n);
          if (m.n === 1) {
            assert.deepEqual(got, [1]);
            release();
          }
        });
        call.on('error', reject);
        call.on('end', () => resolve());
      }),
      5000,
      'streaming call',
    );
    assert.deepEqual(got, [1, 2, 3, 4, 5]);
    countGate = Promise.resolve();
  });

  it('a bidirectional call: each message is answered before the next is sent', async () => {
    const call = client.chat();
    const replies: string[] = [];
    await within(
      new Promise<void>((resolve, reject) => {
        const send = (i: number): void => {
          if (i === 3) {
            call.end();
            return;
          }
          call.write({ text: `m${i}` });
        };
        call.on('data', (m: SayReply) => {
          replies.push(m.text);
          send(replies.length);
        });
        call.on('error', reject);
        call.on('end', () => resolve());
        send(0);
      }),
      5000,
      'bidi call',
    );
    assert.deepEqual(replies, ['echo m0', 'echo m1', 'echo m2']);
  });

  it('grpc-status, grpc-message and trailing metadata from the server reach the client', async () => {
    const err = await unaryError(client, 'missing');
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(err.details, 'no such thing');
    assert.deepEqual(err.metadata.get('x-lookup'), ['done']);
  });

  it('a gRPC call to an HTTP1 group gets a gRPC-shaped 464 (UNIMPLEMENTED); the target sees nothing', async () => {
    const err = await unaryError(wrongGroup, 'x');
    assert.equal(err.code, grpc.status.UNIMPLEMENTED);
    assert.match(err.details, /^464 /);
    assert.equal(http1.requests.length, 0);
  });

  it('a group without registered targets answers UNAVAILABLE (503); an unreachable target UNAVAILABLE (502)', async () => {
    const empty = await unaryError(emptyGroup, 'x');
    assert.equal(empty.code, grpc.status.UNAVAILABLE);
    assert.match(empty.details, /^503 /);
    const down = await unaryError(downGroup, 'x');
    assert.equal(down.code, grpc.status.UNAVAILABLE);
    assert.match(down.details, /^502 /);
  });

  it('anything but gRPC to a GRPC group is refused with 464: HTTP/1.1, and HTTP/2 without the gRPC content-type', async () => {
    const port = sy.port('grpc');
    const h1 = await httpsRequest(port, { method: 'POST', path: '/switchyard.test.Echo/Say', headers: { 'content-type': 'application/grpc' }, body: '' });
    assert.equal(h1.status, 464);
    assert.match(h1.text, /^464 Incompatible Protocol/);
    const session = await h2connect(port);
    try {
      const h2 = await h2request(session, { method: 'POST', path: '/switchyard.test.Echo/Say', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(h2.status, 464);
    } finally {
      await h2close(session);
    }
  });
});

describe('gRPC to targets over TLS (protocol: HTTPS, protocolVersion: GRPC)', () => {
  it('verifies the target against tls.ca and servername, and carries calls of every kind', async () => {
    const secure = await startEchoServer('tls', grpc.ServerCredentials.createSsl(null, [{ cert_chain: targetCert.cert, private_key: targetCert.key }], false));
    const sy = await startSwitchyard({
      listeners: [httpsListener('grpc', [edge], { forward: { targetGroup: 'echo' } })],
      targetGroups: [
        group('echo', [secure.port], { protocol: 'HTTPS', protocolVersion: 'GRPC', tls: { ca: ca.certFile, servername: 'backend.internal' } }),
      ],
    });
    const client = clientFor(sy.port());
    try {
      const r = await unary(client, 'over tls');
      assert.equal(r.text, 'hello over tls');
      assert.equal(r.target, 'tls');
      const err = await unaryError(client, 'missing');
      assert.equal(err.code, grpc.status.NOT_FOUND);
    } finally {
      client.close();
      await sy.close();
      await secure.close();
    }
  });

  it('a target certificate that does not verify fails the call with UNAVAILABLE (502), never reaching the service', async () => {
    const secure = await startEchoServer('tls', grpc.ServerCredentials.createSsl(null, [{ cert_chain: targetCert.cert, private_key: targetCert.key }], false));
    const sy = await startSwitchyard({
      listeners: [httpsListener('grpc', [edge], { forward: { targetGroup: 'echo' } })],
      // No CA: Node's public roots do not know the test CA.
      targetGroups: [group('echo', [secure.port], { protocol: 'HTTPS', protocolVersion: 'GRPC', tls: { servername: 'backend.internal' } })],
    });
    const client = clientFor(sy.port());
    try {
      const err = await unaryError(client, 'x');
      assert.equal(err.code, grpc.status.UNAVAILABLE);
      assert.match(err.details, /^502 TLS handshake with target failed/);
    } finally {
      client.close();
      await sy.close();
      await secure.close();
    }
  });
});
