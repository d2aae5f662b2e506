// Entry of the teacher service process: `node --import tsx services/teacher/src/main.ts --weights DIR`.
// Flags, start, the one stdout line, and signals; everything else logs to stderr.
import { CommanderError } from 'commander';
import { AuthConfigError } from '@kd/grpc-auth';
import { createLogger, serveUntilSignalled } from '@kd/telemetry';
import { startTeacher } from './app.ts';
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
  if (error instanceof TeacherOptionsError || error instanceof AuthConfigError) {
    process.stderr.write(`kd-teacher: error: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const log = createLogger({ service: 'teacher', base: { replica: options.replicaId } });

await serveUntilSignalled({
  log, host: options.host, draining: 'requests in flight', graceMs: SHUTDOWN_GRACE_MS,
  start: () => startTeacher(options, log),
  describe: () => ({
    maxBatch: options.maxBatch, maxQueue: options.maxQueue, maxQueueDelayMs: options.maxQueueDelayMs, transport: options.auth.transport, token: options.auth.token,
  }),
});
