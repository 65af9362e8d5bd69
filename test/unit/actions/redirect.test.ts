import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRedirect, encodeUnsafe, redirectTemplateErrors, type RedirectContext } from '../../../src/actions/redirect.js';
import type { RedirectConfig } from '../../../src/config/types.js';
import { normalizePath, splitTarget } from '../../../src/router/path-normalize.js';

const CTX: RedirectContext = { protocol: 'http', host: 'example.com', port: '8080', path: '/old/a/b', query: 'x=1&y=2' };

function render(cfg: Partial<RedirectConfig>, ctx: Partial<RedirectContext> = {}): string {
  return compileRedirect({ statusCode: 301, ...cfg }).render({ ...CTX, ...ctx }).location;
}

describe('compileRedirect', () => {
  it('keeps every field of the request by default', () => {
    assert.equal(render({}), 'http://example.com:8080/old/a/b?x=1&y=2');
  });

  it('renders the SPEC example', () => {
    const r = compileRedirect({
      protocol: 'HTTPS',
      port: '443',
      host: '#{host}',
      path: '/new/#{path}',
      query: '#{query}',
      statusCode: 301,
    });
    assert.deepEqual(r.render(CTX), { statusCode: 301, location: 'https://example.com/new/old/a/b?x=1&y=2' });
    assert.equal(r.statusCode, 301);
  });

  it('omits the default port of the output protocol only', () => {
    assert.equal(render({}, { port: '80' }), 'http://example.com/old/a/b?x=1&y=2');
    assert.equal(render({ protocol: 'HTTPS' }, { port: '80' }), 'https://example.com:80/old/a/b?x=1&y=2');
    assert.equal(render({ protocol: 'HTTPS', port: '443' }), 'https://example.com/old/a/b?x=1&y=2');
    assert.equal(render({ protocol: 'https', port: 8443 }), 'https://example.com:8443/old/a/b?x=1&y=2');
    assert.equal(render({ protocol: '#{protocol}' }, { protocol: 'https', port: '443' }), 'https://example.com/old/a/b?x=1&y=2');
  });

  it('omits ? when the query is empty', () => {
    assert.equal(render({}, { query: '' }), 'http://example.com:8080/old/a/b');
    assert.equal(render({ query: '' }), 'http://example.com:8080/old/a/b');
  });

  it('#{path} has no leading slash, and the output path always has one', () => {
    assert.equal(render({ path: '/#{path}' }, { path: '/' }), 'http://example.com:8080/?x=1&y=2');
    assert.equal(render({ path: '#{path}' }), 'http://example.com:8080/old/a/b?x=1&y=2');
    assert.equal(render({ path: '/v2/#{path}.html' }), 'http://example.com:8080/v2/old/a/b.html?x=1&y=2');
  });

  it('placeholders work in any field', () => {
    assert.equal(
      render({ host: 'www.#{host}', query: 'from=#{host}:#{port}/#{path}&#{query}', port: '#{port}' }),
      'http://www.example.com:8080/old/a/b?from=example.com:8080/old/a/b&x=1&y=2',
    );
  });

  it('keeps IPv6 literal hosts bracketed', () => {
    assert.equal(render({}, { host: '[::1]' }), 'http://[::1]:8080/old/a/b?x=1&y=2');
  });

  it('supports every redirect status', () => {
    for (const statusCode of [301, 302, 303, 307, 308] as const) {
      assert.equal(compileRedirect({ statusCode }).render(CTX).statusCode, statusCode);
    }
  });

  describe('Location is safe against header injection', () => {
    it('a path with encoded CR LF never reaches the redirect: normalisation rejects it', () => {
      const target = splitTarget('/old/%0D%0ASet-Cookie:%20a=b')!;
      assert.equal(normalizePath(target.path), null);
    });

    it('raw CR, LF, NUL and other CTLs from any field are percent-encoded', () => {
      const location = render(
        { path: '/#{path}' },
        { host: 'evil\r\nX: y', path: '/a\r\nSet-Cookie: s=1\u0000\u0007', query: 'q=\n\r\t' },
      );
      assert.doesNotMatch(location, /[\u0000-\u0020\u007f-\uffff]/);
      assert.equal(location, 'http://evil%0D%0AX:%20y:8080/a%0D%0ASet-Cookie:%20s=1%00%07?q=%0A%0D%09');
    });

    it('an already encoded CR LF in the query stays inert text', () => {
      const location = render({}, { query: 'a=%0D%0A' });
      assert.equal(location, 'http://example.com:8080/old/a/b?a=%0D%0A');
    });

    it('non-ASCII is percent-encoded: Latin-1 as its byte, the rest as UTF-8', () => {
      assert.equal(render({ path: '/caf\u00e9/\u2713' }, { query: '' }), 'http://example.com:8080/caf%E9/%E2%9C%93');
      assert.equal(encodeUnsafe('\u{1F600}', ''), '%F0%9F%98%80');
      assert.equal(encodeUnsafe('\ud800x', ''), '%EF%BF%BDx');
    });

    it('a hostile Host cannot change the URL structure', () => {
      assert.equal(render({}, { host: 'evil.com/@good.com?#' }), 'http://evil.com%2F%40good.com%3F%23:8080/old/a/b?x=1&y=2');
    });

    it('encodeUnsafe returns the input itself when it is clean', () => {
      const s = '/clean/path';
      assert.equal(encodeUnsafe(s, '?#'), s);
    });
  });

  describe('errors', () => {
    const cases: readonly (readonly [Partial<RedirectConfig>, RegExp])[] = [
      [{ host: '#{hots}' }, /unknown placeholder #\{hots\}/],
      [{ path: '/#{path' }, /unterminated/],
      [{ protocol: 'ftp' }, /redirect.protocol/],
      [{ protocol: '#{host}' }, /redirect.protocol/],
      [{ port: '99999' }, /redirect.port/],
      [{ port: 'abc' }, /redirect.port/],
      [{ statusCode: 200 as 301 }, /statusCode/],
    ];
    for (const [cfg, message] of cases) {
      it(`rejects ${JSON.stringify(cfg)}`, () => {
        const full = { statusCode: 301 as const, ...cfg };
        assert.match(redirectTemplateErrors(full).join('\n'), message);
        assert.throws(() => compileRedirect(full), message);
      });
    }
    it('accepts templated ports and the defaults', () => {
      assert.deepEqual(redirectTemplateErrors({ statusCode: 302 }), []);
      assert.deepEqual(redirectTemplateErrors({ statusCode: 302, port: '#{port}', protocol: 'http' }), []);
    });
  });
});
