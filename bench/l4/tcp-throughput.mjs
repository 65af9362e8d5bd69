#!/usr/bin/env node
// bench/l4/tcp-throughput.mjs — MB/s of one bulk TCP transfer on 127.0.0.1, three ways:
//   direct       client → target
//   node-pipe    client → a bare Node `net` relay (c.pipe(u); u.pipe(c)) → target
//   switchyard   client → Switchyard TCP listener → target
// in both directions (upload: the target discards and acknowledges at the end; download: the
// target sends). The client and the target share the driver process and each relay runs in its
// own (two processes busy at a time, for a 2-core machine); runs are interleaved and the median
// over reps is printed. Not part of the tests. Needs `npm run build` first.
//
//   node bench/l4/tcp-throughput.mjs                 # 2 GiB per run, 3 reps
//   node bench/l4/tcp-throughput.mjs --mib 512 --reps 1
//   Each run also stops after --seconds (default 10) and reports what it moved by then.
import net from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';

const SELF = fileURLToPath(import.meta.url);
const CHUNK = Buffer.alloc(256 * 1024, 0x61);

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

// ---- roles run in child processes ----------------------------------------------------------

/** Target: `U` + FIN → reads until FIN and answers with the byte count; `D<n>\n` → sends n bytes. */
function startTarget() {
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
    s.on('error', () => {});
    let mode = '';
    let header = '';
    let got = 0;
    s.on('data', (c) => {
      if (mode === '') {
        header += c.toString('latin1', 0, Math.min(c.length, 32));
        mode = header[0];
        if (mode === 'U') got += c.length - 1;
        if (mode === 'D') {
          const n = Number(header.slice(1, header.indexOf('\n')));
          let sent = 0;
          const pump = () => {
            while (sent < n) {
              const k = Math.min(CHUNK.length, n - sent);
              sent += k;
              if (!s.write(k === CHUNK.length ? CHUNK : CHUNK.subarray(0, k))) return;
            }
            s.off('drain', pump);
            s.end();
          };
          s.on('drain', pump);
          pump();
        }
        return;
      }
      if (mode === 'U') got += c.length;
    });
    s.on('end', () => {
      if (mode === 'U') s.end(`${got}\n`);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, kill: () => server.close() })));
}

function runNodePipe(target) {
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (c) => {
    const u = net.connect({ host: '127.0.0.1', port: target, allowHalfOpen: true, noDelay: true });
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
    c.pipe(u);
    u.pipe(c);
  });
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
}

async function runSwitchyard(target) {
  const { Switchyard } = await import(new URL('../../dist/src/control/switchyard.js', import.meta.url).href);
  const { silentLogger } = await import(new URL('../../dist/src/observability/logger.js', import.meta.url).href);
  const sy = await Switchyard.start({
    config: {
      listeners: [{ name: 'l4', protocol: 'TCP', host: '127.0.0.1', port: 0, defaultAction: { forward: { targetGroup: 'g' } } }],
      targetGroups: [{ name: 'g', protocol: 'TCP', targets: [{ host: '127.0.0.1', port: target }], healthCheck: { enabled: false } }],
    },
    adminPort: null,
    accessLogPath: 'off',
    logger: silentLogger(),
  });
  console.log(JSON.stringify({ port: sy.listeners.get('l4').port }));
}

// ---- the driver ----------------------------------------------------------------------------

const children = new Set();
// However the driver ends, its relay processes end with it.
process.on('exit', () => {
  for (const p of children) p.kill();
});

function child(role, ...extra) {
  const p = spawn(process.execPath, [SELF, '--role', role, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(p);
  p.once('exit', () => children.delete(p));
  return new Promise((resolve, reject) => {
    let buf = '';
    p.stdout.on('data', (c) => {
      buf += c;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve({ port: JSON.parse(buf.slice(0, nl)).port, kill: () => p.kill() });
    });
    p.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

async function upload(port, bytes, deadlineMs) {
  const s = net.connect({ host: '127.0.0.1', port, noDelay: true, allowHalfOpen: true });
  await once(s, 'connect');
  const t0 = process.hrtime.bigint();
  const stopAt = Date.now() + deadlineMs;
  s.write('U');
  let sent = 0;
  await new Promise((resolve) => {
    const pump = () => {
      while (sent < bytes && Date.now() < stopAt) {
        sent += CHUNK.length;
        if (!s.write(CHUNK)) return;
      }
      s.off('drain', pump);
      resolve();
    };
    s.on('drain', pump);
    pump();
  });
  s.end();
  let answer = '';
  s.on('data', (c) => (answer += c));
  await once(s, 'end');
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const got = Number(answer.trim());
  if (got !== sent) throw new Error(`upload: target got ${got} of ${sent} bytes`);
  s.destroy();
  return got / secs / 1e6;
}

async function download(port, bytes, deadlineMs) {
  const s = net.connect({ host: '127.0.0.1', port, noDelay: true });
  await once(s, 'connect');
  const t0 = process.hrtime.bigint();
  const stopAt = Date.now() + deadlineMs;
  let got = 0;
  s.write(`D${bytes}\n`);
  await new Promise((resolve) => {
    s.on('data', (c) => {
      got += c.length;
      if (Date.now() > stopAt) {
        s.destroy();
        resolve();
      }
    });
    s.on('end', resolve);
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  s.destroy();
  return got / secs / 1e6;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const bytes = Number(arg('mib', '2048')) * 1024 * 1024;
  const reps = Number(arg('reps', '3'));
  const deadlineMs = Number(arg('seconds', '10')) * 1000;
  const target = await startTarget();
  const pipe = await child('node-pipe', '--target', String(target.port));
  const sy = await child('switchyard', '--target', String(target.port));
  const ways = { direct: target.port, 'node-pipe': pipe.port, switchyard: sy.port };
  const results = {};
  try {
    // Warm-up: JIT and socket buffers.
    for (const port of Object.values(ways)) await upload(port, 64 * 1024 * 1024, deadlineMs);
    for (let r = 0; r < reps; r++) {
      for (const [name, port] of Object.entries(ways)) {
        (results[`${name} upload`] ??= []).push(await upload(port, bytes, deadlineMs));
        (results[`${name} download`] ??= []).push(await download(port, bytes, deadlineMs));
      }
    }
  } finally {
    target.kill();
    pipe.kill();
    sy.kill();
  }
  console.log(`TCP throughput on 127.0.0.1, ${bytes / 1024 / 1024} MiB per run, median of ${reps} (MB/s = 10^6 bytes/s)`);
  console.log('| path | upload MB/s | download MB/s |');
  console.log('|---|---:|---:|');
  for (const name of Object.keys(ways)) {
    console.log(`| ${name} | ${median(results[`${name} upload`]).toFixed(0)} | ${median(results[`${name} download`]).toFixed(0)} |`);
  }
}

const role = arg('role', '');
if (role === 'node-pipe') runNodePipe(Number(arg('target')));
else if (role === 'switchyard') await runSwitchyard(Number(arg('target')));
else await main();
