/**
 * The operational log (not the access log): JSON lines on stderr through pino.
 *
 * Owns: the logger type the rest of the code takes, and a silent one for tests.
 */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string = process.env['SWITCHYARD_LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ level, base: null }, pino.destination({ dest: 2, sync: false }));
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
