// Entry of the teacher service process: `node --import tsx services/teacher/src/main.ts --weights DIR`.
// Flags, start, the one stdout line, and signals; everything else logs to stderr.
import { CommanderError } from 'commander';
import { createLogger } from '@kd/telemetry';
import { startTeacher, type RunningTeacher } from './app.ts';
import { TeacherOptionsError, teacherCommand, teacherOptions } from './options.ts';

/** Longest orderly shutdown before the process exits anyway, milliseconds (Kubernetes waits 30 s by default). */
const SHUTDOWN_GRACE_MS = 8000;

const command = teacherCommand().exitOverride();
let options;
try {
  command.parse(process.argv);
  options = teacherOptions(command);
} catch (error) {
  // commander has printed its own errors (and --help) already
  if (error instanceof CommanderError) process.exit(error.exitCode);
  if (error instanceof TeacherOptionsError) {
    process.stderr.write(`kd-teacher: error: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const log = createLogger({ service: 'teacher', base: { replica: options.replicaId } });

// Handlers go in before anything can be signalled, so a SIGTERM right after "listening on"
// (or during start-up) is an orderly stop and never the default kill.
let teacher: RunningTeacher | undefined;
let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) {
    log.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  stopping = true;
  if (!teacher) {
    log.info({ signal }, 'signal during start-up: exiting');
    process.exit(0);
  }
  log.info({ signal }, 'shutting down: finishing requests in flight');
  const force = setTimeout(() => {
    log.error({ graceMs: SHUTDOWN_GRACE_MS }, 'requests still in flight after the grace period; exiting anyway');
    process.exit(1);
  }, SHUTDOWN_GRACE_MS);
  force.unref();
  teacher.shutdown().then(
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
  teacher = await startTeacher(options, log);
} catch (error) {
  log.fatal({ err: error }, `teacher failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
log.info({ host: options.host, port: teacher.port, maxBatch: options.maxBatch, maxQueue: options.maxQueue, maxQueueDelayMs: options.maxQueueDelayMs }, 'serving');
process.stdout.write(`listening on ${options.host}:${teacher.port}\n`);
