#!/usr/bin/env node
// scripts/bundle.mjs — the `switchyard` command as one file per process kind, built from tsc's
// output in dist/src: dist/src/cli/switchyard.js (the command) and switchyard-worker.js (a
// cluster worker). Node spends most of a cold start resolving, reading and compiling ~100 ES
// modules; one file starts ~100 ms sooner (docs/decisions/0015-bundled-entry-point.md).
// The bundles sit beside main.js so that the paths the code builds from import.meta.url
// (examples/, the worker entry) resolve the same from either. Run by `npm run build` and `npm test`.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/src/cli/', import.meta.url));

await build({
  entryPoints: [
    { in: `${cli}main.js`, out: 'switchyard' },
    { in: `${cli}worker-main.js`, out: 'switchyard-worker' },
  ],
  outdir: cli,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Dependencies written as CommonJS (pino, prom-client) call require() for Node's modules;
  // an ES module has no `require`, so the bundle makes one.
  banner: { js: "import { createRequire as __switchyardCreateRequire } from 'node:module'; const require = __switchyardCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});

// esbuild escapes non-ASCII text in strings and identifiers but keeps it in the comments it
// leaves, and one such character makes V8 hold the whole 1.4 MB source as a two-byte string
// (2.7 MB of heap, retained for lazy compilation). A \uXXXX escape means the same character
// anywhere in JavaScript, so escaping every remaining UTF-16 unit keeps the meaning.
for (const name of ['switchyard.js', 'switchyard-worker.js']) {
  const file = `${cli}${name}`;
  const text = readFileSync(file, 'utf8');
  const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii === text) continue;
  // The one place an escape would not mean the character: a String.raw template.
  if (text.includes('String.raw')) throw new Error(`${name}: uses String.raw; escaping non-ASCII text could change it`);
  writeFileSync(file, ascii);
}
