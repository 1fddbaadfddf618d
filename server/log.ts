/** Structured JSON logs. */
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** A logger that drops everything, for tests that build the app in-process. */
export const silentLogger = (): Logger => pino({ level: "silent" });
