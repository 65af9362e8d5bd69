/**
 * The admin API (SPEC §6): JSON in, JSON out, on its own port, off the data path.
 *
 * Owns: routing admin requests, bearer-token auth (every endpoint but /healthz when a token is
 * set, and the dashboard page itself, whose data calls need the token), body size limits for
 * admin input, and clear JSON errors. Also serves GET /metrics (Prometheus text) and the
 * dashboard (GET /, with its data at GET /api/v1/stats), and GET /api/v1/workers. Reads live
 * state from the Switchyard instance (on a cluster primary, after pulling the workers' numbers:
 * `refreshLive`); never blocks a data-plane request.
 */
import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Switchyard } from '../control/switchyard.js';
import { parseConfigText } from '../config/load.js';
import { StatsSampler } from './dashboard/stats.js';
import { DASHBOARD_CSP, DASHBOARD_HTML } from './dashboard/page.js';

const MAX_BODY = 4 * 1024 * 1024;

type Reply = { status: number; body: unknown } | { status: number; text: string; contentType: string };

export class AdminServer {
  readonly #sy: Switchyard;
  readonly #host: string;
  readonly #port: number;
  readonly #token: Buffer | null;
  readonly #server: http.Server;
  readonly #stats: StatsSampler;

  constructor(sy: Switchyard, host: string, port: number, token: string) {
    this.#sy = sy;
    this.#host = host;
    this.#port = port;
    this.#token = token === '' ? null : Buffer.from(token);
    this.#stats = new StatsSampler(sy);
    this.#server = http.createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        sy.log.error({ err }, 'admin request failed');
        send(res, 500, { error: 'internal error' });
      });
    });
    this.#server.requestTimeout = 30_000;
    this.#server.headersTimeout = 10_000;
    this.#server.keepAliveTimeout = 5_000;
  }

  get port(): number {
    const a = this.#server.address();
    return a !== null && typeof a === 'object' ? a.port : this.#port;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: this.#host, port: this.#port }, () => {
        this.#server.off('error', reject);
        this.#sy.log.info(`admin http://${this.#host.includes(':') ? `[${this.#host}]` : this.#host}:${this.port}`);
        this.#stats.start();
        resolve();
      });
    });
  }

  close(): Promise<void> {
    this.#stats.stop();
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #authorized(req: http.IncomingMessage): boolean {
    if (this.#token === null) return true;
    const h = req.headers.authorization ?? '';
    if (!h.startsWith('Bearer ')) return false;
    const given = Buffer.from(h.slice(7));
    return given.length === this.#token.length && timingSafeEqual(given, this.#token);
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/healthz') {
      send(res, 200, { status: 'ok', generation: this.#sy.generation });
      return;
    }
    if (path === '/' && (method === 'GET' || method === 'HEAD')) {
      // The page holds no data; its calls to /api/v1/stats carry the token (see page.ts).
      const body = method === 'HEAD' ? '' : DASHBOARD_HTML;
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': Buffer.byteLength(DASHBOARD_HTML),
        'Cache-Control': 'no-store',
        'Content-Security-Policy': DASHBOARD_CSP,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
      });
      res.end(body);
      return;
    }
    if (!this.#authorized(req)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      send(res, 401, { error: 'missing or wrong bearer token (Authorization: Bearer <admin.token>)' });
      return;
    }
    const r = await this.#route(method, path, req);
    if ('text' in r) sendText(res, r.status, r.contentType, r.text);
    else send(res, r.status, r.body);
  }

  async #route(method: string, path: string, req: http.IncomingMessage): Promise<Reply> {
    const sy = this.#sy;
    if (path === '/metrics') {
      if (method !== 'GET') return notAllowed('GET');
      await sy.refreshLive();
      return { status: 200, text: await sy.metrics.render(), contentType: sy.metrics.contentType };
    }
    if (path === '/api/v1/stats') {
      if (method !== 'GET') return notAllowed('GET');
      await sy.refreshLive();
      return { status: 200, body: this.#stats.report() };
    }
    if (path === '/api/v1/status') {
      if (method !== 'GET') return notAllowed('GET');
      // With workers, states come from the primary's checks and inFlight is the workers' sum.
      await sy.refreshLive();
      return { status: 200, body: statusOf(sy) };
    }
    if (path === '/api/v1/workers') {
      if (method !== 'GET') return notAllowed('GET');
      await sy.refreshLive();
      return { status: 200, body: sy.workersReport() };
    }
    if (path === '/api/v1/reload') {
      if (method !== 'POST') return notAllowed('POST');
      if (sy.configFile === undefined) return { status: 409, body: { error: 'started without a config file; use PUT /api/v1/config' } };
      const r = await sy.reload();
      return r.ok ? { status: 200, body: { status: 'reloaded', generation: r.generation } } : { status: 400, body: { error: 'config rejected; the running config stays', errors: r.errors } };
    }
    if (path === '/api/v1/config') {
      if (method === 'GET') return { status: 200, body: sy.runtime.resolved };
      if (method !== 'PUT') return notAllowed('GET, PUT');
      const text = await readBody(req);
      if (text === null) return { status: 413, body: { error: `config body larger than ${MAX_BODY} bytes` } };
      const parsed = parseConfigText(text, 'request body', process.env);
      if (!parsed.ok) {
        sy.metrics.countReload(false);
        return { status: 400, body: { error: 'config rejected; the running config stays', errors: parsed.errors } };
      }
      const r = await sy.apply(parsed.config);
      return r.ok ? { status: 200, body: { status: 'applied', generation: r.generation } } : { status: 400, body: { error: 'config rejected; the running config stays', errors: r.errors } };
    }
    const m = /^\/api\/v1\/target-groups\/([^/]+)\/targets(?:\/([^/]+))?$/.exec(path);
    if (m !== null) {
      const group = sy.groups.get(decodeURIComponent(m[1]!));
      if (!group) return { status: 404, body: { error: `no target group named ${decodeURIComponent(m[1]!)}` } };
      if (m[2] === undefined) {
        if (method !== 'POST') return notAllowed('POST');
        const text = await readBody(req);
        let body: unknown;
        try {
          body = JSON.parse(text ?? '');
        } catch {
          return { status: 400, body: { error: 'expected a JSON body {host, port, weight?}' } };
        }
        const t = body as { host?: unknown; port?: unknown; weight?: unknown };
        if (typeof t.host !== 'string' || t.host === '' || !Number.isInteger(t.port) || (t.port as number) < 1 || (t.port as number) > 65535) {
          return { status: 400, body: { error: 'expected {host: string, port: 1-65535, weight?: 0-999}' } };
        }
        if (t.weight !== undefined && (!Number.isInteger(t.weight) || (t.weight as number) < 0 || (t.weight as number) > 999)) {
          return { status: 400, body: { error: 'weight must be an integer 0-999' } };
        }
        const target = sy.registerTarget(group, t.host, t.port as number, (t.weight as number | undefined) ?? 1);
        return { status: 201, body: { id: target.id, state: target.state } };
      }
      if (method !== 'DELETE') return notAllowed('DELETE');
      const id = decodeURIComponent(m[2]);
      if (!sy.deregisterTarget(group, id)) return { status: 404, body: { error: `target ${id} is not registered in ${group.name}` } };
      return { status: 202, body: { id, state: group.targets.get(id)?.state ?? 'unused' } };
    }
    return { status: 404, body: { error: `no admin endpoint ${method} ${path}` } };
  }
}

function notAllowed(allow: string): Reply {
  return { status: 405, body: { error: `method not allowed; use ${allow}` } };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

function sendText(res: http.ServerResponse, status: number, contentType: string, text: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The /api/v1/status document. */
export function statusOf(sy: Switchyard): unknown {
  return {
    generation: sy.generation,
    listeners: [...sy.listeners.values()].map((l) => ({ name: l.name, protocol: l.listener.protocol, host: l.listener.host, port: l.port })),
    targetGroups: [...sy.groups.values()].map((g) => ({
      name: g.name,
      algorithm: g.spec.algorithm,
      failOpen: g.failOpen,
      targets: [...g.targets.values()].map((t) => ({
        id: t.id,
        host: t.host,
        port: t.port,
        weight: t.configuredWeight,
        state: t.state,
        reason: t.reason,
        inFlight: t.inFlight,
      })),
    })),
  };
}
