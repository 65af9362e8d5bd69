// bench/launcher.mjs — how the bench scripts start the `switchyard` command: the bundled entry
// point with the node flags of its own `#!` line (docs/decisions/0014, 0016), so a measured
// process runs as the installed command runs. (The shell scripts read the line with sed.)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** dist/src/cli/switchyard.js of this checkout. */
export const SWITCHYARD_MAIN = fileURLToPath(new URL('../dist/src/cli/switchyard.js', import.meta.url));

/** The node flags on `main`'s `#!/usr/bin/env -S node …` line. */
export function launcherFlags(main = SWITCHYARD_MAIN) {
  const first = readFileSync(main, 'latin1').split('\n', 1)[0];
  return (first.match(/^#!.*[/ ]node\b(.*)$/)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
}
