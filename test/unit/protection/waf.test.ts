/**
 * WAF rules and the built-in signatures (src/protection/waf.ts, builtin-rules.ts): conditions
 * AND'd, values OR'd, percent-decoding (also double encoding), case, block vs count, the head
 * and body phases, and no false positives on ordinary requests.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledWaf, decodeForInspection, type ProtectionHit, type ProtectionReporter } from '../../../src/protection/waf.js';
import type { ResolvedWaf, ResolvedWafRule } from '../../../src/config/defaults.js';
import { RequestView } from '../../../src/router/request-view.js';

function rule(r: Partial<ResolvedWafRule> & { name: string }): ResolvedWafRule {
  return { match: {}, path: [], query: [], header: {}, body: [], caseSensitive: false, action: 'block', ...r };
}

function waf(rules: ResolvedWafRule[], o: Partial<ResolvedWaf> = {}): CompiledWaf {
  return new CompiledWaf({ rules, builtin: false, mode: 'block', inspectBodyBytes: 8192, ...o });
}

function view(path: string, query = '', headers: string[] = [], method = 'GET'): RequestView {
  return new RequestView(method, 'a.example', path, query, ['Host', 'a.example', ...headers], '10.0.0.1');
}

class Recorder implements ProtectionReporter {
  hits: ProtectionHit[] = [];
  onProtection(_scope: number, hit: ProtectionHit): void {
    this.hits.push(hit);
  }
}

const head = (w: CompiledWaf, v: RequestView, r: ProtectionReporter | null = null) => w.inspectHead(v, false, r, -1, '10.0.0.1');

describe('decodeForInspection', () => {
  it('decodes repeatedly, leniently, and returns the input when there is nothing to do', () => {
    const s = '/plain/path';
    assert.equal(decodeForInspection(s, false), s);
    assert.equal(decodeForInspection('%3Cscript%3E', false), '<script>');
    assert.equal(decodeForInspection('%253Cscript%253E', false), '<script>');
    assert.equal(decodeForInspection('a+b%20c', true), 'a b c');
    assert.equal(decodeForInspection('a+b', false), 'a+b');
    assert.equal(decodeForInspection('100%', false), '100%');
    assert.equal(decodeForInspection('%zz%41', false), '%zzA');
    assert.equal(decodeForInspection('caf%C3%A9', false), 'café');
  });
});

describe('CompiledWaf: configured rules', () => {
  it('keys are ANDed, values ORed; routing conditions work', () => {
    const w = waf([rule({ name: 'r', match: { method: ['POST'] }, path: ['^/admin'], header: { 'User-Agent': ['sqlmap', 'nikto'] } })]);
    assert.equal(head(w, view('/admin/x', '', ['User-Agent', 'Nikto/2.5'], 'POST'))?.name, 'r');
    assert.equal(head(w, view('/admin/x', '', ['User-Agent', 'curl'], 'POST')), null, 'header does not match');
    assert.equal(head(w, view('/admin/x', '', ['User-Agent', 'sqlmap'], 'GET')), null, 'method does not match');
    assert.equal(head(w, view('/public', '', ['User-Agent', 'sqlmap'], 'POST')), null, 'path does not match');
  });

  it('patterns see decoded values; case is ignored unless caseSensitive', () => {
    const w = waf([rule({ name: 'q', query: ['<script'] }), rule({ name: 'p', path: ['/Secret'], caseSensitive: true })]);
    assert.equal(head(w, view('/', 'x=%3CSCRIPT%3E'))?.name, 'q');
    assert.equal(head(w, view('/', 'x=%253Cscript'))?.name, 'q', 'double encoding');
    assert.equal(head(w, view('/secret')), null);
    assert.equal(head(w, view('/Secret'))?.name, 'p');
  });

  it('count rules report and go on; the first block ends evaluation', () => {
    const w = waf([rule({ name: 'c', path: ['x'], action: 'count' }), rule({ name: 'b', path: ['x'] }), rule({ name: 'never', path: ['x'] })]);
    const r = new Recorder();
    assert.equal(head(w, view('/x'), r)?.name, 'b');
    assert.deepEqual(r.hits.map((h) => `${h.name}:${h.action}`), ['c:count', 'b:block']);
    const countOnly = waf([rule({ name: 'c', path: ['x'], action: 'count' })]);
    const r2 = new Recorder();
    assert.equal(head(countOnly, view('/x'), r2), null, 'count never blocks');
    assert.equal(r2.hits.length, 1);
  });

  it('body rules wait for the body when one follows, and see an empty body otherwise', () => {
    const w = waf([rule({ name: 'b', body: ['DROP TABLE'] })]);
    assert.equal(w.needsBody, true);
    assert.equal(w.inspectHead(view('/', '', [], 'POST'), true, null, -1, ''), null, 'deferred');
    assert.equal(w.inspectBody(view('/', '', [], 'POST'), Buffer.from('x=1;drop%20table%20users'), null, -1, '')?.name, 'b');
    assert.equal(w.inspectBody(view('/', '', [], 'POST'), Buffer.from('{"a":1}'), null, -1, ''), null);
    assert.equal(waf([rule({ name: 'b', body: ['x'] })], { inspectBodyBytes: 0 }).needsBody, false);
  });
});

describe('CompiledWaf: built-in rules', () => {
  const w = waf([], { builtin: true });
  const attacks: [string, RequestView][] = [
    ['sqli union', view('/items', "id=1%20UNION%20ALL%20SELECT%20password%20FROM%20users")],
    ['sqli tautology', view('/login', "user=admin'%20or%20'1'='1")],
    ['sqli or 1=1', view('/x', 'id=1 OR 1=1'.replaceAll(' ', '+'))],
    ['sqli comment', view('/x', "user=admin'--")],
    ['sqli stacked', view('/x', 'id=1;DROP TABLE users')],
    ['sqli sleep', view('/x', 'id=1 AND SLEEP(5)')],
    ['sqli catalogue', view('/x', 'q=select * from information_schema.tables')],
    ['xss script', view('/search', 'q=%3Cscript%3Ealert(1)%3C/script%3E')],
    ['xss handler', view('/search', 'q="><img src=x onerror=alert(1)>')],
    ['xss javascript:', view('/r', 'next=javascript:alert(1)')],
    ['xss in the path', view('/%3Cscript%3E')],
    ['xss in Referer', view('/', '', ['Referer', 'http://x/?q=<svg/onload=alert(1)>'])],
    ['traversal', view('/download', 'file=../../etc/passwd')],
    ['traversal encoded twice', view('/download', 'file=%252e%252e%252fetc%252fpasswd')],
    ['traversal windows', view('/download', 'file=..\\..\\windows\\system32\\cmd.exe')],
    ['NUL byte', view('/download', 'file=report.pdf%00.exe')],
    ['sqli in a cookie', view('/', '', ['Cookie', "session=x' OR '1'='1"])],
  ];
  for (const [name, v] of attacks) {
    it(`catches ${name}`, () => assert.ok(head(w, v) !== null));
  }

  const benign: [string, RequestView][] = [
    ['a product page', view('/products/42', 'ref=home&sort=price-asc')],
    ['a search with quotes', view('/search', "q=Bob's+diner+menu")],
    ['an API call', view('/api/v1/users/7/orders', 'limit=50&offset=100')],
    ['typical browser headers', view('/', '', ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36', 'Cookie', 'sid=abc123; theme=dark', 'Referer', 'https://www.example.com/a/b?c=d'])],
    ['a relative-looking value without traversal', view('/files', 'name=v1.2..3')],
    ['an email and a date', view('/signup', 'email=a.b%40example.com&born=1990-01-02')],
    ['select and from as words', view('/blog', 'q=select+the+best+from+our+range')],
  ];
  for (const [name, v] of benign) {
    it(`lets ${name} through`, () => assert.equal(head(w, v), null));
  }

  it('inspects the body prefix', () => {
    assert.ok(w.inspectBody(view('/', '', [], 'POST'), Buffer.from('comment=%3Cscript%3Ealert(1)%3C%2Fscript%3E'), null, -1, '') !== null);
    assert.equal(w.inspectBody(view('/', '', [], 'POST'), Buffer.from('{"name":"widget","price":10}'), null, -1, ''), null);
  });

  it('costs little on hostile input (no catastrophic backtracking)', () => {
    const evil = view('/x', 'q=' + '<a'.repeat(4000) + '%27'.repeat(2000) + ' or'.repeat(2000));
    const t0 = performance.now();
    head(w, evil);
    w.inspectBody(view('/', '', [], 'POST'), Buffer.from('<a '.repeat(3000)), null, -1, '');
    assert.ok(performance.now() - t0 < 500, `took ${(performance.now() - t0).toFixed(0)} ms`);
  });
});
