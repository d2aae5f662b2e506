import { createLogger, LogFormat, type Logger } from '@kd/telemetry';

/** A log sink: one line per call, without a trailing newline. */
export type Log = (line: string) => void;

let logger: Logger | undefined;

/**
 * The kd command's log: PaddleDetection-style lines on stderr (`2026-12-02 10:00:00 - INFO -
 * message`), through the same pino logger the services use. Always at info: these lines are
 * the command's output (progress, results), not debugging.
 */
export const stderrLog: Log = (line) => kdLogger().info(line);

/** A warning on the same log (`... - WARN - message`): a skipped file, a process warning. */
export const stderrWarning: Log = (line) => kdLogger().warn(line);

function kdLogger(): Logger {
  logger ??= createLogger({ service: 'kd', level: 'info', format: LogFormat.paddle });
  return logger;
}
