/**
 * TCP listeners over real sockets: a 20 MB transfer each way through an echo target with a
 * hash check, half-close, backpressure against a target that stops reading, per-connection
 * balancing, a refused target retried elsewhere, PROXY protocol v1 and v2 bytes as a raw target
 * receives them, the idle timeout, draining on deregistration, and graceful shutdown.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startSwitchyard, waitFor, waitStable, within, type Running } from '../harness/index.js';
import { TcpListener } from '../../../src/listener/tcp-listener.js';
import { PROXY_V2_SIGNATURE } from '../../../src/listener/proxy-protocol.js';
import { connectTcp, deadPort, greetingOf, l4Config, startTcpTarget, type TcpTarget } from './l4-harness.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function withAll(targets: TcpTarget[], lb: Running, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } finally {
    await lb.close();
    await Promise.all(targets.map((t) => t.close()));
  }
}

describe('TCP listener', () => {
  it('relays 20 MB each way through an echo target, byte for byte, and passes the FIN on', async () => {
    const echo = await startTcpTarget('echo');
    const lb = await startSwitchyard(l4Config('TCP', [echo.port]));
    await withAll([echo], lb, async () => {
      assert.ok(lb.sy.listeners.get('l4') instanceof TcpListener);
      const payload = randomBytes(20 * 1024 * 1024);
      const client = await connectTcp(lb.port());
      client.socket.end(payload);
      // The echo target ends only after our FIN reached it: 'end' here proves half-close both ways.
      await within(client.ended, 20_000, '20 MB echo');
      const back = client.data();
      assert.equal(back.length, payload.length);
      assert.equal(sha(back), sha(payload), 'the echoed bytes are exactly the bytes sent');
      assert.equal(sha(Buffer.concat(echo.received[0]!)), sha(payload), 'the target received exactly the bytes sent');
      await within(client.closed, 2000, 'client close');
      await waitFor(() => lb.sy.listeners.get('l4')!.connectionCount === 0, 2000, 'relay closed');
    });
  });

  it('half-close: the target answers after the client FIN', async () => {
    const target = await startTcpTarget('summer', {
      echo: false,
      onSocket: (s) => {
        const chunks: Buffer[] = [];
        s.on('data', (c: Buffer) => chunks.push(c));
        s.removeAllListeners('end');
        s.on('end', () => s.end(`got ${Buffer.concat(chunks).length} bytes, sha ${sha(Buffer.concat(chunks))}`));
      },
    });
    const lb = await startSwitchyard(l4Config('TCP', [target.port]));
    await withAll([target], lb, async () => {
      const body = randomBytes(100_000);
      const client = await connectTcp(lb.port());
      client.socket.end(body);
      await within(client.ended, 5000, 'answer after FIN');
      assert.equal(client.text(), `got 100000 bytes, sha ${sha(body)}`);
    });
  });

  it('backpressure: a target that stops reading stalls the client instead of filling memory', async () => {
    const target = await startTcpTarget('slow', { echo: false, paused: true });
    const lb = await startSwitchyard(l4Config('TCP', [target.port]));
    await withAll([target], lb, async () => {
      const client = await connectTcp(lb.port());
      const chunk = randomBytes(1024 * 1024);
      let accepted = 0;
      let stop = false;
      const pump = (): void => {
        while (!stop && accepted < 200 * chunk.length) {
          accepted += chunk.length;
          if (!client.socket.write(chunk)) return;
        }
      };
      client.socket.on('drain', pump);
      pump();
      // With nothing read at the target the pump stops: only kernel buffers and the relay's
      // bounded stream buffers sit between the two.
      const stalledAt = await waitStable(() => accepted, 400, 15_000, 'bytes accepted');
      assert.ok(stalledAt < 64 * 1024 * 1024, `the relay kept accepting: ${stalledAt} bytes before the client stalled (expected well under 64 MB)`);
      stop = true;
      client.socket.end();
      await waitFor(() => target.sockets.length === 1, 2000, 'target connection');
      target.sockets[0]!.resume();
      await waitFor(() => Buffer.concat(target.received[0]!).length === accepted, 15_000, 'all bytes delivered once the target reads');
    });
  });

  it('balances connections over two targets with the group algorithm', async () => {
    const a = await startTcpTarget('a', { greet: true });
    const b = await startTcpTarget('b', { greet: true });
    const lb = await startSwitchyard(l4Config('TCP', [a.port, b.port], { group: { algorithm: 'round_robin' } }));
    await withAll([a, b], lb, async () => {
      const names: string[] = [];
      for (let i = 0; i < 6; i++) {
        const { client, name } = await greetingOf(lb.port());
        names.push(name);
        client.socket.end();
        await client.closed;
      }
      assert.equal(names.filter((n) => n === 'a').length, 3, names.join(','));
      assert.equal(names.filter((n) => n === 'b').length, 3, names.join(','));
      // Alternation, as round robin over two equal targets does (its starting point is random).
      for (let i = 1; i < names.length; i++) assert.notEqual(names[i], names[i - 1]);
    });
  });

  it('least outstanding: open connections count as outstanding on their target', async () => {
    const a = await startTcpTarget('a', { greet: true });
    const b = await startTcpTarget('b', { greet: true });
    const lb = await startSwitchyard(l4Config('TCP', [a.port, b.port], { group: { algorithm: 'least_outstanding_requests' } }));
    await withAll([a, b], lb, async () => {
      const first = await greetingOf(lb.port());
      // While the first stays open, the next connections go to the other target, then alternate.
      const second = await greetingOf(lb.port());
      assert.notEqual(second.name, first.name);
      const g = lb.sy.groups.get('g')!;
      assert.deepEqual([...g.targets.values()].map((t) => t.inFlight), [1, 1]);
      first.client.socket.end();
      second.client.socket.end();
      await Promise.all([first.client.closed, second.client.closed]);
      await waitFor(() => [...g.targets.values()].every((t) => t.inFlight === 0), 2000, 'in-flight back to 0');
    });
  });

  it('consistent_hash on sourceIp: every connection from one client address goes to the same target', async () => {
    const targets = await Promise.all(['a', 'b', 'c'].map((n) => startTcpTarget(n, { greet: true })));
    const lb = await startSwitchyard(
      l4Config('TCP', targets.map((t) => t.port), { group: { algorithm: 'consistent_hash', hashOn: { sourceIp: true } } }),
    );
    await withAll(targets, lb, async () => {
      const names = new Set<string>();
      // At random, 8 connections over 3 targets would all land on one only 0.05 % of the time.
      for (let i = 0; i < 8; i++) {
        const { client, name } = await greetingOf(lb.port());
        names.add(name);
        client.socket.end();
        await client.closed;
      }
      assert.equal(names.size, 1, [...names].join(','));
    });
  });

  it('a refused target is retried once on another target, and passively ejected', async () => {
    const dead = await deadPort();
    const live = await startTcpTarget('live', { greet: true });
    const lb = await startSwitchyard(
      l4Config('TCP', [dead, live.port], {
        // Checks on (so passive ejection applies) but slow, so only traffic decides here.
        group: { healthCheck: { enabled: true, protocol: 'TCP', intervalSeconds: 60, timeoutSeconds: 1 } },
      }),
    );
    await withAll([live], lb, async () => {
      for (let i = 0; i < 4; i++) {
        const { client, name } = await greetingOf(lb.port());
        assert.equal(name, 'live');
        client.socket.end();
        await client.closed;
      }
      const deadTarget = lb.sy.groups.get('g')!.targets.get(`127.0.0.1:${dead}`)!;
      assert.equal(deadTarget.state, 'unhealthy');
      // The flag, not the reason text: the first active probe (within a second of start) may
      // already have replaced the reason with its own "connect ECONNREFUSED".
      assert.equal(deadTarget.passiveEjected, true);
      assert.equal(deadTarget.inFlight, 0);
    });
  });

  it('with no target able to take it, the client connection is reset', async () => {
    const dead = await deadPort();
    const lb = await startSwitchyard(l4Config('TCP', [dead]));
    await withAll([], lb, async () => {
      const client = await connectTcp(lb.port());
      const hadError = await within(client.closed, 3000, 'reset');
      assert.equal(hadError, true, 'reset (ECONNRESET), not a clean FIN');
      await waitFor(() => lb.sy.listeners.get('l4')!.connectionCount === 0, 2000, 'relay gone');
    });
  });

  for (const version of ['v1', 'v2'] as const) {
    it(`PROXY protocol ${version}: the target receives the header, then the client's bytes`, async () => {
      const raw = await startTcpTarget('raw', { echo: false });
      const lb = await startSwitchyard(l4Config('TCP', [raw.port], { group: { proxyProtocol: version } }));
      await withAll([raw], lb, async () => {
        const client = await connectTcp(lb.port());
        const clientPort = client.socket.localPort!;
        client.socket.end('hello after the header');
        await within(client.closed, 3000, 'close');
        await waitFor(() => raw.sockets.length === 1 && raw.sockets[0]!.closed, 2000, 'target saw the connection end');
        const got = Buffer.concat(raw.received[0]!);
        const { header, rest } = version === 'v1' ? parseV1(got) : parseV2(got);
        assert.deepEqual(header, { family: 'TCP4', src: '127.0.0.1', dst: '127.0.0.1', srcPort: clientPort, dstPort: lb.port() });
        assert.equal(rest.toString(), 'hello after the header');
      });
    });
  }

  it('idle timeout: a connection with no bytes either way is closed; a busy one is not', async () => {
    const echo = await startTcpTarget('echo');
    const lb = await startSwitchyard(l4Config('TCP', [echo.port], { listener: { idleTimeoutSeconds: 0.3 } }));
    await withAll([echo], lb, async () => {
      const idle = await connectTcp(lb.port());
      const busy = await connectTcp(lb.port());
      idle.socket.write('ping');
      await waitFor(() => idle.text() === 'ping', 2000, 'echo');
      const started = Date.now();
      const timer = setInterval(() => busy.socket.write('.'), 50);
      try {
        await within(idle.closed, 3000, 'idle close');
        const elapsed = Date.now() - started;
        assert.ok(elapsed >= 250, `closed after ${elapsed} ms, before the 300 ms idle timeout`);
        await waitFor(() => echo.open() === 1, 2000, 'target side of the idle connection closed too');
        // The busy connection has outlived the idle timeout by now.
        await waitFor(() => Date.now() - started > 600, 2000);
        assert.equal(busy.isClosed(), false, 'a connection with traffic is not idle');
      } finally {
        clearInterval(timer);
      }
      busy.socket.end();
      await within(busy.closed, 2000, 'busy close');
    });
  });

  it('deregistration: no new connections to the target; open ones work until the delay, then are closed', async () => {
    const a = await startTcpTarget('a', { greet: true });
    const b = await startTcpTarget('b', { greet: true });
    const lb = await startSwitchyard(l4Config('TCP', [a.port, b.port], { group: { deregistrationDelaySeconds: 0.5 } }));
    await withAll([a, b], lb, async () => {
      const g = lb.sy.groups.get('g')!;
      const onA = await greetingOf(lb.port()).then(async (c) => (c.name === 'a' ? c : (c.client.socket.end(), greetingOf(lb.port()))));
      assert.equal(onA.name, 'a');
      const started = Date.now();
      assert.equal(g.deregister(`127.0.0.1:${a.port}`), true);
      assert.equal(g.targets.get(`127.0.0.1:${a.port}`)!.state, 'draining');
      for (let i = 0; i < 3; i++) {
        const next = await greetingOf(lb.port());
        assert.equal(next.name, 'b', 'a draining target takes no new connections');
        next.client.socket.end();
      }
      onA.client.socket.write('still here');
      await waitFor(() => onA.client.text() === 'a\nstill here', 2000, 'the draining connection still relays');
      await within(onA.client.closed, 3000, 'closed when the delay ran out');
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 450, `closed after ${elapsed} ms, before the 500 ms delay`);
      await waitFor(() => !g.targets.has(`127.0.0.1:${a.port}`), 2000, 'target removed');
      await waitFor(() => a.open() === 0, 2000, 'target side closed');
    });
  });

  it('a draining target whose connections all end is removed at once', async () => {
    const a = await startTcpTarget('a', { greet: true });
    const lb = await startSwitchyard(l4Config('TCP', [a.port], { group: { deregistrationDelaySeconds: 30 } }));
    await withAll([a], lb, async () => {
      const g = lb.sy.groups.get('g')!;
      const c = await greetingOf(lb.port());
      g.deregister(`127.0.0.1:${a.port}`);
      c.client.socket.end();
      await c.client.closed;
      await waitFor(() => !g.targets.has(`127.0.0.1:${a.port}`), 2000, 'removed once its last connection ended');
    });
  });

  it('shutdown: stops accepting, lets open connections run, destroys them at the grace deadline', async () => {
    const echo = await startTcpTarget('echo');
    const lb = await startSwitchyard(l4Config('TCP', [echo.port], { settings: { shutdownTimeoutSeconds: 0.4 } }));
    try {
      const port = lb.port();
      const client = await connectTcp(port);
      const started = Date.now();
      const listener = lb.sy.listeners.get('l4') as TcpListener;
      const closing = lb.close();
      await waitFor(() => !listener.server.listening, 1000, 'stopped accepting');
      await assert.rejects(connectTcp(port), 'no new connections once closing');
      client.socket.write('during shutdown');
      await waitFor(() => client.text() === 'during shutdown', 2000, 'open connection still relays');
      await within(closing, 3000, 'close');
      assert.ok(Date.now() - started >= 350, 'waited for the grace period');
      await within(client.closed, 2000, 'client closed at the deadline');
    } finally {
      await lb.close();
      await echo.close();
    }
  });

  it('shutdown finishes early when the last connection ends', async () => {
    const echo = await startTcpTarget('echo');
    const lb = await startSwitchyard(l4Config('TCP', [echo.port], { settings: { shutdownTimeoutSeconds: 30 } }));
    try {
      const client = await connectTcp(lb.port());
      const closing = lb.close();
      client.socket.end();
      await within(closing, 3000, 'close without waiting 30 s');
    } finally {
      await echo.close();
    }
  });
});

interface ParsedHeader {
  family: string;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
}

/** Parses a PROXY v1 line strictly (RFC-like grammar of the HAProxy spec). */
function parseV1(b: Buffer): { header: ParsedHeader; rest: Buffer } {
  const end = b.indexOf('\r\n');
  assert.ok(end > 0 && end <= 105, 'a v1 header is one CRLF-terminated line of at most 107 bytes');
  const line = b.subarray(0, end).toString('latin1');
  const m = /^PROXY (TCP4|TCP6) (\S+) (\S+) (\d{1,5}) (\d{1,5})$/.exec(line);
  assert.ok(m, `malformed v1 line ${JSON.stringify(line)}`);
  return {
    header: { family: m[1]!, src: m[2]!, dst: m[3]!, srcPort: Number(m[4]), dstPort: Number(m[5]) },
    rest: b.subarray(end + 2),
  };
}

/** Parses a PROXY v2 header (signature, version/command, family, length, IPv4 addresses). */
function parseV2(b: Buffer): { header: ParsedHeader; rest: Buffer } {
  assert.ok(b.length >= 16, 'at least the fixed 16 bytes');
  assert.deepEqual(b.subarray(0, 12), PROXY_V2_SIGNATURE);
  assert.equal(b[12], 0x21, 'version 2, command PROXY');
  assert.equal(b[13], 0x11, 'AF_INET over STREAM');
  const len = b.readUInt16BE(14);
  assert.equal(len, 12, 'IPv4 address block, no TLVs');
  const ip = (o: number): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
  return {
    header: { family: 'TCP4', src: ip(16), dst: ip(20), srcPort: b.readUInt16BE(24), dstPort: b.readUInt16BE(26) },
    rest: b.subarray(16 + len),
  };
}
