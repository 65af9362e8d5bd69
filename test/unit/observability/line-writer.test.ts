/**
 * The access log's destination (src/observability/line-writer.ts) on real descriptors: lines
 * reach a file whole and in order, batched; a destination that stops taking bytes (a FIFO whose
 * reader does not read: EAGAIN on a non-blocking descriptor) neither blocks nor loses what fits
 * in the bound, and what does not fit is counted and reported.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { LineWriter, type LineWriterStats } from '../../../src/observability/line-writer.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-line-writer-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const line = (i: number, pad = 0): string => JSON.stringify({ i, pad: 'x'.repeat(pad), text: 'é😀' }) + '\n';

describe('LineWriter', () => {
  it('appends whole lines in order, in batches, creating the directory; close() flushes', () => {
    const file = path.join(dir, 'nested', 'a', 'access.log');
    const w = new LineWriter(file);
    let expected = '';
    for (let i = 0; i < 50; i++) {
      const l = line(i, i * 7);
      w.write(l);
      expected += l;
    }
    assert.equal(fs.readFileSync(file, 'utf8'), '', 'batched: nothing written before the batch fills');
    for (let i = 50; i < 2000; i++) {
      const l = line(i, i % 300);
      w.write(l);
      expected += l;
    }
    const partial = fs.readFileSync(file, 'utf8');
    assert.ok(partial.length > 0 && expected.startsWith(partial), 'full batches are written as they fill');
    assert.ok(partial.endsWith('\n'), 'a batch holds whole lines');
    // A line larger than a batch goes out on its own, after what was batched.
    const huge = line(-1, 100_000);
    w.write(huge);
    expected += huge;
    w.write(line(2001));
    expected += line(2001);
    w.close();
    assert.equal(fs.readFileSync(file, 'utf8'), expected);
    w.write(line(9999)); // after close: ignored
    assert.equal(fs.readFileSync(file, 'utf8'), expected);
    // Appends to what is there.
    const again = new LineWriter(file);
    again.write('tail\n');
    again.close();
    assert.equal(fs.readFileSync(file, 'utf8'), expected + 'tail\n');
  });

  it('keeps what a full non-blocking destination does not take, drops beyond the bound, and reports it', async () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // Both ends non-blocking: opening for writing (read+write on Linux) does not wait for a reader.
    const wfd = fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    const rfd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const reports: LineWriterStats[] = [];
    const w = new LineWriter(wfd, (s) => reports.push({ droppedLines: s.droppedLines, lastError: s.lastError }));
    const l = 'y'.repeat(999) + '\n';
    // 8 MiB into a pipe nobody reads: ~64 KiB fit in the pipe, 4 MiB wait, the rest is dropped.
    const started = Date.now();
    for (let i = 0; i < 8 * 1024; i++) w.write(l);
    w.flush();
    assert.ok(Date.now() - started < 5000, 'never blocks');
    assert.ok(w.droppedLines > 3000 && w.droppedLines < 5000, `dropped ${w.droppedLines}`);
    assert.equal(w.lastError, 'EAGAIN');
    // The reader catches up: what was kept is written as it drains.
    const chunk = Buffer.alloc(1 << 20);
    let got = 0;
    for (let rounds = 0; rounds < 1000; rounds++) {
      let n = 0;
      try {
        n = fs.readSync(rfd, chunk, 0, chunk.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
      got += n;
      w.flush();
      if (n === 0 && got > 0) break;
    }
    const lines = got / l.length;
    assert.equal(Number.isInteger(lines), true, 'only whole lines arrive');
    assert.equal(lines + w.droppedLines, 8 * 1024, `${lines} written + ${w.droppedLines} dropped`);
    // The once-a-second report names the loss.
    for (let i = 0; i < 40 && reports.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(reports[0], { droppedLines: w.droppedLines, lastError: 'EAGAIN' });
    w.close();
    fs.closeSync(wfd);
    fs.closeSync(rfd);
  });
});
