// Entry of the evaluator service process: `node --import tsx services/evaluator/src/main.ts [flags]`.
// Flags, start, the one stdout line, and signals; everything else logs to stderr.
import { CommanderError } from 'commander';
import { AuthConfigError } from '@kd/grpc-auth';
import { createLogger, serveUntilSignalled } from '@kd/telemetry';
import { startEvaluator } from './app.ts';
import { evaluatorCommand, evaluatorOptions } from './options.ts';

/** Longest orderly shutdown before the process exits anyway, milliseconds (the promise is 10 s). */
const SHUTDOWN_GRACE_MS = 9500;

const command = evaluatorCommand().exitOverride();
let options;
try {
  command.parse(process.argv);
  options = evaluatorOptions(command);
} catch (error) {
  // commander has printed its own errors (and --help) already
  if (error instanceof CommanderError) process.exit(error.exitCode);
  if (error instanceof AuthConfigError) {
    process.stderr.write(`kd-evaluator: error: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const log = createLogger({ service: 'evaluator' });

await serveUntilSignalled({
  log, host: options.host, draining: 'the running evaluation', graceMs: SHUTDOWN_GRACE_MS,
  start: () => startEvaluator(options, log),
  describe: () => ({ state: options.state, transport: options.auth.transport, token: options.auth.token }),
});
