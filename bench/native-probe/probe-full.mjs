// Driver for the native design probe in "full" mode (see probe.cc): the bytes stay in C++, and
// per request JavaScript does what Switchyard's TypeScript does with a parsed head — the
// request classifier, Host checks, path normalisation, the compiled matcher, the weighted group
// draw, the balancer's pick and outstanding counts, the forwarded head (hop-by-hop removal,
// X-Forwarded-*, X-Request-Id, header rules) and the client's response head — using the
// modules in dist/ (run `npm run build` first). Not done here: access log, metrics cells,
// timers, the per-request ClientRequest object. A bench peer: env PORT, BACKENDS.
import net from 'node:net';
import { createRequire } from 'node:module';
import { Switchyard } from '../../dist/src/control/switchyard.js';
import { silentLogger } from '../../dist/src/observability/logger.js';
import { classifyRequest, COMPLIANT } from '../../dist/src/proxy/framing.js';
import { normalizePath, splitTarget } from '../../dist/src/router/path-normalize.js';
import { RequestView } from '../../dist/src/router/request-view.js';
import { chooseTargetGroup } from '../../dist/src/actions/choose-target-group.js';
import { buildRequestHead, buildResponseHead, countForwardedFor, responseFraming } from '../../dist/src/proxy/headers.js';

const native = createRequire(import.meta.url)('./build/Release/probe.node');
const PORT = Number(process.env.PORT || 19095);
const BACKENDS = (process.env.BACKENDS || '127.0.0.1:19001,127.0.0.1:19002').split(',');

const config = {
  settings: { workers: 1, shutdownTimeoutSeconds: 2 },
  accessLog: { path: 'off' },
  listeners: [{ name: 'bench', protocol: 'HTTP', host: '127.0.0.1', port: 0, defaultAction: { forward: { targetGroup: 'backends' } } }],
  targetGroups: [{
    name: 'backends', algorithm: 'round_robin', healthCheck: { enabled: false },
    targets: BACKENDS.map((b) => ({ host: b.split(':')[0], port: Number(b.split(':')[1]) })),
  }],
};
const sy = await Switchyard.start({ config, logger: silentLogger(), adminPort: null });
const listener = sy.runtime.listeners.get('bench');
const settings = listener.settings;
const targetIndex = new Map(BACKENDS.map((b, i) => [b, i]));
const slot = new Int32Array(1);
const portText = String(PORT);
const VALID_HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::\d{0,5})?$/;
let inFlight = [];

function onRequest(method, url, minor, raw) {
  if (classifyRequest(method, 1, minor, url, raw) !== COMPLIANT) return null;
  let host;
  let contentLength = -1;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i];
    if (n.length === 4 && n.toLowerCase() === 'host') { if (host !== undefined) return null; host = raw[i + 1]; }
    else if (n.length === 14 && n.toLowerCase() === 'content-length') contentLength = Number(raw[i + 1]);
  }
  if (host === undefined || !VALID_HOST.test(host)) return null;
  const split = splitTarget(url);
  if (split === null) return null;
  const path = normalizePath(split.path, settings.mergeSlashes);
  if (path === null || countForwardedFor(raw) > 30) return null;
  const view = new RequestView(method, host, path, split.query, raw, '127.0.0.1');
  const action = listener.matcher.match(view).action;
  if (action.kind !== 'forward') return null;
  const group = chooseTargetGroup(action);
  const target = group.pick(null, '');
  if (target === undefined) return null;
  group.requestStarted(target);
  inFlight.push(group, target);
  const { head } = buildRequestHead({
    method, target: split.query === '' ? path : path + '?' + split.query, rawHeaders: raw, clientIp: '127.0.0.1',
    listenerProto: 'http', listenerPort: portText, xForwardedFor: settings.xForwardedFor, preserveHost: settings.preserveHostHeader,
    targetAuthority: target.id, rules: action.headerRules, framing: contentLength >= 0 ? contentLength : null,
    websocket: false, extra: '', reserved: null,
  });
  slot[0] = targetIndex.get(target.id) ?? -1;
  return head;
}

function onResponse(status, message, raw) {
  // Outstanding counts: the probe does not track which connection answered, so it ends the
  // oldest request (the same work, not the same bookkeeping).
  if (inFlight.length >= 2) { inFlight[0].requestEnded(inFlight[1]); inFlight = inFlight.slice(2); }
  const f = responseFraming(raw);
  const framing = f.contentLength >= 0 && !f.chunked ? 'content-length: ' + f.contentLength + '\r\n' : 'transfer-encoding: chunked\r\n';
  return buildResponseHead(status, message, raw, framing, '', false);
}

native.init(onRequest, onResponse, BACKENDS, slot);
const server = net.createServer({ pauseOnConnect: true }, (socket) => {
  const fd = native.dup(socket._handle.fd);
  socket.destroy();
  native.adopt(fd);
});
server.listen({ port: PORT, host: '127.0.0.1', backlog: 4096 }, () => {
  console.error(`[native-probe-full] pid ${process.pid} listening on 127.0.0.1:${PORT} -> ${BACKENDS.join(',')}`);
});
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
