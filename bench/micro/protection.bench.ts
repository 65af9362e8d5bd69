/**
 * Micro-benchmark: nanoseconds per call of the per-request hardening work — the desync
 * classifier on a typical browser request (11 header fields) and on a short API request, the
 * rate limiter's take for a known key, the IP filter, and a WAF with a few rules plus the
 * built-in set on an ordinary request.
 * Not a test. Run: `npx tsc -p . && node dist/bench/micro/protection.bench.js [iterations]`
 * (default 1,000,000 per row).
 *
 * Owns: timing only (process.hrtime.bigint around a tight loop, after a warm-up). Results vary
 * by machine; compare commits on the same machine.
 */
import { classifyRequest } from '../../src/proxy/framing.js';
import { RateLimiter } from '../../src/protection/rate-limit.js';
import { IpFilter } from '../../src/protection/ip-filter.js';
import { CompiledWaf } from '../../src/protection/waf.js';
import { RequestView } from '../../src/router/request-view.js';
import { parseIp } from '../../src/util/cidr.js';

const N = Number(process.argv[2] ?? 1_000_000);

const BROWSER = [
  'Host', 'www.example.com',
  'User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  'Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'Accept-Language', 'en-US,en;q=0.9',
  'Accept-Encoding', 'gzip, deflate, br',
  'Cookie', 'a=b; c=d; session=0123456789abcdef0123456789abcdef',
  'Connection', 'keep-alive',
  'Cache-Control', 'max-age=0',
  'Referer', 'https://www.example.com/products?page=2',
  'If-Modified-Since', 'Tue, 01 Jan 2030 00:00:00 GMT',
  'X-Forwarded-For', '203.0.113.7',
];
const API = ['Host', 'api.example.com', 'Content-Type', 'application/json', 'Content-Length', '42', 'Authorization', 'Bearer abc.def.ghi'];

function time(name: string, fn: () => unknown): void {
  for (let i = 0; i < Math.min(N, 100_000); i++) fn();
  const t0 = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < N; i++) if (fn()) sink++;
  const ns = Number(process.hrtime.bigint() - t0) / N;
  console.log(`${name.padEnd(48)} ${ns.toFixed(0).padStart(6)} ns${sink < 0 ? '' : ''}`);
}

time('classifyRequest, browser GET (11 fields)', () => classifyRequest('GET', 1, 1, '/products/42?ref=home', BROWSER));
time('classifyRequest, API POST (4 fields)', () => classifyRequest('POST', 1, 1, '/v1/orders', API));
const rl = new RateLimiter({ requestsPerSecond: 1e9, burst: 1e9, key: 'sourceIp' });
time('RateLimiter.takeFor (known address)', () => rl.takeFor('203.0.113.7', BROWSER) === 0);
const ipf = new IpFilter(['10.0.0.0/8', '192.168.0.0/16'], ['10.9.0.0/16']);
const ip = parseIp('10.1.2.3');
time('IpFilter.test', () => ipf.test(ip));
const waf = new CompiledWaf({
  builtin: true,
  mode: 'block',
  inspectBodyBytes: 0,
  rules: [
    { name: 'a', match: {}, path: ['^/wp-(admin|login)'], query: [], header: {}, body: [], caseSensitive: false, action: 'block' },
    { name: 'b', match: {}, path: [], query: [], header: { 'User-Agent': ['sqlmap', 'nikto'] }, body: [], caseSensitive: false, action: 'block' },
  ],
});
time('CompiledWaf.inspectHead, 2 rules + built-ins', () => waf.inspectHead(new RequestView('GET', 'www.example.com', '/products/42', 'ref=home&page=2', BROWSER, '203.0.113.7'), false, null, -1, '') === null);
