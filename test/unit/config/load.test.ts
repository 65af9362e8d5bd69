/**
 * Tests for src/config/load.ts and src/config/validate.ts: YAML and JSON parsing with positions,
 * ${ENV} substitution and coercion, the schema pass's messages and every semantic check, each
 * asserting path, line, column and message.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConfigError } from '../../../src/config/errors.js';
import { formatConfigError } from '../../../src/config/errors.js';
import { parseConfigText, substituteString } from '../../../src/config/load.js';
import { locateNowhere, matcherProblem, validateConfig } from '../../../src/config/validate.js';

/** Strips the common indentation and the first newline, so line 1 is the first line of text. */
function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''), '');
  const lines = raw.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

function load(text: string, env: NodeJS.ProcessEnv = {}, file = 'test.yaml') {
  return parseConfigText(text, file, env);
}

function show(errors: readonly ConfigError[]): string {
  return errors.map((e) => formatConfigError('test.yaml', e)).join('\n');
}

/** The text of the last config loaded, for position diagnostics. */
let lastText = '';

/** The source line of a position with a caret under the column. */
function caret(line: number, column: number): string {
  const src = lastText.split('\n')[line - 1] ?? '';
  return `\n  ${src}\n  ${' '.repeat(Math.max(0, column - 1))}^`;
}

function errorsOf(text: string, env: NodeJS.ProcessEnv = {}): ConfigError[] {
  lastText = text;
  const r = load(text, env);
  assert.equal(r.ok, false, 'expected the config to be rejected');
  return r.ok ? [] : r.errors;
}

function okConfig(text: string, env: NodeJS.ProcessEnv = {}) {
  const r = load(text, env);
  if (!r.ok) assert.fail(`expected a valid config, got:\n${show(r.errors)}`);
  return r;
}

interface Expect {
  path: string;
  line: number;
  column: number;
  message: RegExp;
}

/** Asserts that exactly this error (path, position, message) is among `errors`. */
function expectError(errors: readonly ConfigError[], want: Expect): ConfigError {
  const found = errors.find((e) => e.path === want.path && want.message.test(e.message));
  assert.ok(found, `no error at ${want.path} matching ${want.message}; got:\n${show(errors)}`);
  assert.deepEqual(
    { line: found.line, column: found.column },
    { line: want.line, column: want.column },
    `position of ${want.path}: ${found.message}; reported at:${caret(found.line, found.column)}\nexpected at:${caret(want.line, want.column)}`,
  );
  assert.ok(found.expected.length > 0, 'every error says what was expected');
  return found;
}

/** The single error of a config that has exactly one problem. */
function onlyError(text: string, want: Expect, env: NodeJS.ProcessEnv = {}): ConfigError {
  const errors = errorsOf(text, env);
  assert.equal(errors.length, 1, `expected one error, got:\n${show(errors)}`);
  return expectError(errors, want);
}

const GROUPS = yaml`
  targetGroups:
    - name: app
      targets: [{ host: 127.0.0.1, port: 9001 }]
    - name: other
    - name: tcp-group
      protocol: TCP
    - name: udp-group
      protocol: UDP
`;

/** A valid config; the listener is on lines 1–6 and the groups follow. */
const MINIMAL = yaml`
  listeners:
    - name: web
      protocol: HTTP
      port: 8080
      defaultAction:
        forward: { targetGroup: app }
` + GROUPS;

describe('parsing', () => {
  test('loads a YAML document', () => {
    const r = okConfig(MINIMAL);
    assert.equal(r.config.listeners[0]?.name, 'web');
    assert.equal(r.config.listeners[0]?.port, 8080);
    assert.equal(r.config.targetGroups?.[0]?.targets?.[0]?.port, 9001);
    assert.deepEqual(r.document, r.config);
  });

  test('loads a JSON document, tabs and all', () => {
    const json = JSON.stringify(
      {
        listeners: [{ name: 'web', protocol: 'HTTP', port: 8080, defaultAction: { forward: { targetGroup: 'app' } } }],
        targetGroups: [{ name: 'app', targets: [{ host: '127.0.0.1', port: 9001 }] }],
      },
      null,
      '\t',
    );
    const r = load(json, {}, 'config.json');
    assert.ok(r.ok);
    assert.equal(r.config.listeners[0]?.protocol, 'HTTP');
  });

  test('JSON errors have lines and columns too', () => {
    const json = '{\n  "listeners": [\n    { "name": "web", "protocol": "HTTP", "port": "x",\n      "defaultAction": { "fixedResponse": { "statusCode": 404 } } }\n  ]\n}\n';
    const errors = errorsOf(json);
    onlyError(json, { path: '/listeners/0/port', line: 3, column: 50, message: /^must be an integer, not "x"$/ });
    assert.equal(errors[0]?.expected, 'integer 0–65535');
  });

  test('a YAML syntax error is reported with its position', () => {
    const text = 'listeners:\n  - name: web\n    port: [8080\n';
    const errors = errorsOf(text);
    assert.ok(errors.length >= 1);
    assert.equal(errors[0]?.path, '');
    assert.ok(errors[0]!.line >= 3, show(errors));
    assert.equal(errors[0]?.expected, 'valid YAML');
  });

  test('JSON syntax errors say JSON was expected', () => {
    const r = load('{"listeners": [}', {}, 'x.json');
    assert.ok(!r.ok);
    assert.equal(r.errors[0]?.expected, 'valid JSON');
    assert.equal(r.errors[0]?.line, 1);
  });

  test('duplicate keys are an error at the second key', () => {
    const text = yaml`
      listeners: []
      admin:
        port: 9090
        port: 9091
    `;
    const errors = errorsOf(text);
    assert.equal(errors[0]?.line, 4);
    assert.equal(errors[0]?.column, 3);
    assert.match(errors[0]!.message, /unique/);
  });

  test('an empty document is an error', () => {
    const errors = errorsOf('# nothing here\n');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /empty/);
  });

  test('a byte-order mark is ignored', () => {
    assert.ok(load('\uFEFF' + MINIMAL).ok);
  });

  test('anchors, aliases and merge keys work', () => {
    const text = yaml`
      listeners:
        - name: web
          protocol: HTTP
          port: 8080
          defaultAction: &fwd
            forward: { targetGroup: app }
        - name: web2
          protocol: HTTP
          port: 8081
          defaultAction: *fwd
      targetGroups:
        - &base
          name: app
          connectTimeoutMs: 100
        - <<: *base
          name: app2
    `;
    const r = okConfig(text);
    assert.equal(r.config.targetGroups?.[1]?.connectTimeoutMs, 100);
    assert.equal(r.config.listeners[1]?.defaultAction.forward?.targetGroup, 'app');
  });

  test('alias bombs are refused', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) {
      const prev = String.fromCharCode(96 + i);
      const next = String.fromCharCode(97 + i);
      lines.push(`${next}: &${next} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    const errors = errorsOf(lines.join('\n') + '\n');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /alias/i);
  });

  test('locate on a loaded config points at document paths', () => {
    const r = okConfig(MINIMAL);
    assert.deepEqual(r.locate('/listeners/0/port'), { line: 4, column: 11 });
    assert.deepEqual(r.locate('/listeners/0/port', 'key'), { line: 4, column: 5 });
    assert.deepEqual(r.locate('/listeners/0/nothing'), { line: 2, column: 5 });
  });
});

describe('environment substitution', () => {
  const withToken = (token: string) => yaml`
    admin:
      host: 0.0.0.0
      token: ${token}
  ` + MINIMAL;

  test('${NAME} is replaced by the variable', () => {
    const r = okConfig(withToken('${TOKEN}'), { TOKEN: 's3cret' });
    assert.equal(r.config.admin?.token, 's3cret');
  });

  test('${NAME:-default} uses the default when unset or empty, the variable otherwise', () => {
    assert.equal(okConfig(withToken('${TOKEN:-fallback}')).config.admin?.token, 'fallback');
    assert.equal(okConfig(withToken('${TOKEN:-fallback}'), { TOKEN: '' }).config.admin?.token, 'fallback');
    assert.equal(okConfig(withToken('${TOKEN:-fallback}'), { TOKEN: 'set' }).config.admin?.token, 'set');
  });

  test('substitution works inside a longer string and in quoted scalars', () => {
    const r = okConfig(withToken('"pre-${A}-${B:-b}-post"'), { A: 'a' });
    assert.equal(r.config.admin?.token, 'pre-a-b-post');
  });

  test('an unset variable without default is an error at its node', () => {
    onlyError(withToken('${TOKEN}'), {
      path: '/admin/token',
      line: 3,
      column: 10,
      message: /^environment variable TOKEN is not set$/,
    });
  });

  test('several unset variables are all reported', () => {
    const text = yaml`
      admin:
        token: "\${A}\${B}"
      accessLog:
        path: \${C}
    ` + MINIMAL;
    const errors = errorsOf(text);
    expectError(errors, { path: '/admin/token', line: 2, column: 10, message: /A is not set/ });
    expectError(errors, { path: '/admin/token', line: 2, column: 10, message: /B is not set/ });
    expectError(errors, { path: '/accessLog/path', line: 4, column: 9, message: /C is not set/ });
    assert.equal(errors.length, 3, show(errors));
  });

  test('a whole-expression value becomes a number where a number is expected', () => {
    const text = MINIMAL.replace('port: 8080', 'port: ${PORT:-8080}');
    assert.equal(okConfig(text).config.listeners[0]?.port, 8080);
    assert.equal(okConfig(text, { PORT: '9999' }).config.listeners[0]?.port, 9999);
  });

  test('a whole-expression value becomes a boolean where a boolean is expected', () => {
    const text = 'settings:\n  preserveHostHeader: ${KEEP:-false}\n' + MINIMAL;
    assert.equal(okConfig(text).config.settings?.preserveHostHeader, false);
    assert.equal(okConfig(text, { KEEP: 'true' }).config.settings?.preserveHostHeader, true);
  });

  test('workers takes a number or "auto" from the environment', () => {
    const text = 'settings:\n  workers: ${W:-auto}\n' + MINIMAL;
    assert.equal(okConfig(text).config.settings?.workers, 'auto');
    assert.equal(okConfig(text, { W: '4' }).config.settings?.workers, 4);
  });

  test('a numeric-looking value stays a string where a string is expected', () => {
    assert.equal(okConfig(withToken('${TOKEN}'), { TOKEN: '12345' }).config.admin?.token, '12345');
  });

  test('a non-numeric value in a number position is a schema error at that node', () => {
    const text = MINIMAL.replace('port: 8080', 'port: ${PORT}');
    onlyError(text, { path: '/listeners/0/port', line: 4, column: 11, message: /must be an integer, not "http"/ }, { PORT: 'http' });
  });

  test('an unset variable in a number position gives only the unset error', () => {
    const text = MINIMAL.replace('port: 8080', 'port: ${PORT}');
    onlyError(text, { path: '/listeners/0/port', line: 4, column: 11, message: /PORT is not set/ });
  });

  test('$${ is a literal ${', () => {
    assert.equal(substituteString('a$${HOME}b', { HOME: '/x' }).value, 'a${HOME}b');
    assert.equal(okConfig(withToken('"$${TOKEN}"')).config.admin?.token, '${TOKEN}');
  });

  test('a malformed reference is an error', () => {
    const errors = errorsOf(withToken('"${1ABC}"'));
    expectError(errors, { path: '/admin/token', line: 3, column: 10, message: /invalid variable reference "\$\{1ABC\}"/ });
    const unterminated = errorsOf(withToken('"${ABC"'));
    expectError(unterminated, { path: '/admin/token', line: 3, column: 10, message: /unterminated/ });
  });

  test('keys are never substituted', () => {
    const r = substituteString('plain', {});
    assert.equal(r.value, 'plain');
    assert.equal(r.whole, false);
  });
});

describe('schema errors', () => {
  test('an unknown key points at the key itself and suggests the right one', () => {
    const text = yaml`
      listeners:
        - name: web
          protocol: HTTP
          port: 8080
          rules:
            - priority: 1
              fixedResponse: { statusCode: 200 }
              mach:
                path: ["/x"]
          defaultAction: { fixedResponse: { statusCode: 404 } }
    `;
    const e = onlyError(text, {
      path: '/listeners/0/rules/0/mach',
      line: 8,
      column: 9,
      message: /^unknown key "mach"; did you mean "match"\?$/,
    });
    assert.match(e.expected, /priority, match, protection/);
  });

  test('unknown keys at the top level and in settings', () => {
    const text = 'setings: {}\nsettings:\n  wrokers: 2\n' + MINIMAL;
    const errors = errorsOf(text);
    expectError(errors, { path: '/setings', line: 1, column: 1, message: /unknown key "setings"; did you mean "settings"/ });
    expectError(errors, { path: '/settings/wrokers', line: 3, column: 3, message: /unknown key "wrokers"; did you mean "workers"/ });
  });

  test('a missing required key is reported at the parent object', () => {
    const text = yaml`
      listeners:
        - name: web
          protocol: HTTP
          port: 8080
    `;
    const e = onlyError(text, {
      path: '/listeners/0',
      line: 2,
      column: 5,
      message: /^missing required key "defaultAction"$/,
    });
    assert.match(e.expected, /defaultAction/);
  });

  test('enum errors list the allowed values', () => {
    const text = MINIMAL.replace('protocol: HTTP', 'protocol: http');
    const e = onlyError(text, {
      path: '/listeners/0/protocol',
      line: 3,
      column: 15,
      message: /^"http" is not one of the allowed values; did you mean "HTTP"\?$/,
    });
    assert.equal(e.expected, 'one of: HTTP, HTTPS, TCP, UDP');
  });

  test('a number outside its range names the range', () => {
    const text = MINIMAL.replace('port: 8080', 'port: 70000');
    const e = onlyError(text, { path: '/listeners/0/port', line: 4, column: 11, message: /^must be <= 65535$/ });
    assert.equal(e.expected, 'integer 0–65535');
  });

  test('workers accepts an integer >= 1 or "auto" only', () => {
    const e = onlyError('settings: { workers: 0 }\n' + MINIMAL, {
      path: '/settings/workers',
      line: 1,
      column: 22,
      message: /^0 is not valid here$/,
    });
    assert.equal(e.expected, 'integer >= 1 or "auto"');
  });

  test('the root must be an object', () => {
    const errors = errorsOf('- 1\n- 2\n');
    expectError(errors, { path: '', line: 1, column: 1, message: /must be an object/ });
  });
});

/** One listener whose rules (YAML list items indented by 6) start on line 6. */
function withRules(rules: string): string {
  return (
    'listeners:\n' +
    '  - name: web\n' +
    '    protocol: HTTP\n' +
    '    port: 8080\n' +
    '    rules:\n' +
    rules +
    '    defaultAction: { fixedResponse: { statusCode: 404 } }\n' +
    GROUPS
  );
}

/** Rule lines written flush-left with a "|" margin, indented as items of `rules:`. */
function rules(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('|'))
    .map((l) => `      ${l.slice(1)}\n`)
    .join('');
}

describe('rules', () => {
  test('priorities must be unique per listener', () => {
    const text = withRules(rules(`
      |- priority: 10
      |  forward: { targetGroup: app }
      |- priority: 10
      |  forward: { targetGroup: app }
    `));
    const e = onlyError(text, {
      path: '/listeners/0/rules/1/priority',
      line: 8,
      column: 19,
      message: /^duplicate priority 10 in listener "web" \(also used by \/listeners\/0\/rules\/0\)$/,
    });
    assert.equal(e.expected, 'a priority unique within the listener');
  });

  test('the same priority in two listeners is fine', () => {
    const text = yaml`
      listeners:
        - name: a
          protocol: HTTP
          port: 8080
          rules: [{ priority: 1, forward: { targetGroup: app } }]
          defaultAction: { forward: { targetGroup: app } }
        - name: b
          protocol: HTTP
          port: 8081
          rules: [{ priority: 1, forward: { targetGroup: app } }]
          defaultAction: { forward: { targetGroup: app } }
    ` + GROUPS;
    okConfig(text);
  });

  test('priority must be within 1–50000', () => {
    const text = withRules('      - { priority: 0, forward: { targetGroup: app } }\n      - { priority: 50001, forward: { targetGroup: app } }\n');
    const errors = errorsOf(text);
    expectError(errors, { path: '/listeners/0/rules/0/priority', line: 6, column: 21, message: /^must be >= 1$/ });
    const e = expectError(errors, { path: '/listeners/0/rules/1/priority', line: 7, column: 21, message: /^must be <= 50000$/ });
    assert.equal(e.expected, 'integer 1–50000');
    assert.equal(
      formatConfigError('config.yaml', e),
      'config.yaml:7:21 /listeners/0/rules/1/priority: must be <= 50000 (expected: integer 1–50000)',
    );
  });

  test('a rule needs exactly one action', () => {
    const none = withRules('      - { priority: 1, match: { path: ["/x"] } }\n');
    onlyError(none, {
      path: '/listeners/0/rules/0',
      line: 6,
      column: 9,
      message: /^rule needs an action: forward, redirect or fixedResponse$/,
    });
    const two = withRules('      - { priority: 1, forward: { targetGroup: app }, fixedResponse: { statusCode: 200 } }\n');
    onlyError(two, {
      path: '/listeners/0/rules/0/fixedResponse',
      line: 6,
      column: 55,
      message: /^rule has both "forward" and "fixedResponse"; only one action is allowed$/,
    });
  });

  test('defaultAction needs exactly one action', () => {
    const text = MINIMAL.replace('forward: { targetGroup: app }', 'redirect: { protocol: HTTPS, statusCode: 301 }\n      fixedResponse: { statusCode: 200 }');
    onlyError(text, {
      path: '/listeners/0/defaultAction/fixedResponse',
      line: 7,
      column: 7,
      message: /defaultAction has both "redirect" and "fixedResponse"/,
    });
    const empty = MINIMAL.replace('defaultAction:\n      forward: { targetGroup: app }', 'defaultAction: {}');
    onlyError(empty, { path: '/listeners/0/defaultAction', line: 5, column: 20, message: /^defaultAction needs an action/ });
  });

  test('wildcard strings are at most 128 characters', () => {
    const long = 'a'.repeat(129);
    const text = withRules(rules(`
      |- priority: 1
      |  forward: { targetGroup: app }
      |  match:
      |    host: ["${long}"]
      |    path: ["/${long}"]
      |    header: { X-A: ["${long}"] }
      |    query: [{ key: "${long}", value: v }, { value: "${long}" }]
      |    cookie: { c: ["${long}"] }
    `));
    const errors = errorsOf(text);
    expectError(errors, { path: '/listeners/0/rules/0/match/host/0', line: 9, column: 18, message: /^must be at most 128 characters \(is 129\)$/ });
    expectError(errors, { path: '/listeners/0/rules/0/match/path/0', line: 10, column: 18, message: /at most 128 characters \(is 130\)/ });
    expectError(errors, { path: '/listeners/0/rules/0/match/header/X-A/0', line: 11, column: 27, message: /at most 128/ });
    expectError(errors, { path: '/listeners/0/rules/0/match/query/0/key', line: 12, column: 26, message: /at most 128/ });
    expectError(errors, { path: '/listeners/0/rules/0/match/query/1/value', line: 12, column: 180, message: /at most 128/ });
    expectError(errors, { path: '/listeners/0/rules/0/match/cookie/c/0', line: 13, column: 25, message: /at most 128/ });
    assert.equal(errors.length, 6, show(errors));
    // Exactly 128 is fine.
    okConfig(withRules(`      - { priority: 1, forward: { targetGroup: app }, match: { host: ["${'a'.repeat(128)}"] } }\n`));
  });

  test('match.sourceIp must hold valid CIDRs', () => {
    const text = withRules('      - { priority: 1, forward: { targetGroup: app }, match: { sourceIp: ["10.0.0.0/8", "10.0.0.0/33", "::1/129", "nope"] } }\n');
    const errors = errorsOf(text);
    expectError(errors, { path: '/listeners/0/rules/0/match/sourceIp/1', line: 6, column: 89, message: /^invalid IP address or CIDR block "10.0.0.0\/33"$/ });
    expectError(errors, { path: '/listeners/0/rules/0/match/sourceIp/2', line: 6, column: 104, message: /"::1\/129"/ });
    expectError(errors, { path: '/listeners/0/rules/0/match/sourceIp/3', line: 6, column: 115, message: /"nope"/ });
    assert.equal(errors.length, 3, show(errors));
  });

  test('ipAllow and ipDeny must hold valid CIDRs, on listeners and on rules', () => {
    const text = yaml`
      listeners:
        - name: web
          protocol: HTTP
          port: 8080
          protection:
            ipAllow: ["192.168.0.0/16", "300.1.1.1"]
          rules:
            - priority: 1
              forward: { targetGroup: app }
              protection: { ipDeny: ["2001:db8::/32", "2001:zz8::/32"] }
          defaultAction: { forward: { targetGroup: app } }
    ` + GROUPS;
    const errors = errorsOf(text);
    expectError(errors, { path: '/listeners/0/protection/ipAllow/1', line: 6, column: 35, message: /"300.1.1.1"/ });
    expectError(errors, { path: '/listeners/0/rules/0/protection/ipDeny/1', line: 10, column: 49, message: /"2001:zz8::\/32"/ });
    assert.equal(errors.length, 2, show(errors));
  });

  test('methods are upper-case tokens and paths start with "/"', () => {
    const text = withRules('      - { priority: 1, forward: { targetGroup: app }, match: { method: [get], path: ["api/*"] } }\n');
    const errors = errorsOf(text);
    expectError(errors, { path: '/listeners/0/rules/0/match/method/0', line: 6, column: 73, message: /^"get" is not valid$/ });
    expectError(errors, { path: '/listeners/0/rules/0/match/path/0', line: 6, column: 86, message: /"api\/\*" is not valid/ });
  });

  test('header names in conditions must be tokens, and point at the key', () => {
    const text = withRules('      - { priority: 1, forward: { targetGroup: app }, match: { header: { "X Bad": [a] } } }\n');
    onlyError(text, { path: '/listeners/0/rules/0/match/header/X Bad', line: 6, column: 74, message: /^invalid name "X Bad"$/ });
  });
});

describe('forward', () => {
  test('referenced target groups must exist', () => {
    const text = withRules(rules(`
      |- priority: 1
      |  forward: { targetGroup: ap }
      |- priority: 2
      |  forward:
      |    targetGroups:
      |      - { name: app, weight: 1 }
      |      - { name: missing, weight: 1 }
    `));
    const errors = errorsOf(text);
    const e = expectError(errors, {
      path: '/listeners/0/rules/0/forward/targetGroup',
      line: 7,
      column: 33,
      message: /^unknown target group "ap"; did you mean "app"\?$/,
    });
    assert.equal(e.expected, 'the name of a target group defined under targetGroups');
    expectError(errors, { path: '/listeners/0/rules/1/forward/targetGroups/1/name', line: 12, column: 23, message: /^unknown target group "missing"$/ });
    assert.equal(errors.length, 2, show(errors));
  });

  test('exactly one of targetGroup or targetGroups', () => {
    const both = withRules('      - { priority: 1, forward: { targetGroup: app, targetGroups: [{ name: app }] } }\n');
    onlyError(both, {
      path: '/listeners/0/rules/0/forward/targetGroups',
      line: 6,
      column: 53,
      message: /^forward has both targetGroup and targetGroups; use one$/,
    });
    const neither = withRules('      - { priority: 1, forward: { stickiness: { enabled: true } } }\n');
    onlyError(neither, { path: '/listeners/0/rules/0/forward', line: 6, column: 33, message: /^forward needs targetGroup or targetGroups$/ });
  });

  test('weights are 0–999 and not all zero', () => {
    const big = withRules('      - { priority: 1, forward: { targetGroups: [{ name: app, weight: 1000 }] } }\n');
    const e = onlyError(big, { path: '/listeners/0/rules/0/forward/targetGroups/0/weight', line: 6, column: 71, message: /^must be <= 999$/ });
    assert.equal(e.expected, 'integer 0–999');
    const zero = withRules('      - { priority: 1, forward: { targetGroups: [{ name: app, weight: 0 }, { name: other, weight: 0 }] } }\n');
    onlyError(zero, {
      path: '/listeners/0/rules/0/forward/targetGroups',
      line: 6,
      column: 49,
      message: /^every target group weight is 0, so no request could be forwarded$/,
    });
    okConfig(withRules('      - { priority: 1, forward: { targetGroups: [{ name: app, weight: 0 }, { name: other }] } }\n'));
  });

  test('a target group may be listed only once in a forward', () => {
    const text = withRules('      - { priority: 1, forward: { targetGroups: [{ name: app }, { name: app }] } }\n');
    onlyError(text, { path: '/listeners/0/rules/0/forward/targetGroups/1/name', line: 6, column: 73, message: /listed twice/ });
  });

  test('rewritePath.regex must compile, with the JavaScript error in the message', () => {
    const text = withRules('      - { priority: 1, forward: { targetGroup: app, rewritePath: { regex: "^/(a", replace: "/" } } }\n');
    onlyError(text, {
      path: '/listeners/0/rules/0/forward/rewritePath/regex',
      line: 6,
      column: 75,
      message: /^invalid regular expression: \/\^\/\(a\/: Unterminated group$/,
    });
  });
});

describe('redirect', () => {
  test('path must start with "/"', () => {
    const text = withRules('      - { priority: 1, redirect: { path: "#{path}", statusCode: 301 } }\n');
    onlyError(text, {
      path: '/listeners/0/rules/0/redirect/path',
      line: 6,
      column: 42,
      message: /^redirect path must start with "\/" \(#\{path\} has no leading "\/"; write "\/#\{path\}"\)$/,
    });
  });

  test('protocol is HTTP, HTTPS or #{protocol}; statusCode a redirect status', () => {
    const text = withRules('      - { priority: 1, redirect: { protocol: FTP, statusCode: 200 } }\n');
    const errors = errorsOf(text);
    expectError(errors, { path: '/listeners/0/rules/0/redirect/protocol', line: 6, column: 46, message: /"FTP" is not one of the allowed values/ });
    const e = expectError(errors, { path: '/listeners/0/rules/0/redirect/statusCode', line: 6, column: 63, message: /200 is not one of the allowed values/ });
    assert.equal(e.expected, 'one of: 301, 302, 303, 307, 308');
  });

  test('unknown placeholders are errors', () => {
    const text = withRules('      - { priority: 1, redirect: { host: "#{hots}.example.com", statusCode: 302 } }\n');
    onlyError(text, { path: '/listeners/0/rules/0/redirect/host', line: 6, column: 42, message: /^unknown placeholder "#\{hots\}"$/ });
  });

  test('a redirect that changes nothing would loop', () => {
    const text = withRules('      - { priority: 1, redirect: { query: "a=1", statusCode: 302 } }\n');
    onlyError(text, { path: '/listeners/0/rules/0/redirect', line: 6, column: 34, message: /^redirect would loop/ });
    okConfig(withRules('      - { priority: 1, redirect: { protocol: HTTPS, port: 443, statusCode: 301 } }\n'));
  });
});

describe('listeners', () => {
  test('listener names are unique', () => {
    const text = MINIMAL.replace('  - name: web\n', '  - name: web\n    protocol: HTTP\n    port: 8081\n    defaultAction: { forward: { targetGroup: app } }\n  - name: web\n');
    onlyError(text, {
      path: '/listeners/1/name',
      line: 6,
      column: 11,
      message: /^duplicate listener name "web" \(first defined at \/listeners\/0\)$/,
    });
  });

  /** Two listeners; `a` and `b` are their protocol/host/port lines (4-space indented). */
  const twoListeners = (a: string[], b: string[]) =>
    'listeners:\n' +
    '  - name: a\n' +
    a.map((l) => `    ${l}\n`).join('') +
    '    defaultAction: { forward: { targetGroup: app } }\n' +
    '  - name: b\n' +
    b.map((l) => `    ${l}\n`).join('') +
    '    defaultAction: { forward: { targetGroup: app } }\n' +
    GROUPS;

  test('the same host:port twice is an error', () => {
    onlyError(twoListeners(['protocol: HTTP', 'port: 8080'], ['protocol: HTTP', 'port: 8080']), {
      path: '/listeners/1/port',
      line: 8,
      column: 11,
      message: /^TCP port 8080 on 0.0.0.0 is already used by listener "a" \(0.0.0.0:8080\)$/,
    });
  });

  test('a wildcard address clashes with a specific one on the same port', () => {
    const errors = errorsOf(twoListeners(['protocol: HTTP', 'host: 127.0.0.1', 'port: 8080'], ['protocol: HTTP', 'port: 8080']));
    expectError(errors, { path: '/listeners/1/port', line: 9, column: 11, message: /already used by listener "a" \(127.0.0.1:8080\)/ });
  });

  test('port 0, different addresses, and TCP vs UDP on one port do not clash', () => {
    okConfig(twoListeners(['protocol: HTTP', 'port: 0'], ['protocol: HTTP', 'port: 0']));
    okConfig(twoListeners(['protocol: HTTP', 'host: 127.0.0.1', 'port: 8080'], ['protocol: HTTP', 'host: 127.0.0.2', 'port: 8080']));
    const l4 = twoListeners(['protocol: TCP', 'port: 5353'], ['protocol: UDP', 'port: 5353'])
      .replace('{ targetGroup: app }', '{ targetGroup: tcp-group }')
      .replace('{ targetGroup: app }', '{ targetGroup: udp-group }');
    okConfig(l4);
  });

  test('a listener on the admin port clashes with the admin API', () => {
    const text = MINIMAL.replace('port: 8080', 'port: 9090');
    onlyError(text, { path: '/listeners/0/port', line: 4, column: 11, message: /already used by the admin API \(127.0.0.1:9090\)/ });
  });

  test('HTTPS listeners need a certificate; others may not have one', () => {
    const https = MINIMAL.replace('protocol: HTTP', 'protocol: HTTPS');
    onlyError(https, { path: '/listeners/0', line: 2, column: 5, message: /^an HTTPS listener needs at least one certificate$/ });
    const emptyList = MINIMAL.replace('protocol: HTTP', 'protocol: HTTPS\n    certificates: []');
    onlyError(emptyList, { path: '/listeners/0/certificates', line: 4, column: 19, message: /^must not be empty$/ });
    const http = MINIMAL.replace('protocol: HTTP', 'protocol: HTTP\n    certificates: [{ certFile: a.pem, keyFile: a.key }]');
    onlyError(http, { path: '/listeners/0/certificates', line: 4, column: 5, message: /^"certificates" is only allowed on HTTPS listeners, not HTTP$/ });
    okConfig(MINIMAL.replace('protocol: HTTP', 'protocol: HTTPS\n    certificates: [{ certFile: missing.pem, keyFile: missing.key }]'));
  });

  test('TCP/UDP listeners only forward, without rules, to groups of their protocol', () => {
    const text = yaml`
      listeners:
        - name: db
          protocol: TCP
          port: 15432
          rules: [{ priority: 1, forward: { targetGroup: tcp-group } }]
          defaultAction: { redirect: { protocol: HTTPS, statusCode: 301 } }
        - name: dns
          protocol: UDP
          port: 5353
          defaultAction: { forward: { targetGroup: tcp-group, rewritePath: { regex: a, replace: b } } }
        - name: pg
          protocol: TCP
          port: 15433
          defaultAction: { forward: { targetGroup: app } }
    ` + GROUPS;
    const errors = errorsOf(text);
    expectError(errors, { path: '/listeners/0/rules', line: 5, column: 5, message: /^a TCP listener cannot have rules/ });
    expectError(errors, { path: '/listeners/0/defaultAction/redirect', line: 6, column: 22, message: /^a TCP listener can only forward/ });
    expectError(errors, {
      path: '/listeners/1/defaultAction/forward/targetGroup',
      line: 10,
      column: 46,
      message: /^UDP listener "dns" cannot forward to TCP target group "tcp-group"$/,
    });
    expectError(errors, { path: '/listeners/1/defaultAction/forward/rewritePath', line: 10, column: 57, message: /has no effect on a UDP listener/ });
    const e = expectError(errors, {
      path: '/listeners/2/defaultAction/forward/targetGroup',
      line: 14,
      column: 46,
      message: /^TCP listener "pg" cannot forward to HTTP target group "app"$/,
    });
    assert.equal(e.expected, 'a target group with protocol TCP');
    assert.equal(errors.length, 5, show(errors));
  });

  test('HTTP listeners forward only to HTTP/HTTPS groups', () => {
    const text = MINIMAL.replace('targetGroup: app', 'targetGroup: tcp-group');
    onlyError(text, {
      path: '/listeners/0/defaultAction/forward/targetGroup',
      line: 6,
      column: 31,
      message: /^HTTP listener "web" cannot forward to TCP target group "tcp-group"$/,
    });
  });
});

describe('target groups', () => {
  const group = (body: string) =>
    MINIMAL.replace('targetGroups:\n', `targetGroups:\n  - name: g\n${body.replace(/^/gm, '    ')}\n`);
  // MINIMAL's line 7 is "targetGroups:", so "- name: g" is line 8 and the body starts on line 9.

  test('target group names are unique', () => {
    const text = MINIMAL + '  - name: app\n';
    onlyError(text, {
      path: '/targetGroups/4/name',
      line: 15,
      column: 11,
      message: /^duplicate target group name "app" \(first defined at \/targetGroups\/0\)$/,
    });
  });

  test('healthCheck.timeoutSeconds must not exceed intervalSeconds', () => {
    onlyError(group('healthCheck: { intervalSeconds: 2, timeoutSeconds: 3 }'), {
      path: '/targetGroups/0/healthCheck/timeoutSeconds',
      line: 9,
      column: 56,
      message: /^timeoutSeconds \(3\) must not exceed intervalSeconds \(2\)$/,
    });
    onlyError(group('healthCheck: { intervalSeconds: 1 }'), {
      path: '/targetGroups/0/healthCheck/intervalSeconds',
      line: 9,
      column: 37,
      message: /^timeoutSeconds \(2\) must not exceed intervalSeconds \(1\) \(counting defaults\)$/,
    });
    okConfig(group('healthCheck: { intervalSeconds: 0.5, timeoutSeconds: 0.5 }'));
  });

  test('healthCheck.matcher must be codes and ranges', () => {
    okConfig(group('healthCheck: { matcher: "200-399,404" }'));
    onlyError(group('healthCheck: { matcher: "200-399,4O4" }'), {
      path: '/targetGroups/0/healthCheck/matcher',
      line: 9,
      column: 29,
      message: /^invalid matcher "200-399,4O4": "4O4" is not a status code or range$/,
    });
    assert.match(matcherProblem('399-200')!, /starts after it ends/);
    assert.match(matcherProblem('200-700')!, /outside 100–599/);
    assert.equal(matcherProblem('200'), null);
  });

  test('hashOn takes exactly one key, and only sourceIp on TCP/UDP groups', () => {
    onlyError(group('algorithm: consistent_hash\nhashOn: { sourceIp: true, header: X-User }'), {
      path: '/targetGroups/0/hashOn/header',
      line: 10,
      column: 31,
      message: /^hashOn has both "sourceIp" and "header"; choose one$/,
    });
    onlyError(group('hashOn: {}'), { path: '/targetGroups/0/hashOn', line: 9, column: 13, message: /^hashOn needs exactly one of/ });
    onlyError(group('hashOn: { sourceIp: false }'), {
      path: '/targetGroups/0/hashOn/sourceIp',
      line: 9,
      column: 25,
      message: /^must be true, not false$/,
    });
    const tcp = MINIMAL + '  - name: pg\n    protocol: TCP\n    hashOn: { cookie: sid }\n';
    onlyError(tcp, { path: '/targetGroups/4/hashOn/cookie', line: 17, column: 15, message: /^a TCP target group cannot hash on cookie/ });
  });

  test('app_cookie stickiness needs cookieName; cookies need HTTP groups', () => {
    onlyError(group('stickiness: { enabled: true, type: app_cookie }'), {
      path: '/targetGroups/0/stickiness',
      line: 9,
      column: 17,
      message: /^app_cookie stickiness needs cookieName/,
    });
    const tcp = MINIMAL + '  - name: pg\n    protocol: TCP\n    stickiness: { enabled: true }\n';
    onlyError(tcp, { path: '/targetGroups/4/stickiness/enabled', line: 17, column: 28, message: /cannot work on a TCP target group/ });
  });

  test('targets are unique by host:port and have a port 1–65535', () => {
    const errors = errorsOf(group('targets:\n  - { host: a, port: 1 }\n  - { host: A, port: 1 }\n  - { host: b, port: 0 }'));
    expectError(errors, { path: '/targetGroups/0/targets/1', line: 11, column: 9, message: /^duplicate target A:1/ });
    expectError(errors, { path: '/targetGroups/0/targets/2/port', line: 12, column: 26, message: /^must be >= 1$/ });
    assert.equal(errors.length, 2, show(errors));
  });

  test('protocolVersion HTTP2/GRPC needs an HTTP group', () => {
    const tcp = MINIMAL + '  - name: pg\n    protocol: TCP\n    protocolVersion: GRPC\n';
    onlyError(tcp, { path: '/targetGroups/4/protocolVersion', line: 17, column: 22, message: /needs an HTTP or HTTPS target group/ });
  });
});

describe('admin', () => {
  const admin = (body: string) => `admin: ${body}\n` + MINIMAL;

  test('a non-loopback host without a token is an error', () => {
    const e = onlyError(admin('{ host: 0.0.0.0 }'), {
      path: '/admin/host',
      line: 1,
      column: 16,
      message: /^the admin API on non-loopback host "0.0.0.0" needs a token$/,
    });
    assert.match(e.expected, /admin.token/);
    onlyError(admin('{ host: 10.1.2.3, token: "${TOKEN:-}" }'), {
      path: '/admin/token',
      line: 1,
      column: 33,
      message: /needs a token/,
    });
  });

  test('loopback hosts need no token; other hosts with a token are fine', () => {
    okConfig(admin('{ host: 127.0.0.1 }'));
    okConfig(admin('{ host: 127.8.9.10 }'));
    okConfig(admin('{ host: "::1" }'));
    okConfig(admin('{ host: localhost }'));
    okConfig(admin('{ host: 0.0.0.0, token: "${TOKEN}" }'), { TOKEN: 't' });
  });
});

describe('error collection', () => {
  test('every error is reported at once, in document order', () => {
    const text = yaml`
      settings:
        xForwardedFor: sometimes
      listeners:
        - name: web
          protocol: HTTP
          port: 8080
          rules:
            - { priority: 5, forward: { targetGroup: nope } }
            - { priority: 5, redirect: { path: "x", statusCode: 301 } }
          defaultAction: {}
      targetGroups:
        - name: g
          healthCheck: { intervalSeconds: 1, timeoutSeconds: 5, matcher: "abc" }
          colour: blue
    `;
    const errors = errorsOf(text);
    assert.deepEqual(
      errors.map((e) => `${e.line}:${e.column} ${e.path}`),
      [
        '2:18 /settings/xForwardedFor',
        '8:48 /listeners/0/rules/0/forward/targetGroup',
        '9:21 /listeners/0/rules/1/priority',
        '9:42 /listeners/0/rules/1/redirect/path',
        '10:20 /listeners/0/defaultAction',
        '13:56 /targetGroups/0/healthCheck/timeoutSeconds',
        '13:68 /targetGroups/0/healthCheck/matcher',
        '14:5 /targetGroups/0/colour',
      ],
      show(errors),
    );
  });

  test('validateConfig works on plain objects without positions', () => {
    const errors = validateConfig({ listeners: [{ name: 'a', protocol: 'HTTP', port: 1, defaultAction: {} }] }, locateNowhere);
    assert.equal(errors.length, 1);
    assert.deepEqual(errors[0], {
      path: '/listeners/0/defaultAction',
      line: 0,
      column: 0,
      expected: 'exactly one of forward, redirect or fixedResponse',
      message: 'defaultAction needs an action: forward, redirect or fixedResponse',
    });
    assert.equal(formatConfigError('body', errors[0]!), 'body /listeners/0/defaultAction: defaultAction needs an action: forward, redirect or fixedResponse (expected: exactly one of forward, redirect or fixedResponse)');
  });
});
