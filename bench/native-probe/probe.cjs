'use strict';
// Driver for the native design probe (see probe.cc): a bench peer for ../shared/bench/run-peers.sh
// (`--add 'native-probe|PORT|node bench/native-probe/probe.cjs'`). Env: PORT, BACKENDS.
// JavaScript keeps the decisions: a host table with path prefixes picks a target group and a
// round-robin target per request, and the response status is counted, as metrics would be.
const net = require('node:net');
const path = require('node:path');
const native = require(path.join(__dirname, 'build/Release/probe.node'));

const PORT = Number(process.env.PORT || 19095);
const BACKENDS = (process.env.BACKENDS || '127.0.0.1:19001,127.0.0.1:19002').split(',');

// Routes: host -> [{prefix, group}], group = list of target indexes (round robin).
const groups = [{ targets: BACKENDS.map((_, i) => i), next: 0 }];
const routes = new Map([['127.0.0.1:' + PORT, [{ prefix: '/', group: 0 }]]]);
const fallback = [{ prefix: '/', group: 0 }];
const statusCounts = new Float64Array(600);
let requests = 0;

function onRequest(method, target, host) {
  requests++;
  const list = routes.get(host) ?? fallback;
  for (let i = 0; i < list.length; i++) {
    const r = list[i];
    if (target.startsWith(r.prefix)) {
      const g = groups[r.group];
      const t = g.targets[g.next];
      g.next = g.next + 1 === g.targets.length ? 0 : g.next + 1;
      return t;
    }
  }
  return -1;
}
function onResponse(status) { statusCounts[status]++; }

native.init(onRequest, onResponse, BACKENDS);
const server = net.createServer({ pauseOnConnect: true }, (socket) => {
  const fd = native.dup(socket._handle.fd);
  socket.destroy();
  native.adopt(fd);
});
server.listen({ port: PORT, host: '127.0.0.1', backlog: 4096 }, () => {
  console.error(`[native-probe] pid ${process.pid} listening on 127.0.0.1:${PORT} -> ${BACKENDS.join(',')}`);
});
const stop = () => { console.error(`[native-probe] ${requests} requests, 200: ${statusCounts[200]}`); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
