// Builds the optional native addon (native/, node-gyp) on `npm install` / `npm ci`.
//
// The addon is optional by design (docs/decisions/0017-native-data-path.md): when the machine
// has no compiler or Node headers the build fails, this script says so, and Switchyard runs its
// TypeScript data path. So this script never fails the install. SWITCHYARD_NATIVE=off skips it.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'native');

function nodeGyp() {
  // npm ships node-gyp; `npm_config_node_gyp` points at it when npm runs this script.
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  try {
    const npmDir = path.dirname(createRequire(import.meta.url).resolve('npm/package.json'));
    return path.join(npmDir, 'node_modules/node-gyp/bin/node-gyp.js');
  } catch {
    return path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  }
}

if (process.env.SWITCHYARD_NATIVE === 'off') {
  console.error('[switchyard] SWITCHYARD_NATIVE=off: the native addon is not built');
  process.exit(0);
}
const gyp = nodeGyp();
const args = [gyp, 'rebuild', '--silent'];
// Use the installed Node's own headers when they are there (no download: this machine has no internet).
const headers = path.resolve(path.dirname(process.execPath), '..');
if (existsSync(path.join(headers, 'include/node/node_api.h'))) args.push(`--nodedir=${headers}`);
const r = existsSync(gyp) ? spawnSync(process.execPath, args, { cwd: dir, stdio: 'inherit' }) : { status: -1 };
if (r.status !== 0) {
  console.error('[switchyard] the native addon was not built (see above); Switchyard will use its TypeScript data path');
}
