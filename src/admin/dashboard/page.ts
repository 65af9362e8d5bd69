/**
 * The dashboard page (GET / on the admin server): one self-contained HTML document, inline CSS
 * and JS, no external resources (the admin port is often on a machine without internet).
 *
 * Owns: the markup, and the script that polls GET /api/v1/stats every second and renders
 * request rate (with a two-minute sparkline), status classes, latency percentiles and target
 * health. The page itself is served without auth; when the admin API has a token, the data
 * calls need it: on a 401 the page asks for the token and keeps it in sessionStorage. Every
 * value from the server is written with textContent, never as HTML. The Content-Security-Policy
 * allows exactly this script and style (by hash) and same-origin fetches.
 */
import { createHash } from 'node:crypto';

const STYLE = `
:root { --bg:#0f1419; --panel:#171d24; --line:#26303b; --text:#dbe2ea; --dim:#8a97a6;
  --ok:#3fb950; --warn:#d29922; --bad:#f85149; --info:#58a6ff; --c1:#8a97a6; --c2:#3fb950; --c3:#58a6ff; --c4:#d29922; --c5:#f85149; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display: flex; align-items: center; gap: 16px; padding: 14px 24px; border-bottom: 1px solid var(--line); }
header h1 { font-size: 18px; margin: 0; letter-spacing: .3px; }
header .meta { color: var(--dim); font-size: 13px; }
header .live { margin-left: auto; display: flex; align-items: center; gap: 8px; color: var(--dim); font-size: 13px; }
.dot { width: 9px; height: 9px; border-radius: 50%; background: var(--dim); }
.dot.ok { background: var(--ok); } .dot.bad { background: var(--bad); }
main { padding: 20px 24px; display: grid; gap: 20px; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: 1px; color: var(--dim); margin: 0 0 10px; font-weight: 600; }
.grid { display: grid; gap: 16px; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 16px; }
.card .title { display: flex; justify-content: space-between; align-items: baseline; margin-bottom: 10px; }
.card .title b { font-size: 15px; } .card .title span { color: var(--dim); font-size: 12px; font-family: ui-monospace, monospace; }
.big { font-size: 30px; font-weight: 600; font-variant-numeric: tabular-nums; }
.big small { font-size: 13px; color: var(--dim); font-weight: 400; margin-left: 4px; }
canvas { width: 100%; height: 54px; display: block; margin: 6px 0 10px; }
.bar { display: flex; height: 10px; border-radius: 5px; overflow: hidden; background: var(--line); }
.bar div { height: 100%; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin-top: 8px; font-size: 12px; color: var(--dim); font-variant-numeric: tabular-nums; }
.legend i { display: inline-block; width: 8px; height: 8px; border-radius: 2px; margin-right: 5px; }
.stats { display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px; margin-top: 12px; }
.stats div { background: var(--bg); border-radius: 6px; padding: 8px; }
.stats label { display: block; font-size: 11px; color: var(--dim); text-transform: uppercase; letter-spacing: .5px; }
.stats span { font-size: 15px; font-variant-numeric: tabular-nums; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th { white-space: nowrap; text-align: left; color: var(--dim); font-weight: 500; font-size: 11px; text-transform: uppercase; letter-spacing: .5px; padding: 4px 6px; border-bottom: 1px solid var(--line); }
td { padding: 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
td.mono { font-family: ui-monospace, monospace; white-space: nowrap; } td.num { font-variant-numeric: tabular-nums; text-align: right; white-space: nowrap; }
td.reason { color: var(--dim); font-size: 12px; width: 45%; }
.pill { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; border: 1px solid currentColor; }
.s-healthy { color: var(--ok); } .s-unhealthy { color: var(--bad); } .s-initial { color: var(--info); }
.s-draining { color: var(--warn); } .s-unused { color: var(--dim); }
.badge { font-size: 11px; padding: 1px 6px; border-radius: 4px; background: var(--bad); color: #fff; margin-left: 8px; }
.counts { color: var(--dim); font-size: 12px; }
#auth { display: none; background: var(--panel); border: 1px solid var(--warn); border-radius: 8px; padding: 14px 16px; }
#auth.show { display: block; }
#auth input { background: var(--bg); color: var(--text); border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; width: 320px; margin: 0 8px; }
#auth button { background: var(--info); color: #fff; border: 0; border-radius: 6px; padding: 7px 14px; cursor: pointer; }
.empty { color: var(--dim); }
`;

const SCRIPT = `
(function () {
  'use strict';
  var TOKEN_KEY = 'switchyard.adminToken';
  var CLASSES = ['2xx', '3xx', '4xx', '5xx', '1xx', 'none'];
  var COLORS = { '1xx': 'var(--c1)', '2xx': 'var(--c2)', '3xx': 'var(--c3)', '4xx': 'var(--c4)', '5xx': 'var(--c5)', 'none': 'var(--dim)' };
  var HISTORY = 120;
  var history = {};
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fmtRate(v) { return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2); }
  function fmtMs(s) {
    if (s === null || s === undefined) return '–';
    var ms = s * 1000;
    return ms >= 100 ? ms.toFixed(0) + ' ms' : ms >= 1 ? ms.toFixed(1) + ' ms' : ms.toFixed(2) + ' ms';
  }
  function fmtInt(n) { return Number(n).toLocaleString(); }

  function sparkline(canvas, points) {
    var dpr = window.devicePixelRatio || 1;
    var w = canvas.clientWidth, h = canvas.clientHeight;
    canvas.width = w * dpr; canvas.height = h * dpr;
    var ctx = canvas.getContext('2d');
    ctx.scale(dpr, dpr);
    ctx.clearRect(0, 0, w, h);
    if (points.length < 2) return;
    var max = 0;
    for (var i = 0; i < points.length; i++) max = Math.max(max, points[i]);
    if (max === 0) max = 1;
    var step = w / (HISTORY - 1);
    var x0 = w - (points.length - 1) * step;
    ctx.beginPath();
    for (var j = 0; j < points.length; j++) {
      var x = x0 + j * step, y = h - 2 - (points[j] / max) * (h - 6);
      if (j === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    }
    ctx.strokeStyle = '#58a6ff'; ctx.lineWidth = 1.5; ctx.stroke();
    ctx.lineTo(x0 + (points.length - 1) * step, h); ctx.lineTo(x0, h); ctx.closePath();
    ctx.fillStyle = 'rgba(88,166,255,0.12)'; ctx.fill();
  }

  function listenerCard(l) {
    var card = el('div', 'card');
    var title = el('div', 'title');
    title.appendChild(el('b', null, l.name));
    title.appendChild(el('span', null, l.protocol.toLowerCase() + ' ' + l.host + ':' + l.port));
    card.appendChild(title);
    var big = el('div', 'big', fmtRate(l.requestsPerSecond));
    big.appendChild(el('small', null, 'req/s'));
    card.appendChild(big);
    var canvas = el('canvas');
    card.appendChild(canvas);
    var h = history[l.name] || (history[l.name] = []);
    h.push(l.requestsPerSecond);
    if (h.length > HISTORY) h.shift();
    var bar = el('div', 'bar');
    var total = 0;
    CLASSES.forEach(function (c) { total += l.statusClassesPerSecond[c] || 0; });
    var legend = el('div', 'legend');
    CLASSES.forEach(function (c) {
      var rate = l.statusClassesPerSecond[c] || 0;
      var count = l.statusClasses[c] || 0;
      if (total > 0 && rate > 0) {
        var seg = el('div');
        seg.style.width = (100 * rate / total) + '%';
        seg.style.background = COLORS[c];
        bar.appendChild(seg);
      }
      if (count > 0 || c === '2xx' || c === '4xx' || c === '5xx') {
        var item = el('span');
        var sw = el('i');
        sw.style.background = COLORS[c];
        item.appendChild(sw);
        item.appendChild(document.createTextNode(c + ' ' + fmtRate(rate) + '/s · ' + fmtInt(count)));
        legend.appendChild(item);
      }
    });
    card.appendChild(bar);
    card.appendChild(legend);
    var stats = el('div', 'stats');
    [['p50', fmtMs(l.latencySeconds.p50)], ['p90', fmtMs(l.latencySeconds.p90)], ['p99', fmtMs(l.latencySeconds.p99)], ['connections', fmtInt(l.activeConnections)]]
      .forEach(function (p) { var d = el('div'); d.appendChild(el('label', null, p[0])); d.appendChild(el('span', null, p[1])); stats.appendChild(d); });
    card.appendChild(stats);
    var foot = el('div', 'legend', fmtInt(l.requests) + ' requests · ' + fmtInt(l.lbErrors) + ' load-balancer errors · rates and target response times over the last ' + lastWindow.toFixed(0) + ' s');
    card.appendChild(foot);
    requestAnimationFrame(function () { sparkline(canvas, h); });
    return card;
  }

  function groupCard(g) {
    var card = el('div', 'card');
    var title = el('div', 'title');
    var name = el('b', null, g.name);
    if (g.failOpen) name.appendChild(el('span', 'badge', 'fail open'));
    title.appendChild(name);
    title.appendChild(el('span', null, g.algorithm));
    card.appendChild(title);
    card.appendChild(el('div', 'counts', g.healthy + ' healthy · ' + g.unhealthy + ' unhealthy · ' + g.targets.length + ' registered'));
    if (g.targets.length === 0) { card.appendChild(el('p', 'empty', 'no targets')); return card; }
    var table = el('table');
    var head = el('tr');
    ['target', 'state', 'weight', 'in flight', 'reason'].forEach(function (t) { head.appendChild(el('th', null, t)); });
    table.appendChild(head);
    g.targets.forEach(function (t) {
      var tr = el('tr');
      tr.appendChild(el('td', 'mono', t.id));
      var st = el('td');
      st.appendChild(el('span', 'pill s-' + t.state, t.state));
      tr.appendChild(st);
      tr.appendChild(el('td', 'num', t.effectiveWeight !== t.weight && t.state === 'healthy' ? t.effectiveWeight.toFixed(2) + ' / ' + t.weight : t.weight));
      tr.appendChild(el('td', 'num', t.inFlight));
      tr.appendChild(el('td', 'reason', t.reason));
      table.appendChild(tr);
    });
    card.appendChild(table);
    return card;
  }

  var lastWindow = 5;
  function render(s) {
    lastWindow = s.windowSeconds || lastWindow;
    $('gen').textContent = 'config generation ' + s.generation;
    var ls = $('listeners');
    ls.replaceChildren();
    if (s.listeners.length === 0) ls.appendChild(el('p', 'empty', 'no listeners'));
    s.listeners.forEach(function (l) { ls.appendChild(listenerCard(l)); });
    var gs = $('groups');
    gs.replaceChildren();
    if (s.targetGroups.length === 0) gs.appendChild(el('p', 'empty', 'no target groups'));
    s.targetGroups.forEach(function (g) { gs.appendChild(groupCard(g)); });
  }

  function setLive(ok, text) {
    $('dot').className = 'dot ' + (ok ? 'ok' : 'bad');
    $('state').textContent = text;
  }

  var waitingForToken = false;
  function poll() {
    if (waitingForToken) return;
    var headers = {};
    var token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers['Authorization'] = 'Bearer ' + token;
    fetch('api/v1/stats', { headers: headers, cache: 'no-store' }).then(function (r) {
      if (r.status === 401) {
        waitingForToken = true;
        $('auth').className = 'show';
        $('token').focus();
        setLive(false, token ? 'token rejected' : 'token needed');
        return null;
      }
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    }).then(function (s) {
      if (s === null) return;
      render(s);
      setLive(true, 'live · ' + new Date(s.time).toLocaleTimeString());
    }).catch(function (e) { setLive(false, 'unreachable (' + e.message + ')'); });
  }

  $('auth-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token').value);
    $('token').value = '';
    $('auth').className = '';
    waitingForToken = false;
    poll();
  });
  poll();
  setInterval(poll, 1000);
})();
`;

/** The whole page. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchyard</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>Switchyard</h1>
  <span class="meta" id="gen"></span>
  <span class="live"><span class="dot" id="dot"></span><span id="state">connecting…</span></span>
</header>
<main>
  <div id="auth">
    <form id="auth-form">
      This admin API needs its token (<code>admin.token</code>):
      <input id="token" type="password" autocomplete="off" placeholder="Bearer token">
      <button type="submit">Use token</button>
    </form>
  </div>
  <section><h2>Listeners</h2><div class="grid" id="listeners"></div></section>
  <section><h2>Target groups</h2><div class="grid" id="groups"></div></section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;

const sha256 = (s: string): string => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

/** Allows the inline script and style above (by hash), same-origin fetches, nothing else. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
