/**
 * UDP listeners over real sockets: replies go back to the client that sent the datagram, a flow
 * (client address and port) stays on one target, flows expire after the idle timeout, the flow
 * limit drops datagrams of new flows, flows to a removed target are closed, and shutdown.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startSwitchyard, waitFor, within, type Running } from '../harness/index.js';
import { UdpListener } from '../../../src/listener/udp-listener.js';
import { l4Config, startUdpTarget, udpClient, type UdpClient, type UdpTarget } from './l4-harness.js';

async function withAll(targets: UdpTarget[], clients: UdpClient[], lb: Running, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await lb.close();
    await Promise.all(targets.map((t) => t.close()));
  }
}

const udpListener = (lb: Running): UdpListener => {
  const l = lb.sy.listeners.get('l4');
  assert.ok(l instanceof UdpListener);
  return l;
};

describe('UDP listener', () => {
  it('two clients each get their own replies; each flow stays on one target', async () => {
    const a = await startUdpTarget('a');
    const b = await startUdpTarget('b');
    const lb = await startSwitchyard(l4Config('UDP', [a.port, b.port], { group: { algorithm: 'round_robin' } }));
    const c1 = await udpClient(lb.port());
    const c2 = await udpClient(lb.port());
    await withAll([a, b], [c1, c2], lb, async () => {
      c1.send('one-1');
      await waitFor(() => c1.replies.length === 1, 2000, 'first reply');
      c2.send('two-1');
      await waitFor(() => c2.replies.length === 1, 2000, 'second client reply');
      for (let i = 2; i <= 5; i++) {
        c1.send(`one-${i}`);
        c2.send(`two-${i}`);
      }
      await waitFor(() => c1.replies.length === 5 && c2.replies.length === 5, 2000, 'all replies');
      const owner1 = c1.replies[0]!.split(':')[0]!;
      const owner2 = c2.replies[0]!.split(':')[0]!;
      assert.notEqual(owner1, owner2, 'round robin puts the two flows on different targets');
      assert.deepEqual(c1.replies.slice().sort(), [1, 2, 3, 4, 5].map((i) => `${owner1}:one-${i}`));
      assert.deepEqual(c2.replies.slice().sort(), [1, 2, 3, 4, 5].map((i) => `${owner2}:two-${i}`));
      assert.equal(udpListener(lb).connectionCount, 2);
      // Each target saw one source: the flow's own socket.
      for (const t of [a, b]) assert.equal(new Set(t.seen.map((s) => s.split(' ')[0])).size, 1);
      const g = lb.sy.groups.get('g')!;
      assert.deepEqual([...g.targets.values()].map((t) => t.inFlight), [1, 1], 'a flow counts as outstanding on its target');
    });
  });

  it('a flow expires after the idle timeout; the next datagram opens a new one', async () => {
    const a = await startUdpTarget('a');
    const lb = await startSwitchyard(l4Config('UDP', [a.port], { listener: { idleTimeoutSeconds: 0.2 } }));
    const c = await udpClient(lb.port());
    await withAll([a], [c], lb, async () => {
      const l = udpListener(lb);
      c.send('x');
      await waitFor(() => c.replies.length === 1, 2000, 'reply');
      const started = Date.now();
      assert.equal(l.connectionCount, 1);
      await waitFor(() => l.connectionCount === 0, 3000, 'flow expired');
      assert.ok(Date.now() - started >= 150, 'not before the idle timeout');
      assert.equal(l.stats.flowsExpired, 1);
      assert.equal(lb.sy.groups.get('g')!.targets.get(`127.0.0.1:${a.port}`)!.inFlight, 0);
      c.send('y');
      await waitFor(() => c.replies.length === 2, 2000, 'reply on a new flow');
      assert.equal(c.replies[1], 'a:y');
      assert.equal(l.stats.flowsOpened, 2);
    });
  });

  it('an active flow does not expire', async () => {
    const a = await startUdpTarget('a');
    const lb = await startSwitchyard(l4Config('UDP', [a.port], { listener: { idleTimeoutSeconds: 0.2 } }));
    const c = await udpClient(lb.port());
    await withAll([a], [c], lb, async () => {
      const started = Date.now();
      let n = 0;
      const timer = setInterval(() => c.send(`p${n++}`), 40);
      try {
        await waitFor(() => Date.now() - started > 600, 2000);
      } finally {
        clearInterval(timer);
      }
      assert.equal(udpListener(lb).stats.flowsOpened, 1, 'one flow throughout');
      assert.equal(udpListener(lb).stats.flowsExpired, 0);
    });
  });

  it('the flow limit drops datagrams of new flows, and counts them', async () => {
    const a = await startUdpTarget('a');
    const lb = await startSwitchyard(l4Config('UDP', [a.port], { listener: { maxFlows: 2, idleTimeoutSeconds: 0.3 } }));
    const clients = [await udpClient(lb.port()), await udpClient(lb.port()), await udpClient(lb.port())];
    const [c1, c2, c3] = clients as [UdpClient, UdpClient, UdpClient];
    await withAll([a], clients, lb, async () => {
      const l = udpListener(lb);
      c1.send('1');
      c2.send('2');
      await waitFor(() => c1.replies.length === 1 && c2.replies.length === 1, 2000, 'two flows');
      c3.send('3');
      await waitFor(() => l.stats.droppedFlowLimit === 1, 2000, 'third flow refused');
      assert.equal(l.connectionCount, 2);
      assert.equal(a.seen.length, 2, 'the dropped datagram never reached the target');
      // Existing flows keep working at the limit.
      c1.send('1b');
      await waitFor(() => c1.replies.length === 2, 2000, 'existing flow still relays');
      // Once the others expire there is room again.
      await waitFor(() => l.connectionCount === 0, 3000, 'flows expired');
      c3.send('3b');
      await waitFor(() => c3.replies.length === 1, 2000, 'third client served');
      assert.deepEqual(c3.replies, ['a:3b']);
    });
  });

  it('flows to a deregistered target are closed when it is removed; new flows go elsewhere', async () => {
    const a = await startUdpTarget('a');
    const b = await startUdpTarget('b');
    const lb = await startSwitchyard(l4Config('UDP', [a.port, b.port], { group: { deregistrationDelaySeconds: 0.2 } }));
    const c = await udpClient(lb.port());
    await withAll([a, b], [c], lb, async () => {
      const l = udpListener(lb);
      c.send('first');
      await waitFor(() => c.replies.length === 1, 2000, 'reply');
      const owner = c.replies[0]!.split(':')[0]!;
      const other = owner === 'a' ? 'b' : 'a';
      const ownerPort = owner === 'a' ? a.port : b.port;
      const g = lb.sy.groups.get('g')!;
      g.deregister(`127.0.0.1:${ownerPort}`);
      // Draining: the open flow still relays until the delay runs out.
      c.send('draining');
      await waitFor(() => c.replies.length === 2, 2000, 'reply while draining');
      assert.equal(c.replies[1], `${owner}:draining`);
      await waitFor(() => l.connectionCount === 0, 3000, 'flow closed once the target was removed');
      assert.equal(g.targets.has(`127.0.0.1:${ownerPort}`), false);
      c.send('after');
      await waitFor(() => c.replies.length === 3, 2000, 'reply from the remaining target');
      assert.equal(c.replies[2], `${other}:after`);
    });
  });

  it('a target that is not listening closes the flow (ICMP port unreachable)', async () => {
    const a = await startUdpTarget('a');
    const port = a.port;
    await a.close();
    const lb = await startSwitchyard(l4Config('UDP', [port]));
    const c = await udpClient(lb.port());
    await withAll([], [c], lb, async () => {
      const l = udpListener(lb);
      c.send('anyone?');
      await waitFor(() => l.stats.flowsOpened === 1, 2000, 'flow opened');
      // The refusal arrives on the flow's next receive; a second datagram makes sure of it.
      c.send('anyone??');
      await waitFor(() => l.connectionCount === 0, 2000, 'flow closed on ECONNREFUSED');
      assert.equal(lb.sy.groups.get('g')!.targets.get(`127.0.0.1:${port}`)!.inFlight, 0);
    });
  });

  it('shutdown: answered flows close at once; an unanswered one gets its reply; no new flows', async () => {
    const a = await startUdpTarget('a', { replyDelayMs: 300 });
    const lb = await startSwitchyard(l4Config('UDP', [a.port], { settings: { shutdownTimeoutSeconds: 5 } }));
    const [c1, c2, c3] = [await udpClient(lb.port()), await udpClient(lb.port()), await udpClient(lb.port())];
    await withAll([a], [c1, c2, c3], lb, async () => {
      const l = udpListener(lb);
      c1.send('answered');
      await waitFor(() => c1.replies.length === 1, 2000, 'reply');
      c2.send('pending');
      await waitFor(() => a.seen.length === 2, 2000, 'target got the second request');
      const started = Date.now();
      const closing = lb.close();
      // Switchyard.close() reaches the listener a tick later; the reply is 300 ms away.
      await waitFor(() => l.connectionCount === 1, 200, 'the answered flow closed at once, the pending one stays');
      c3.send('new flow');
      await waitFor(() => l.stats.droppedClosing === 1, 2000, 'no new flow while closing');
      await within(closing, 3000, 'closed once the pending reply was relayed');
      await waitFor(() => c2.replies.length === 1, 2000, 'the unanswered request got its reply');
      assert.deepEqual(c2.replies, ['a:pending']);
      assert.ok(Date.now() - started < 2000, 'did not wait for the idle timeout or the grace period');
      assert.equal(l.connectionCount, 0);
    });
  });
});
