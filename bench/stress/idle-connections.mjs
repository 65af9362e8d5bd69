#!/usr/bin/env node
// bench/stress/idle-connections.mjs — N idle keep-alive client connections held open on a
// Switchyard process: each connection makes one request through to a target, then stays idle.
// Reports the Switchyard process's RSS before and with all N held; pass when it stays at or
// under --max-mb (250 MB for 10,000 connections) and every connection got its response.
// Not part of the tests. Needs `npm run build` and a file-descriptor limit above N + a margin
// in both processes (bench/stress/run.sh raises the soft limit).
//
//   node bench/stress/idle-connections.mjs [--connections 10000] [--max-mb 250]
import net from 'node:net';
import { arg, startTarget, startSwitchyard, sleep, rssOf, fdLimitOf } from './common.mjs';

const N = Number(arg('connections', '10000'));
const MAX_MB = Number(arg('max-mb', '250'));
const BATCH = 250;

const target = await startTarget();
const sy = await startSwitchyard({
  settings: { idleTimeoutSeconds: 600, requestHeaderTimeoutSeconds: 60 },
  admin: { host: '127.0.0.1', port: 0 },
  accessLog: { path: 'off' },
  listeners: [{ name: 'web', protocol: 'HTTP', host: '127.0.0.1', port: 0, defaultAction: { forward: { targetGroup: 'g' } } }],
  targetGroups: [{ name: 'g', targets: [{ host: '127.0.0.1', port: target.port }], healthCheck: { enabled: false } }],
});
const limits = fdLimitOf(sy.proc.pid);
console.log(`switchyard pid ${sy.proc.pid}, open files limit ${limits?.soft}/${limits?.hard}`);
await sleep(500);
const rssBase = rssOf(sy.proc.pid);

const sockets = [];
let answered = 0;
let failed = 0;
function open() {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: sy.port });
    s.setNoDelay(true);
    let got = '';
    const done = (ok) => {
      if (ok) answered++;
      else failed++;
      resolve();
    };
    s.on('error', () => done(false));
    s.on('connect', () => s.write('GET /idle HTTP/1.1\r\nHost: a\r\n\r\n'));
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.startsWith('HTTP/1.1 200') && got.endsWith('\r\n\r\nok')) done(true);
    });
    sockets.push(s);
  });
}

const t0 = performance.now();
for (let i = 0; i < N; i += BATCH) {
  await Promise.all(Array.from({ length: Math.min(BATCH, N - i) }, open));
}
console.log(`${answered}/${N} connections answered (${failed} failed) in ${((performance.now() - t0) / 1000).toFixed(1)} s; now idle`);
// Let the process settle (GC, freed request state) and sample RSS a few times.
let rssHeld = 0;
for (let i = 0; i < 10; i++) {
  await sleep(500);
  rssHeld = Math.max(rssHeld, rssOf(sy.proc.pid));
}
const open_ = sockets.filter((s) => !s.destroyed).length;
console.log(`still open: ${open_}/${N}`);
console.log(`switchyard RSS: ${(rssBase / 1048576).toFixed(1)} MB idle, ${(rssHeld / 1048576).toFixed(1)} MB with ${open_} idle keep-alive connections (${(((rssHeld - rssBase) / Math.max(1, open_)) / 1024).toFixed(1)} KB per connection)`);

for (const s of sockets) s.destroy();
sy.proc.kill('SIGTERM');
target.server.close();
target.server.closeAllConnections();
const pass = answered === N && open_ === N && rssHeld <= MAX_MB * 1048576;
console.log(pass ? `PASS (≤ ${MAX_MB} MB)` : `FAIL (limit ${MAX_MB} MB)`);
process.exit(pass ? 0 : 1);
