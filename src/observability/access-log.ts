/**
 * The access log: one JSON object per request (SPEC §6), written through pino's asynchronous
 * destination (sonic-boom) so the event loop never blocks on the disk. The record is the whole
 * line: no pino envelope (level, pid, hostname) is added.
 *
 * Owns: the record's fields and the destination (stdout, a file, or off).
 */
import pino from 'pino';

export interface AccessLogRecord {
  time: string;
  clientIp: string;
  clientPort: number;
  listener: string;
  rulePriority: number;
  targetGroup: string;
  target: string;
  method: string;
  host: string;
  path: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  requestMs: number;
  targetMs: number;
  responseMs: number;
  error: string;
}

export interface AccessLog {
  readonly enabled: boolean;
  write(record: AccessLogRecord): void;
  /** Flushes and closes the destination. */
  close(): Promise<void>;
}

const OFF: AccessLog = { enabled: false, write() {}, close: async () => {} };

/**
 * Lines are batched up to 4 KiB per write; this bounds how long a line can wait in the batch
 * when traffic is light (without it, a quiet load balancer's log stays empty until shutdown).
 */
const FLUSH_INTERVAL_MS = 1000;

/** `stdout`, `off`, or a file path (appended to, created when missing). */
export function createAccessLog(path: string): AccessLog {
  if (path === 'off') return OFF;
  const dest = pino.destination({ dest: path === 'stdout' ? 1 : path, sync: false, minLength: 4096, mkdir: true });
  let ready = false;
  let pending = false;
  let closed = false;
  dest.once('ready', () => {
    ready = true;
  });
  const flusher = setInterval(() => {
    if (!ready || !pending || closed) return;
    pending = false;
    try {
      dest.flush();
    } catch {
      // Closed under us: nothing to flush.
    }
  }, FLUSH_INTERVAL_MS);
  flusher.unref();
  return {
    enabled: true,
    write(record) {
      dest.write(JSON.stringify(record) + '\n');
      pending = true;
    },
    close() {
      clearInterval(flusher);
      closed = true;
      return new Promise((resolve) => {
        try {
          dest.flushSync();
        } catch {
          // Not open yet or already closed: nothing to flush.
        }
        if (path === 'stdout') {
          resolve();
          return;
        }
        dest.once('close', () => resolve());
        dest.once('error', () => resolve());
        dest.end();
      });
    },
  };
}
