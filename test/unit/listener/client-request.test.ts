import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientRequest, HELD_BODY_LIMIT, type BodySink } from '../../../src/listener/client-request.js';
import type { CompiledListener } from '../../../src/config/compile.js';

function request(): ClientRequest {
  return new ClientRequest('POST', '/', 1, ['Host', 'x'], true, false, {} as CompiledListener, 0);
}

test('hold asks the caller to stop reading once, when the held body passes the limit', () => {
  const req = request();
  const chunk = Buffer.alloc(16 * 1024);
  let pauses = 0;
  for (let i = 0; i < 10; i++) if (req.hold(chunk)) pauses++;
  assert.equal(pauses, 1);
  assert.equal(req.holdPaused, true);
  assert.equal(req.heldBytes, 10 * chunk.length);
  assert.ok(req.heldBytes > HELD_BODY_LIMIT);
});

test('attach hands every held chunk to the sink in order and clears the count', () => {
  const req = request();
  const got: Buffer[] = [];
  let ended = false;
  const sink: BodySink = { onBody: (c) => got.push(c), onBodyEnd: () => (ended = true), abort: () => {} };
  req.hold(Buffer.from('a'));
  req.hold(Buffer.from('b'));
  req.bodyComplete = true;
  req.attach(sink);
  assert.deepEqual(got.map((b) => b.toString()), ['a', 'b']);
  assert.equal(ended, true);
  assert.equal(req.heldBytes, 0);
  assert.equal(req.bodyChunks.length, 0);
});
