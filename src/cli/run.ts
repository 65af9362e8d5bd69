/**
 * `switchyard --config FILE` / `switchyard run --config FILE`: run the load balancer.
 *
 * Owns: process-level concerns: startup lines, exit codes (1 on an invalid config, with the
 * same messages as `validate`), SIGHUP → reload, SIGTERM/SIGINT → graceful stop and exit 0, and
 * last-resort handlers that log an unexpected exception instead of dying silently. A config
 * with `settings.workers` > 1 runs the cluster primary instead (run-cluster.ts).
 */
import { Switchyard, ConfigStartError } from '../control/switchyard.js';
import { formatConfigError } from '../config/errors.js';
import { configuredWorkers, runCluster } from './run-cluster.js';
import { nativeAddon, nativeUnavailableReason } from '../native/addon.js';

export async function runServer(configFile: string, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const workers = await configuredWorkers(configFile);
  if (workers > 1) return runCluster(configFile, workers, out, err);
  let sy: Switchyard;
  try {
    sy = await Switchyard.start({ configFile });
  } catch (e) {
    if (e instanceof ConfigStartError) {
      for (const ce of e.errors) err(formatConfigError(configFile, ce));
      err(`${configFile}: ${e.errors.length} error${e.errors.length === 1 ? '' : 's'}; not started`);
    } else {
      err(`switchyard: cannot start: ${e instanceof Error ? e.message : String(e)}`);
    }
    return 1;
  }
  printStartup(sy, out);
  installSignals(sy, err);
  return new Promise<number>(() => {
    // Runs until a signal stops it (installSignals exits the process).
  });
}

export function printStartup(sy: Switchyard, out: (s: string) => void): void {
  for (const l of sy.listeners.values()) out(`listening ${l.listener.protocol.toLowerCase()} ${l.listener.host}:${l.port}`);
  // Which data path plain-HTTP listeners use (docs/decisions/0017): said once, in the log.
  if (nativeAddon() !== null) sy.log.info({ dataPath: 'native' }, 'data path: native addon for plain HTTP listeners');
  else sy.log.info({ dataPath: 'typescript', reason: nativeUnavailableReason() }, `data path: TypeScript (${nativeUnavailableReason()})`);
  const admin = sy.runtime.resolved.admin;
  if (sy.adminPort !== null) out(`admin http://${admin.host}:${sy.adminPort}`);
}

export function installSignals(sy: Switchyard, err: (s: string) => void, beforeExit?: () => Promise<void>): void {
  process.on('SIGHUP', () => {
    void sy.reload().then((r) => {
      if (r.ok) sy.log.info({ generation: r.generation }, 'config reloaded');
      else {
        for (const e of r.errors) err(formatConfigError(sy.configFile ?? '<config>', e));
        sy.log.warn({ errors: r.errors.length }, 'reload rejected; the running config stays');
      }
    });
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    sy.log.info({ signal }, 'shutting down');
    void sy
      .close()
      .then(() => beforeExit?.())
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('uncaughtException', (e) => {
    sy.log.fatal({ err: e }, 'uncaught exception');
  });
  process.on('unhandledRejection', (e) => {
    sy.log.error({ err: e }, 'unhandled rejection');
  });
}
