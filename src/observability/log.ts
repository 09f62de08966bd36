import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Creates the process logger: JSON lines on stdout (pino), at `level`. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } });
}
