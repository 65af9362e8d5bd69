/**
 * Tests for the fixed-response part of src/config/compile.ts and renderLocalReplyVariants:
 * the pre-rendered bytes, their reuse across reloads, and the config check that keeps control
 * characters out of configured header values.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileRuntime, type CompiledFixedResponse, type RuntimeConfig } from '../../../src/config/compile.js';
import { withDefaults } from '../../../src/config/defaults.js';
import { parseConfigText } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/types.js';
import { renderLocalReply, renderLocalReplyVariants } from '../../../src/proxy/local-reply.js';
import { RequestView } from '../../../src/router/request-view.js';

test('the four variants are byte for byte what renderLocalReply renders', () => {
  const cases: [number, string | undefined, string][] = [
    [200, 'text/plain', 'hello'],
    [503, 'application/json', '{"down":true}'],
    [404, 'text/plain', ''],
    [200, undefined, 'no type'],
    [418, 'text/plain; charset=utf-8', 'tea ☕ with UTF-8'],
  ];
  for (const [status, contentType, text] of cases) {
    const body = Buffer.from(text);
    const v = renderLocalReplyVariants(status, contentType, body);
    const base = { status, body, ...(contentType === undefined ? {} : { contentType }) };
    assert.deepEqual(v.keepAlive, renderLocalReply({ ...base, close: false }), `${status} keep-alive`);
    assert.deepEqual(v.close, renderLocalReply({ ...base, close: true }), `${status} close`);
    assert.deepEqual(v.keepAliveHead, renderLocalReply({ ...base, close: false, headOnly: true }), `${status} keep-alive head`);
    assert.deepEqual(v.closeHead, renderLocalReply({ ...base, close: true, headOnly: true }), `${status} close head`);
  }
});

function config(bodies: string[], defaultBody = 'default'): Config {
  return {
    listeners: [
      {
        name: 'web',
        protocol: 'HTTP',
        port: 0,
        rules: bodies.map((body, i) => ({ priority: i + 1, match: { path: [`/r${i}`] }, fixedResponse: { statusCode: 200, body } })),
        defaultAction: { fixedResponse: { statusCode: 404, body: defaultBody } },
      },
    ],
  };
}

/** The action the compiled matcher picks for a path (GET, no host rules). */
function actionFor(rt: RuntimeConfig, path: string): unknown {
  return rt.listeners.get('web')!.matcher.match(new RequestView('GET', 'x', path, '', ['Host', 'x'], '127.0.0.1')).action;
}

test('a reload reuses the rendered bytes of every unchanged fixed response and renders the changed one', () => {
  const first = compileRuntime(withDefaults(config(['a', 'b', 'c'])), 1, new Map());
  const second = compileRuntime(withDefaults(config(['a', 'B!', 'c'])), 2, new Map(), first);
  const byBody = (rt: RuntimeConfig, body: string): CompiledFixedResponse => {
    const found = [...rt.fixedResponses.values()].find((f) => f.body.toString() === body);
    assert.ok(found, `no compiled response with body ${body}`);
    return found;
  };
  assert.equal(byBody(second, 'a'), byBody(first, 'a'), 'unchanged response reused');
  assert.equal(byBody(second, 'c'), byBody(first, 'c'));
  assert.equal(byBody(second, 'default'), byBody(first, 'default'));
  assert.equal(byBody(second, 'B!').keepAlive.toString('latin1'), 'HTTP/1.1 200 OK\r\nServer: switchyard\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nB!');
  // The old response is not carried forward once no rule uses it.
  assert.equal([...second.fixedResponses.values()].some((f) => f.body.toString() === 'b'), false);
  assert.equal(second.fixedResponses.size, 4);
  // The matcher serves exactly these compiled objects.
  assert.equal(actionFor(second, '/r0'), byBody(first, 'a'));
  assert.equal(actionFor(second, '/r1'), byBody(second, 'B!'));
  assert.equal(actionFor(second, '/nothing'), byBody(first, 'default'));
});

test('rules with the same response share one rendering; a different status or type is another', () => {
  const base = config(['same', 'same', 'same']);
  const listener = base.listeners[0]!;
  const c: Config = {
    listeners: [
      {
        ...listener,
        rules: [
          ...listener.rules!,
          { priority: 10, match: { path: ['/x'] }, fixedResponse: { statusCode: 201, body: 'same' } },
          { priority: 11, match: { path: ['/y'] }, fixedResponse: { statusCode: 200, contentType: 'text/html', body: 'same' } },
        ],
      },
    ],
  };
  const rt = compileRuntime(withDefaults(c), 1, new Map());
  assert.equal(rt.fixedResponses.size, 4); // 200 text/plain, 201, 200 text/html, and the default 404
  const statuses = [...rt.fixedResponses.values()].map((f) => `${f.statusCode} ${f.contentType}`).sort();
  assert.deepEqual(statuses, ['200 text/html', '200 text/plain', '201 text/plain', '404 text/plain']);
  assert.equal(actionFor(rt, '/r0'), actionFor(rt, '/r2'));
  assert.notEqual(actionFor(rt, '/r0'), actionFor(rt, '/x'));
});

test('configured header values with control characters are refused with the field and the reason', () => {
  const cases: [string, string][] = [
    ['fixedResponse: { statusCode: 200, contentType: "text/plain\\r\\nX-Evil: 1" }', '/listeners/0/defaultAction/fixedResponse/contentType'],
    ['forward: { targetGroup: g, requestHeaders: { set: { X-A: "a\\nb" } } }', '/listeners/0/defaultAction/forward/requestHeaders/set/X-A'],
    ['redirect: { statusCode: 301, host: "x.example\\r\\nSet-Cookie: a=b" }', '/listeners/0/defaultAction/redirect/host'],
    ['redirect: { statusCode: 301, query: "a=\\u0000" }', '/listeners/0/defaultAction/redirect/query'],
  ];
  for (const [action, path] of cases) {
    const text = `listeners:\n  - { name: l, protocol: HTTP, port: 0, defaultAction: { ${action} } }\ntargetGroups: [ { name: g } ]\n`;
    const r = parseConfigText(text, 'c.yaml', {});
    assert.equal(r.ok, false, action);
    if (r.ok) continue;
    const e = r.errors.find((x) => x.path === path);
    assert.ok(e, `${action}: ${JSON.stringify(r.errors)}`);
    assert.match(e.expected, /without control characters/);
    assert.equal(e.line, 2);
  }
  // A tab is a legal header value character.
  const tab = parseConfigText('listeners:\n  - { name: l, protocol: HTTP, port: 0, defaultAction: { forward: { targetGroup: g, requestHeaders: { set: { X-A: "a\\tb" } } } } }\ntargetGroups: [ { name: g } ]\n', 'c.yaml', {});
  assert.equal(tab.ok, true, JSON.stringify(tab));
});
