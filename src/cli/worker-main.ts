/**
 * The entry point of a cluster worker process (forked by control/cluster-primary.ts with
 * `SWITCHYARD_WORKER_ID`); never run by hand.
 *
 * Owns: process-level concerns of a worker: wiring the IPC channel to a ClusterWorker, exiting
 * 0 after a graceful stop (the primary's `stop`, or SIGTERM/SIGINT sent to the whole process
 * group, e.g. Ctrl-C), stopping when the primary is gone (its IPC channel closes), and logging
 * unexpected exceptions as the single-process server does. Under NODE_ENV=test only, the file
 * named by SWITCHYARD_TEST_FAULTS may make this worker refuse a prepare (the integration tests
 * of all-or-nothing reloads).
 */
import { readFileSync } from 'node:fs';
import { createLogger } from '../observability/logger.js';
import { ClusterWorker } from '../control/cluster-worker.js';
import { isMessage, type PrimaryMessage, type WorkerMessage } from '../control/messages.js';

const id = Number(process.env['SWITCHYARD_WORKER_ID'] ?? '0');
const log = createLogger().child({ worker: id });

function send(m: WorkerMessage): void {
  if (process.connected) process.send?.(m, undefined, undefined, () => {});
}

/** Test-only fault injection: `{"failPrepareInWorker": N}` in the SWITCHYARD_TEST_FAULTS file. */
function faultInjector(): ((generation: number) => string | null) | undefined {
  const file = process.env['SWITCHYARD_TEST_FAULTS'];
  if (process.env['NODE_ENV'] !== 'test' || file === undefined || file === '') return undefined;
  return () => {
    try {
      const f = JSON.parse(readFileSync(file, 'utf8')) as { failPrepareInWorker?: unknown };
      return f.failPrepareInWorker === id ? 'injected fault (SWITCHYARD_TEST_FAULTS)' : null;
    } catch {
      return null;
    }
  };
}

const exit = (): void => {
  log.flush?.();
  process.exit(0);
};
const failPrepare = faultInjector();
const worker = new ClusterWorker({ id, log, send, onStopped: exit, ...(failPrepare !== undefined ? { failPrepare } : {}) });

process.on('message', (m: unknown) => {
  if (isMessage<PrimaryMessage>(m)) worker.receive(m);
});
const stop = (why: string): void => {
  log.info({ why }, 'worker stopping');
  void worker.shutdown().then(exit);
};
process.on('SIGTERM', () => stop('SIGTERM'));
// Reloading is the primary's job; a SIGHUP sent to the whole process group must not kill workers.
process.on('SIGHUP', () => {});
process.on('SIGINT', () => stop('SIGINT'));
process.on('disconnect', () => stop('primary gone'));
process.on('uncaughtException', (e) => log.fatal({ err: e }, 'uncaught exception'));
process.on('unhandledRejection', (e) => log.error({ err: e }, 'unhandled rejection'));
send({ type: 'ready', worker: id });
