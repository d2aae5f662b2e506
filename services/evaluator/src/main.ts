// Entry of the evaluator service process: `node --import tsx services/evaluator/src/main.ts [flags]`.
// Flags, start, the one stdout line, and signals; everything else logs to stderr.
import { CommanderError } from 'commander';
import { createLogger } from '@kd/telemetry';
import { startEvaluator, type RunningEvaluator } from './app.ts';
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
  throw error;
}

const log = createLogger({ service: 'evaluator' });

// Handlers go in before anything can be signalled, so a SIGTERM right after "listening on"
// (or during start-up) is an orderly stop and never the default kill.
let evaluator: RunningEvaluator | undefined;
let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) {
    log.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  stopping = true;
  if (!evaluator) {
    log.info({ signal }, 'signal during start-up: exiting');
    process.exit(0);
  }
  log.info({ signal }, 'shutting down: finishing the running evaluation');
  const force = setTimeout(() => {
    log.error({ graceMs: SHUTDOWN_GRACE_MS }, 'shutdown did not finish within the grace period; exiting anyway');
    process.exit(1);
  }, SHUTDOWN_GRACE_MS);
  force.unref();
  evaluator.shutdown().then(
    () => {
      log.info('stopped');
      process.exit(0);
    },
    (error: unknown) => {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

try {
  evaluator = await startEvaluator(options, log);
} catch (error) {
  log.fatal({ err: error }, `evaluator failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
log.info({ host: options.host, port: evaluator.port, state: options.state }, 'serving');
process.stdout.write(`listening on ${options.host}:${evaluator.port}\n`);
