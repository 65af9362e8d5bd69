#!/usr/bin/env node
// bench/rules/rules-scale.mjs — what 1,000 host rules + 1,000 path rules cost (issue 7 item 2):
//   * startup: Switchyard.start with the big config, from nothing to listening (ms);
//   * reload: Switchyard.apply of the same-size config with one rule changed (ms);
//   * matching: ns per RequestView match with 1 rule vs 2,000 rules (the compiled index);
//   * CLI start: a `switchyard` process (node flags from the entry point's #! line) on a config
//     file with 1 rule and with 2,000 rules, from spawn to the listener answering (ms).
// Throughput through the whole proxy is measured by run.sh beside this file (wrk, interleaved).
// Not part of the tests. Needs `npm run build` first.
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { SWITCHYARD_MAIN, launcherFlags } from '../launcher.mjs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = new URL('../../dist/src/', import.meta.url);
const { Switchyard } = await import(new URL('control/switchyard.js', dist));
const { silentLogger } = await import(new URL('observability/logger.js', dist));
const { createMatcher } = await import(new URL('router/matcher.js', dist));
const { RequestView } = await import(new URL('router/request-view.js', dist));

/** A config with `hosts` exact-host rules and `paths` path-prefix rules (plus the default). */
export function bigConfig(hosts, paths, port = 0, backends = ['127.0.0.1:19001']) {
  const rules = [];
  let p = 1;
  for (let i = 0; i < hosts; i++) rules.push({ priority: p++, match: { host: [`h${i}.example.com`] }, fixedResponse: { statusCode: 200, body: `host ${i}` } });
  for (let i = 0; i < paths; i++) rules.push({ priority: p++, match: { path: [`/p${i}/*`] }, fixedResponse: { statusCode: 200, body: `path ${i}` } });
  return {
    admin: { host: '127.0.0.1', port: 0 },
    accessLog: { path: 'off' },
    listeners: [{ name: 'bench', protocol: 'HTTP', host: '127.0.0.1', port, rules, defaultAction: { forward: { targetGroup: 'backends' } } }],
    targetGroups: [{ name: 'backends', healthCheck: { enabled: false }, targets: backends.map((b) => ({ host: b.split(':')[0], port: Number(b.split(':')[1]) })) }],
  };
}

/** A free loopback port (bound, then released). */
function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Spawns the CLI on `file` and resolves with the ms until `port` accepts a connection. */
async function cliStart(file, port) {
  const main = SWITCHYARD_MAIN;
  const flags = launcherFlags(main);
  const t0 = performance.now();
  const child = spawn(process.execPath, [...flags, main, '--config', file], { stdio: 'ignore', env: { ...process.env, SWITCHYARD_LOG_LEVEL: 'warn' } });
  try {
    for (;;) {
      const up = await new Promise((resolve) => {
        const c = connect({ host: '127.0.0.1', port }, () => { c.destroy(); resolve(true); });
        c.on('error', () => resolve(false));
      });
      if (up) return performance.now() - t0;
      if (performance.now() - t0 > 10_000) throw new Error('the CLI did not start listening within 10 s');
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--write-config') {
    // Used by run.sh: write a config file for the wrk comparison.
    const [, , , file, hosts, paths, port, backends] = process.argv;
    writeFileSync(file, JSON.stringify(bigConfig(Number(hosts), Number(paths), Number(port), backends.split(','))));
    process.exit(0);
  }
  const starts = [];
  const reloads = [];
  for (let rep = 0; rep < 5; rep++) {
    const t0 = performance.now();
    const sy = await Switchyard.start({ config: bigConfig(1000, 1000), adminPort: null, logger: silentLogger() });
    starts.push(performance.now() - t0);
    for (let r = 0; r < 5; r++) {
      const next = bigConfig(1000, 1000);
      next.listeners[0].rules[r].fixedResponse.body = `changed ${rep}.${r}`;
      const t1 = performance.now();
      const res = await sy.apply(next);
      reloads.push(performance.now() - t1);
      if (!res.ok) throw new Error('reload rejected');
    }
    await sy.close();
  }
  // Matching cost: the compiled index keeps it flat.
  const one = createMatcher([{ priority: 1, match: { path: ['/p0/*'] }, action: 'p0' }], 'default');
  const cfg = bigConfig(1000, 1000).listeners[0];
  const many = createMatcher(cfg.rules.map((r) => ({ priority: r.priority, match: r.match, action: r.priority })), 'default');
  const views = [];
  for (let i = 0; i < 1000; i++) views.push(new RequestView('GET', i % 2 ? `h${i}.example.com` : 'www.example.com', `/p${i}/x`, '', ['Host', 'x'], '127.0.0.1'));
  const time = (m) => {
    for (let i = 0; i < 200000; i++) m.match(views[i % views.length]);
    const t = process.hrtime.bigint();
    const n = 2000000;
    for (let i = 0; i < n; i++) m.match(views[i % views.length]);
    return Number(process.hrtime.bigint() - t) / n;
  };
  console.log(`startup with 2,000 rules: median ${median(starts).toFixed(1)} ms (of ${starts.length}; includes binding the listener)`);
  console.log(`reload with 2,000 rules:  median ${median(reloads).toFixed(1)} ms, max ${Math.max(...reloads).toFixed(1)} ms (of ${reloads.length})`);
  console.log(`match, 1 rule:            ${time(one).toFixed(0)} ns/request`);
  console.log(`match, 2,000 rules:       ${time(many).toFixed(0)} ns/request`);
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-rules-'));
  try {
    for (const [label, hosts, paths] of [['1 rule', 0, 1], ['2,000 rules', 1000, 1000]]) {
      const times = [];
      for (let i = 0; i < 7; i++) {
        const port = await freePort();
        const file = join(dir, `cfg-${i}.json`);
        writeFileSync(file, JSON.stringify(bigConfig(hosts, paths, port)));
        times.push(await cliStart(file, port));
      }
      console.log(`CLI start, ${label.padEnd(12)} median ${median(times).toFixed(0)} ms, min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)} (of ${times.length}; spawn to listening)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}
