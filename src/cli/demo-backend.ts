/**
 * `switchyard demo-backend --port N [--name NAME]`: a tiny HTTP target for trying things out.
 *
 * Owns: answering every path with JSON describing the request it received
 * ({name, method, path, query, headers, bodyLength}); `/health` answers 200.
 */
import http from 'node:http';

export interface DemoBackend {
  readonly name: string;
  readonly port: number;
  close(): Promise<void>;
}

export function startDemoBackend(port: number, name: string, host = '127.0.0.1'): Promise<DemoBackend> {
  const server = http.createServer((req, res) => {
    let bodyLength = 0;
    req.on('data', (c: Buffer) => (bodyLength += c.length));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://backend');
      if (url.pathname === '/health') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('ok\n');
        return;
      }
      const body = JSON.stringify({
        name,
        method: req.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        bodyLength,
      }, null, 2) + '\n';
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
    req.on('error', () => res.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => {
      const a = server.address();
      resolve({
        name,
        port: a !== null && typeof a === 'object' ? a.port : port,
        close: () => new Promise((r) => {
          server.close(() => r());
          server.closeAllConnections();
        }),
      });
    });
  });
}
