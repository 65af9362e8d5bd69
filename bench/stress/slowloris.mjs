#!/usr/bin/env node
// bench/stress/slowloris.mjs — N slowloris connections against a Switchyard process while a
// probe client keeps requesting. Each attacker sends a request line and then one header line
// per second, never finishing its head. Pass when every attacker is answered 408 and closed
// within requestHeaderTimeoutSeconds + 1 s of its first byte, and every probe succeeds.
// Not part of the tests. Needs `npm run build` and a file-descriptor limit above 2 × N
// (bench/stress/run.sh raises the soft limit).
//
//   node bench/stress/slowloris.mjs [--connections 2000] [--head-timeout 10]
import net from 'node:net';
import { arg, startTarget, startSwitchyard, probe, percentile, sleep, rssOf } from './common.mjs';

const N = Number(arg('connections', '2000'));
const HEAD_TIMEOUT_S = Number(arg('head-timeout', '10'));
const LIMIT_MS = HEAD_TIMEOUT_S * 1000 + 1000;

const target = await startTarget();
const sy = await startSwitchyard({
  settings: { requestHeaderTimeoutSeconds: HEAD_TIMEOUT_S, idleTimeoutSeconds: 60 },
  admin: { host: '127.0.0.1', port: 0 },
  accessLog: { path: 'off' },
  listeners: [{ name: 'web', protocol: 'HTTP', host: '127.0.0.1', port: 0, defaultAction: { forward: { targetGroup: 'g' } } }],
  targetGroups: [{ name: 'g', targets: [{ host: '127.0.0.1', port: target.port }], healthCheck: { enabled: false } }],
});
const rssStart = rssOf(sy.proc.pid);

// ---- the probe: one fresh-connection GET every 50 ms, all along ------------------------------
let probing = true;
const probes = [];
const prober = (async () => {
  while (probing) {
    probes.push(await probe(sy.port));
    await sleep(50);
  }
})();

// ---- the attack ------------------------------------------------------------------------------
const conns = [];
let opened = 0;
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const c = { firstByteMs: 0, doneMs: 0, status: 0, data: '' };
  conns.push(c);
  const s = net.connect({ host: '127.0.0.1', port: sy.port });
  s.setNoDelay(true);
  s.on('error', () => {});
  s.on('connect', () => {
    opened++;
    c.firstByteMs = performance.now();
    s.write('GET / HTTP/1.1\r\nHost: a\r\n');
    let k = 0;
    c.timer = setInterval(() => s.write(`X-Slow-${k++}: b\r\n`), 1000);
  });
  s.on('data', (d) => {
    c.data += d.toString('latin1');
    if (c.status === 0) c.status = Number(c.data.slice(9, 12)) || -1;
  });
  s.on('close', () => {
    clearInterval(c.timer);
    c.doneMs = performance.now();
  });
  if (i % 200 === 199) await sleep(20); // connect in waves, as a real attacker's tool does
}
console.log(`${opened}/${N} slowloris connections open after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const rssAttack = rssOf(sy.proc.pid);

// Wait for all of them to be closed (or give up well after the limit).
const deadline = performance.now() + LIMIT_MS + 10_000;
while (conns.some((c) => c.doneMs === 0) && performance.now() < deadline) await sleep(100);
probing = false;
await prober;

const lifetimes = conns.filter((c) => c.doneMs > 0 && c.firstByteMs > 0).map((c) => c.doneMs - c.firstByteMs);
const notClosed = conns.filter((c) => c.doneMs === 0).length;
const late = lifetimes.filter((ms) => ms > LIMIT_MS).length;
const got408 = conns.filter((c) => c.status === 408).length;
const probeOk = probes.filter((p) => p.ok).length;
const probeMs = probes.map((p) => p.ms);

console.log(`head timeout ${HEAD_TIMEOUT_S} s, limit ${LIMIT_MS} ms`);
console.log(`attackers: ${N}, answered 408: ${got408}, still open: ${notClosed}, closed later than the limit: ${late}`);
console.log(`attacker lifetime ms: min ${Math.min(...lifetimes).toFixed(0)}, p50 ${percentile(lifetimes, 50).toFixed(0)}, p99 ${percentile(lifetimes, 99).toFixed(0)}, max ${Math.max(...lifetimes).toFixed(0)}`);
console.log(`probe: ${probeOk}/${probes.length} succeeded (${((100 * probeOk) / probes.length).toFixed(2)} %), p50 ${percentile(probeMs, 50).toFixed(1)} ms, p99 ${percentile(probeMs, 99).toFixed(1)} ms, max ${Math.max(...probeMs).toFixed(1)} ms`);
console.log(`switchyard RSS: ${(rssStart / 1048576).toFixed(1)} MB at start, ${(rssAttack / 1048576).toFixed(1)} MB with ${opened} attackers`);

sy.proc.kill('SIGTERM');
target.server.close();
target.server.closeAllConnections();
const pass = notClosed === 0 && late === 0 && got408 === N && probeOk === probes.length;
console.log(pass ? 'PASS' : 'FAIL');
process.exit(pass ? 0 : 1);
