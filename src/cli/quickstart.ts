/**
 * `npm start`: the quickstart: two demo backends and the load balancer on
 * examples/quickstart.yaml, so a newcomer sees balancing with no other setup.
 */
import { fileURLToPath } from 'node:url';
import { startDemoBackend } from './demo-backend.js';
import { Switchyard, ConfigStartError } from '../control/switchyard.js';
import { formatConfigError } from '../config/errors.js';
import { installSignals, printStartup } from './run.js';

export async function runQuickstart(out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const configFile = fileURLToPath(new URL('../../../examples/quickstart.yaml', import.meta.url));
  const backends = [await startDemoBackend(9001, 'backend-a'), await startDemoBackend(9002, 'backend-b')];
  for (const b of backends) out(`demo backend ${b.name} on http://127.0.0.1:${b.port}`);
  let sy: Switchyard;
  try {
    sy = await Switchyard.start({ configFile });
  } catch (e) {
    if (e instanceof ConfigStartError) for (const ce of e.errors) err(formatConfigError(configFile, ce));
    else err(`switchyard: cannot start: ${e instanceof Error ? e.message : String(e)}`);
    for (const b of backends) await b.close();
    return 1;
  }
  printStartup(sy, out);
  const web = [...sy.listeners.values()][0];
  out('');
  out(`Try it:  curl -s http://127.0.0.1:${web?.port ?? 8080}/hello   (run it twice: backend-a and backend-b take turns)`);
  out(`         curl -s http://127.0.0.1:${sy.adminPort ?? 9090}/api/v1/status`);
  out('Stop with Ctrl-C.');
  installSignals(sy, err, async () => {
    for (const b of backends) await b.close();
  });
  return new Promise<number>(() => {});
}
