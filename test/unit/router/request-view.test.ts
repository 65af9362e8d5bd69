import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestView, decodeComponent, matchingHost } from '../../../src/router/request-view.js';

function view(opts: { host?: string; query?: string; headers?: string[]; ip?: string } = {}): RequestView {
  return new RequestView('GET', opts.host ?? 'example.com', '/p', opts.query ?? '', opts.headers ?? [], opts.ip ?? '127.0.0.1');
}

describe('RequestView', () => {
  it('keeps method, path, query and source IP as given', () => {
    const v = new RequestView('PATCH', 'Example.com', '/a/b', 'x=1', [], '10.0.0.1');
    assert.equal(v.method, 'PATCH');
    assert.equal(v.path, '/a/b');
    assert.equal(v.query, 'x=1');
    assert.equal(v.sourceIp, '10.0.0.1');
    assert.equal(v.rawHost, 'Example.com');
  });

  describe('host', () => {
    const cases: readonly (readonly [string, string])[] = [
      ['example.com', 'example.com'],
      ['API.Example.COM', 'api.example.com'],
      ['example.com:8080', 'example.com'],
      ['example.com.', 'example.com'],
      ['Example.com.:443', 'example.com'],
      ['example.com..', 'example.com.'],
      ['[::1]:8080', '[::1]'],
      ['[2001:DB8::1]', '[2001:db8::1]'],
      ['[::1', '[::1'],
      ['10.0.0.1:80', '10.0.0.1'],
      ['', ''],
      [':80', ''],
    ];
    for (const [raw, host] of cases) {
      it(`${JSON.stringify(raw)} → ${JSON.stringify(host)}`, () => {
        assert.equal(view({ host: raw }).host, host);
        assert.equal(matchingHost(raw), host);
      });
    }
    it('is computed once', () => {
      const v = view({ host: 'A.example.com:1' });
      assert.equal(v.host, v.host);
    });
  });

  describe('headerValues', () => {
    const headers = ['Host', 'h', 'X-Env', 'a, b', 'x-env', 'c', 'Other', 'z', 'X-ENV', ''];
    it('returns every value of the header, names case-insensitive, comma values whole', () => {
      const v = view({ headers });
      assert.deepEqual(v.headerValues('x-env'), ['a, b', 'c', '']);
      assert.deepEqual(v.headerValues('other'), ['z']);
      assert.deepEqual(v.headerValues('missing'), []);
    });
    it('caches per name', () => {
      const v = view({ headers });
      assert.equal(v.headerValues('x-env'), v.headerValues('x-env'));
    });
    it('tolerates an odd-length raw header array', () => {
      assert.deepEqual(view({ headers: ['X-A', '1', 'X-A'] }).headerValues('x-a'), ['1']);
    });
  });

  describe('queryPairs', () => {
    it('parses and decodes keys and values', () => {
      const v = view({ query: 'a=1&b=x+y&c=%41%20B&d&=e&f=&g=1=2&&h=%E2%9C%93' });
      assert.deepEqual(v.queryPairs(), [
        { key: 'a', value: '1' },
        { key: 'b', value: 'x y' },
        { key: 'c', value: 'A B' },
        { key: 'd', value: '' },
        { key: '', value: 'e' },
        { key: 'f', value: '' },
        { key: 'g', value: '1=2' },
        { key: 'h', value: '\u2713' },
      ]);
    });
    it('keeps malformed escapes as they are and decodes the rest', () => {
      assert.deepEqual(view({ query: 'a=%zz%41&b=100%&c=%E2%9C' }).queryPairs(), [
        { key: 'a', value: '%zzA' },
        { key: 'b', value: '100%' },
        { key: 'c', value: '\ufffd' },
      ]);
    });
    it('is empty for an empty query and parsed once', () => {
      assert.deepEqual(view().queryPairs(), []);
      const v = view({ query: 'a=1' });
      assert.equal(v.queryPairs(), v.queryPairs());
    });
    it('decodeComponent returns the input when there is nothing to decode', () => {
      const s = 'plain';
      assert.equal(decodeComponent(s), s);
      assert.equal(decodeComponent('a+b%2B'), 'a b+');
    });
  });

  describe('cookie', () => {
    it('parses all Cookie headers, first occurrence wins', () => {
      const v = view({ headers: ['Cookie', 'a=1; b = 2 ;c=x=y', 'COOKIE', 'a=9; d=4', 'Set-Cookie', 'e=5', 'Cookie', 'junk; =v'] });
      assert.equal(v.cookie('a'), '1');
      assert.equal(v.cookie('b'), '2');
      assert.equal(v.cookie('c'), 'x=y');
      assert.equal(v.cookie('d'), '4');
      assert.equal(v.cookie('e'), null, 'Set-Cookie is not a request cookie');
      assert.equal(v.cookie('A'), null, 'names are case-sensitive');
      assert.equal(v.cookie('junk'), null);
    });
    it('keeps values as sent (no unquoting or decoding)', () => {
      const v = view({ headers: ['Cookie', 'q="x y"; p=%41'] });
      assert.equal(v.cookie('q'), '"x y"');
      assert.equal(v.cookie('p'), '%41');
    });
    it('is null without Cookie headers', () => {
      assert.equal(view().cookie('a'), null);
    });
  });

  describe('sourceIpBytes', () => {
    it('parses IPv4, IPv6 and unwraps IPv4-mapped IPv6', () => {
      assert.deepEqual([...view({ ip: '10.1.2.3' }).sourceIpBytes()!], [10, 1, 2, 3]);
      assert.deepEqual([...view({ ip: '::ffff:10.1.2.3' }).sourceIpBytes()!], [10, 1, 2, 3]);
      assert.equal(view({ ip: '2001:db8::1' }).sourceIpBytes()!.length, 16);
    });
    it('is null for garbage, and parsed once', () => {
      const v = view({ ip: 'nope' });
      assert.equal(v.sourceIpBytes(), null);
      assert.equal(v.sourceIpBytes(), null);
      const w = view({ ip: '10.0.0.1' });
      assert.equal(w.sourceIpBytes(), w.sourceIpBytes());
    });
  });
});
