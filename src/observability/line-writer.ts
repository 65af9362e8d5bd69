/**
 * A log destination for one line per request at tens of thousands of lines a second: lines are
 * encoded straight into one 64 KiB buffer, which goes to the file descriptor in one write(2)
 * when it is full, every second, and on close (docs/decisions/0018-access-log-writer.md).
 *
 * Owns: the descriptor (opened for appending unless it is stdout), the batch, and what happens
 * when the destination cannot keep up. Writes are synchronous, as nginx writes its access log
 * and as Node writes stdout to files and pipes on Linux: a write to a file lands in the page
 * cache in microseconds, and a batch holds hundreds of lines, so no thread pool is woken per
 * batch. A reader that stops reading (a full non-blocking pipe: EAGAIN) never stalls the data
 * path: the unwritten bytes wait, up to MAX_PENDING, and lines beyond that are dropped and
 * counted. Other write errors (a full disk) drop the batch and are counted too.
 */
import fs from 'node:fs';
import path from 'node:path';

const BATCH_BYTES = 64 * 1024;
/** Bytes kept for a destination that is not taking them (EAGAIN) before lines are dropped. */
const MAX_PENDING = 4 * 1024 * 1024;
const FLUSH_INTERVAL_MS = 1000;

export interface LineWriterStats {
  /** Lines dropped because the destination did not take them. */
  readonly droppedLines: number;
  /** The last write error (its code), '' when none. */
  readonly lastError: string;
}

export class LineWriter implements LineWriterStats {
  readonly #fd: number;
  readonly #ownsFd: boolean;
  readonly #batch: Buffer;
  #used: number;
  /** Lines in the batch (counted as dropped if it is lost). */
  #lines: number;
  /** Bytes a previous write left unwritten (EAGAIN), written before the batch. */
  #pending: Buffer | null;
  #pendingLines: number;
  #timer: NodeJS.Timeout | null;
  #closed: boolean;
  droppedLines: number;
  lastError: string;
  /** Dropped lines already reported through onLoss. */
  #reported: number;
  readonly #onLoss: (stats: LineWriterStats) => void;

  /**
   * `target`: 'stdout', a file path (appended to; its directory is created when missing), or
   * an open descriptor (not closed by close()). `onLoss` hears about dropped lines, at most once
   * a second.
   */
  constructor(target: string | number, onLoss: (stats: LineWriterStats) => void = () => {}) {
    if (typeof target === 'number' || target === 'stdout') {
      this.#fd = typeof target === 'number' ? target : 1;
      this.#ownsFd = false;
    } else {
      fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
      this.#fd = fs.openSync(target, 'a');
      this.#ownsFd = true;
    }
    this.#batch = Buffer.allocUnsafe(BATCH_BYTES);
    this.#used = 0;
    this.#lines = 0;
    this.#pending = null;
    this.#pendingLines = 0;
    this.#closed = false;
    this.droppedLines = 0;
    this.lastError = '';
    this.#reported = 0;
    this.#onLoss = onLoss;
    // Bounds how long a line waits when traffic is light (else a quiet log stays empty).
    this.#timer = setInterval(() => this.#tick(), FLUSH_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Adds one line (with its newline). */
  write(line: string): void {
    if (this.#closed) return;
    // A UTF-16 code unit is at most 3 UTF-8 bytes: the line fits if this much room is left.
    if (this.#used + line.length * 3 > BATCH_BYTES) {
      this.flush();
      if (line.length * 3 > BATCH_BYTES) {
        this.#writeOut(Buffer.from(line), 1);
        return;
      }
    }
    this.#used += this.#batch.write(line, this.#used);
    this.#lines++;
  }

  /** Writes what is batched (and what a full destination left over). */
  flush(): void {
    if (this.#used === 0 && this.#pending === null) return;
    const used = this.#used;
    const lines = this.#lines;
    this.#used = 0;
    this.#lines = 0;
    // The batch buffer is reused at once: a copy only when bytes must wait (see #writeOut).
    this.#writeOut(this.#batch.subarray(0, used), lines);
  }

  #tick(): void {
    this.flush();
    if (this.droppedLines > this.#reported) {
      this.#reported = this.droppedLines;
      this.#onLoss(this);
    }
  }

  /** Flushes and closes the descriptor (stdout stays open). */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#pending !== null) {
      this.droppedLines += this.#pendingLines;
      this.#pending = null;
    }
    if (this.#ownsFd) {
      try {
        fs.closeSync(this.#fd);
      } catch {
        // Already closed: nothing to release.
      }
    }
  }

  /** Writes pending bytes, then `data`; keeps or drops what the destination does not take. */
  #writeOut(data: Buffer, lines: number): void {
    if (this.#pending !== null) {
      const pending = this.#pending;
      const pendingLines = this.#pendingLines;
      this.#pending = null;
      this.#pendingLines = 0;
      const left = this.#writeAll(pending);
      if (left !== null) {
        // Still not taking bytes: keep both, within the bound.
        this.#keep(left, pendingLines);
        this.#keep(data, lines);
        return;
      }
    }
    if (data.length === 0) return;
    const left = this.#writeAll(data);
    if (left !== null) this.#keep(left, lines);
  }

  /** write(2) until done; returns the unwritten rest on EAGAIN, null when all was written or dropped. */
  #writeAll(data: Buffer): Buffer | null {
    let off = 0;
    while (off < data.length) {
      try {
        off += fs.writeSync(this.#fd, data, off, data.length - off);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
        if (code === 'EAGAIN') return data.subarray(off);
        this.lastError = code;
        // The rest of this write is lost (a full disk, a closed pipe): count its lines.
        let lost = 0;
        for (let i = off; i < data.length; i++) if (data[i] === 0x0a) lost++;
        this.droppedLines += lost;
        return null;
      }
    }
    return null;
  }

  #keep(rest: Buffer, lines: number): void {
    const have = this.#pending === null ? 0 : this.#pending.length;
    if (have + rest.length > MAX_PENDING) {
      this.droppedLines += lines;
      this.lastError = 'EAGAIN';
      return;
    }
    // A copy: `rest` may be a view of the batch buffer, which is reused.
    this.#pending = this.#pending === null ? Buffer.from(rest) : Buffer.concat([this.#pending, rest]);
    this.#pendingLines += lines;
  }
}
