/**
 * The access log: one JSON object per request (SPEC §6), batched into large synchronous writes
 * (line-writer.ts, docs/decisions/0018-access-log-writer.md).
 *
 * Owns: the record's fields, their text, and choosing the destination (stdout, a file, or off).
 */
import type { Logger } from './logger.js';
import { LineWriter } from './line-writer.js';

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

/** Characters a JSON string cannot hold as they are: quote, backslash, controls, lone surrogates. */
const NEEDS_ESCAPE = /["\\\x00-\x1f\ud800-\udfff]/;

function str(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : '"' + value + '"';
}

/**
 * The record as one JSON line: the same text `JSON.stringify(record) + '\n'` gives (fields in
 * AccessLogRecord order), without the generic serializer's walk over the object; strings go
 * through JSON.stringify only when they hold a character that must be escaped.
 */
export function accessLogLine(r: AccessLogRecord): string {
  return (
    '{"time":' + str(r.time) +
    ',"clientIp":' + str(r.clientIp) +
    ',"clientPort":' + r.clientPort +
    ',"listener":' + str(r.listener) +
    ',"rulePriority":' + r.rulePriority +
    ',"targetGroup":' + str(r.targetGroup) +
    ',"target":' + str(r.target) +
    ',"method":' + str(r.method) +
    ',"host":' + str(r.host) +
    ',"path":' + str(r.path) +
    ',"status":' + r.status +
    ',"bytesIn":' + r.bytesIn +
    ',"bytesOut":' + r.bytesOut +
    ',"requestMs":' + msText(r.requestMs) +
    ',"targetMs":' + msText(r.targetMs) +
    ',"responseMs":' + msText(r.responseMs) +
    ',"error":' + str(r.error) +
    '}\n'
  );
}

/**
 * A duration in milliseconds with at most three decimals, as `String(Math.round(ms * 1000) / 1000)`
 * writes it, without the general float-to-text conversion (a tenth of a line's cost) for the
 * usual values: whole microseconds below a billion.
 */
export function msText(ms: number): string {
  const us = Math.round(ms * 1000);
  if (!(us >= 0 && us < 1e9)) return String(us / 1000);
  const whole = Math.floor(us / 1000);
  const frac = us - whole * 1000;
  if (frac === 0) return '' + whole;
  if (frac % 100 === 0) return whole + '.' + frac / 100;
  if (frac % 10 === 0) return whole + (frac < 100 ? '.0' : '.') + frac / 10;
  return whole + (frac < 10 ? '.00' : frac < 100 ? '.0' : '.') + frac;
}

let isoMs = -1;
let isoText = '';

/** The current time as an ISO 8601 string, formatted once per millisecond. */
export function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

/** `stdout`, `off`, or a file path (appended to, created when missing). `log` hears of lost lines. */
export function createAccessLog(path: string, log?: Logger): AccessLog {
  if (path === 'off') return OFF;
  const writer = new LineWriter(path, (s) => {
    log?.warn({ accessLog: path, droppedLines: s.droppedLines, error: s.lastError }, 'access log lines dropped: the destination is not taking them');
  });
  return {
    enabled: true,
    write(record) {
      writer.write(accessLogLine(record));
    },
    close() {
      writer.close();
      return Promise.resolve();
    },
  };
}
