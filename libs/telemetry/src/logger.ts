// pino loggers for kd services: one JSON object per line on stderr (stdout is left to the
// few lines a service promises there, e.g. "listening on HOST:PORT"); a short human-readable
// line instead when stderr is a terminal.
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** json: one object per line; pretty: short lines for people; auto: pretty on a TTY; paddle: PaddleDetection's `DATE TIME - LEVEL - msg` (the kd command's training logs). */
export const LogFormat = { json: 'json', pretty: 'pretty', auto: 'auto', paddle: 'paddle' } as const;
export type LogFormat = (typeof LogFormat)[keyof typeof LogFormat];

const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** A KD_LOG_LEVEL / KD_LOG_FORMAT value that is not one of the known ones. */
export class LoggerConfigError extends Error {
  override name = 'LoggerConfigError';
}

export interface LoggerOptions {
  /** Service name, logged as `service` on every line. */
  service: string;
  /** Minimum level; default KD_LOG_LEVEL, else info. */
  level?: string;
  /** json, pretty or auto (pretty on a TTY); default KD_LOG_FORMAT, else auto. */
  format?: string;
  /** Extra fields on every line, e.g. { replica: 'teacher-0' }. */
  base?: Record<string, unknown>;
  /** Where lines go; default stderr (fd 2, written synchronously so nothing is lost at exit). */
  destination?: DestinationStream;
}

/** A pino logger writing one event per line; throws LoggerConfigError on an unknown level or format. */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? process.env.KD_LOG_LEVEL ?? 'info';
  if (!LEVELS.includes(level)) throw new LoggerConfigError(`log level ${JSON.stringify(level)} is not one of ${LEVELS.join(', ')}`);
  const format = options.format ?? process.env.KD_LOG_FORMAT ?? LogFormat.auto;
  if (!(format in LogFormat)) throw new LoggerConfigError(`log format ${JSON.stringify(format)} is not one of ${Object.keys(LogFormat).join(', ')}`);
  const stderr = options.destination ?? pino.destination({ fd: 2, sync: true });
  const pretty = format === LogFormat.pretty || (format === LogFormat.auto && options.destination == null && process.stderr.isTTY === true);
  return pino(
    {
      level: level as LevelWithSilent,
      base: { service: options.service, pid: process.pid, ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    format === LogFormat.paddle ? lineStream(stderr, paddleLine) : pretty ? lineStream(stderr, prettyLine) : stderr,
  );
}

const HIDDEN = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);

/** Turns pino's JSON lines into "12:00:01.234 WARN  teacher: msg key=value" for people. */
export function prettyLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof o.time === 'string' ? o.time.slice(11, 23) : '';
  const level = String(o.level ?? '').toUpperCase().padEnd(5);
  const fields = Object.entries(o)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return `${time} ${level} ${String(o.service ?? '')}: ${String(o.msg ?? '')}${fields.length ? ` ${fields.join(' ')}` : ''}\n`;
}

/** Turns pino's JSON lines into PaddleDetection's "2026-12-02 10:00:00 - INFO - msg". */
export function paddleLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof o.time === 'string' ? o.time.replace('T', ' ').slice(0, 19) : '';
  return `${time} - ${String(o.level ?? '').toUpperCase()} - ${String(o.msg ?? '')}\n`;
}

function lineStream(out: DestinationStream, format: (json: string) => string): DestinationStream {
  return { write: (chunk: string) => out.write(chunk.split('\n').filter(Boolean).map(format).join('')) };
}
