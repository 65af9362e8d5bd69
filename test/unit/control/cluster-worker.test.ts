/**
 * ClusterWorker driven through a fake channel (no cluster, no fork): the two-phase apply
 * (prepare binds but does not swap; commit swaps; abort rolls back, including listeners it
 * bound), adopting the primary's health snapshot with its own checks off, reporting passive
 * ejections, answering collect, and the test-only fault hook.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import net from 'node:net';
import { ClusterWorker } from '../../../src/control/cluster-worker.js';
import type { GroupHealth, PrimaryMessage, WorkerMessage } from '../../../src/control/messages.js';
import type { Config } from '../../../src/config/types.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { waitFor } from '../../integration/harness/wait.js';
import { connectionRefused } from '../../integration/harness/process.js';
import { request } from '../../integration/harness/client.js';

function doc(listeners: { name: string; port: number; body: string }[]): Config {
  return {
    listeners: listeners.map((l) => ({
      name: l.name,
      protocol: 'HTTP' as const,
      host: '127.0.0.1',
      port: l.port,
      defaultAction: { fixedResponse: { statusCode: 200, contentType: 'text/plain', body: l.body } },
    })),
    targetGroups: [{ name: 'g', targets: [{ host: '127.0.0.1', port: 9 }] }],
  } as Config;
}

const healthy: GroupHealth[] = [
  { name: 'g', targets: [{ id: '127.0.0.1:9', host: '127.0.0.1', port: 9, weight: 1, draining: false, activeHealthy: true, passiveEjected: false, reason: 'health check passed', healthyForMs: 1000 }] },
];

function harness(failPrepare?: (generation: number) => string | null): { worker: ClusterWorker; sent: WorkerMessage[]; send: (m: PrimaryMessage) => void } {
  const sent: WorkerMessage[] = [];
  const worker = new ClusterWorker({ id: 1, log: silentLogger(), send: (m) => sent.push(m), onStopped: () => {}, ...(failPrepare ? { failPrepare } : {}) });
  return { worker, sent, send: (m) => worker.receive(m) };
}

const prepare = (generation: number, config: Config, health: GroupHealth[] = []): PrimaryMessage => ({
  type: 'prepare',
  generation,
  config,
  configFile: null,
  generatedStickinessSecret: Buffer.alloc(32, 7).toString('base64'),
  health,
});

describe('ClusterWorker', () => {
  it('prepare binds without swapping; commit swaps and adopts the snapshot; abort rolls back what was bound', async () => {
    const { worker, sent, send } = harness();
    try {
      send(prepare(1, doc([{ name: 'web', port: 0, body: 'one' }]), healthy));
      await waitFor(() => sent.find((m) => m.type === 'prepared'), 5000, 'prepared');
      assert.deepEqual(sent[0], { type: 'prepared', generation: 1, ok: true });
      const sy = worker.switchyard!;
      assert.equal(sy.generation, 0, 'not swapped before the verdict');
      assert.equal(sy.groups.get('g'), undefined);
      assert.deepEqual(worker.generatedStickinessSecret, Buffer.alloc(32, 7), 'the primary’s key');

      send({ type: 'commit', generation: 1, health: healthy });
      await waitFor(() => sent.find((m) => m.type === 'committed'), 5000, 'committed');
      assert.equal(sy.generation, 1);
      const t = sy.groups.get('g')!.targets.get('127.0.0.1:9')!;
      assert.equal(t.state, 'healthy', 'from the primary’s snapshot; this worker checks nothing');
      assert.equal(sy.groups.get('g')!.healthChecker, null);
      const port = sy.listeners.get('web')!.port;
      assert.equal((await request(port)).text, 'one');

      // Generation 2 adds a listener; the primary aborts it.
      sent.length = 0;
      send(prepare(2, doc([{ name: 'web', port: 0, body: 'two' }, { name: 'extra', port: 0, body: 'extra' }])));
      await waitFor(() => sent.find((m) => m.type === 'prepared'), 5000, 'prepared 2');
      send({ type: 'abort', generation: 2, reason: 'another worker refused generation 2' });
      await waitFor(() => sy.generation === 1 && !sy.listeners.has('extra'), 5000, 'rolled back');
      assert.equal((await request(port)).text, 'one');
      assert.deepEqual(sent.map((m) => m.type), ['prepared'], 'nothing more to say after an abort');

      // Health updates and passive ejections.
      send({ type: 'health', group: 'g', target: { ...healthy[0]!.targets[0]!, activeHealthy: false, healthyForMs: -1, reason: 'health check: status 500' } });
      assert.equal(t.state, 'unhealthy');
      send({ type: 'health', group: 'g', target: healthy[0]!.targets[0]! });
      assert.equal(t.state, 'healthy');
      sy.groups.get('g')!.ejectPassively(t, 'target refused the connection (passive)');
      assert.deepEqual(sent.at(-1), { type: 'passive', group: 'g', id: '127.0.0.1:9', reason: 'target refused the connection (passive)' });

      send({ type: 'collect', id: 7 });
      const c = await waitFor(() => sent.find((m) => m.type === 'collected'), 5000, 'collected');
      assert.equal(c.type === 'collected' && c.id, 7);
      assert.ok(c.type === 'collected' && c.metrics.some((m) => m.name === 'switchyard_requests_total'));
      assert.ok(c.type === 'collected' && c.listeners.some((l) => l.name === 'web' && l.requests === 2));
    } finally {
      await worker.shutdown();
    }
  });

  it('a fault at the end of prepare is a Nack, and the worker drops what it had bound', async () => {
    const { worker, sent, send } = harness((g) => (g === 1 ? 'injected' : null));
    try {
      // A free port, so the listener can be probed after the rollback.
      const probe = net.createServer();
      await new Promise<void>((resolve) => probe.listen({ host: '127.0.0.1', port: 0 }, resolve));
      const port = (probe.address() as net.AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      send(prepare(1, doc([{ name: 'web', port, body: 'one' }])));
      const nack = await waitFor(() => sent.find((m) => m.type === 'prepared'), 5000, 'prepared');
      assert.equal(nack.type === 'prepared' && nack.ok, false);
      assert.match(JSON.stringify(nack), /worker 1: injected/);
      await waitFor(() => connectionRefused(port), 5000, 'listener closed again');
      assert.equal(worker.switchyard!.generation, 0);
    } finally {
      await worker.shutdown();
    }
  });
});
