/**
 * `switchyard --config FILE` when `settings.workers` asks for more than one process: starts the
 * cluster primary (control/cluster-primary.ts), which forks the workers.
 *
 * Owns: how many workers a config asks for (`auto` = os.availableParallelism()), and the
 * primary's process-level concerns, which are the single-process server's (run.ts): startup
 * lines (plus one naming the workers), exit 1 with the `validate` messages on an invalid
 * config, SIGHUP → reload, SIGTERM/SIGINT → every worker drains, then exit 0.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Switchyard, ConfigStartError } from '../control/switchyard.js';
import { ClusterPrimary } from '../control/cluster-primary.js';
import { formatConfigError } from '../config/errors.js';
import { loadConfigFile } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import { printStartup, installSignals } from './run.js';

/** The worker entry: the bundled one when this code runs from the bundled command (scripts/bundle.mjs). */
const WORKER_MAIN = fileURLToPath(new URL(import.meta.url.endsWith('/switchyard.js') ? './switchyard-worker.js' : './worker-main.js', import.meta.url));

/**
 * The number of worker processes `configFile` asks for; 1 when it cannot be read or is invalid
 * (the single-process start then reports why, as always).
 */
export async function configuredWorkers(configFile: string): Promise<number> {
  const r = await loadConfigFile(configFile);
  if (!r.ok) return 1;
  const w = r.config.settings?.workers ?? 1;
  return w === 'auto' ? availableParallelism() : w;
}

export async function runCluster(configFile: string, workers: number, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const log = createLogger().child({ primary: true });
  const primary = new ClusterPrimary({ workers, log, exec: WORKER_MAIN, configFile });
  let sy: Switchyard;
  try {
    // The primary binds no listener and writes no access log: its workers do.
    sy = await Switchyard.start({ configFile, logger: log, accessLogPath: 'off', cluster: primary });
  } catch (e) {
    await primary.stop(0);
    if (e instanceof ConfigStartError) {
      for (const ce of e.errors) err(formatConfigError(configFile, ce));
      err(`${configFile}: ${e.errors.length} error${e.errors.length === 1 ? '' : 's'}; not started`);
    } else {
      err(`switchyard: cannot start: ${e instanceof Error ? e.message : String(e)}`);
    }
    return 1;
  }
  primary.attach(sy);
  printStartup(sy, out);
  out(`workers ${workers} (pids ${primary.pids.join(', ')})`);
  installSignals(sy, err);
  return new Promise<number>(() => {
    // Runs until a signal stops it (installSignals exits the process).
  });
}
