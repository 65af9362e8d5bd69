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

/** `stdout`, `off`, or a file path (appended to, created when missing). */
export function createAccessLog(path: string): AccessLog {
  if (path === 'off') return OFF;
  const dest = pino.destination({ dest: path === 'stdout' ? 1 : path, sync: false, minLength: 4096, mkdir: true });
  return {
    enabled: true,
    write(record) {
      dest.write(JSON.stringify(record) + '\n');
    },
    close() {
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
