// bench/stress/common.mjs — helpers for the stress scripts: start Switchyard as a child process
// on a generated config, a tiny HTTP target, RSS of a process, percentiles.
import http from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SWITCHYARD_MAIN, launcherFlags } from '../launcher.mjs';

const MAIN = SWITCHYARD_MAIN;
const FLAGS = launcherFlags();

export function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

/** A node:http target answering every request with 200 "ok" (keep-alive). */
export function startTarget() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port })));
}

/** Starts `switchyard --config` on a JSON config; resolves with the process and the listener port. */
export function startSwitchyard(config) {
  const dir = mkdtempSync(join(tmpdir(), 'sy-stress-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  const proc = spawn(process.execPath, [...FLAGS, MAIN, '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SWITCHYARD_LOG_LEVEL: 'warn' },
  });
  let out = '';
  proc.stderr.on('data', (d) => process.stderr.write(d));
  return new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      out += d.toString();
      const m = /listening http [^\s:]+:(\d+)/.exec(out);
      if (m) {
        rmSync(dir, { recursive: true, force: true }); // read at start only
        resolve({ proc, port: Number(m[1]) });
      }
    });
    proc.on('exit', (code) => reject(new Error(`switchyard exited ${code}: ${out}`)));
  });
}

/** Resident set size of a process, bytes (Linux /proc). */
export function rssOf(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Open file descriptors of a process (Linux /proc). */
export function fdLimitOf(pid) {
  const m = /Max open files\s+(\d+)\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return m ? { soft: Number(m[1]), hard: Number(m[2]) } : null;
}

export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One GET on a fresh connection; resolves { ok, ms }. */
export function probe(port, timeoutMs = 2000) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/probe', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ok: res.statusCode === 200, ms: performance.now() - t0 }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ ok: false, ms: performance.now() - t0 }));
  });
}
