// Entry of the trainer service process: `node --import tsx services/trainer/src/main.ts --job-id J -c CONFIG`.
// Flags, telemetry, the bus, signals; the job itself is job.ts.
import { CommanderError } from 'commander';
import { connectBus, type EventBus } from '@kd/bus';
import { createLogger, startTelemetryServer, type TelemetryServer } from '@kd/telemetry';
import { runJob } from './job.ts';
import { TrainerMetrics } from './metrics.ts';
import { trainerCommand, trainerOptions, type TrainerOptions } from './options.ts';

const command = trainerCommand().exitOverride();
let options: TrainerOptions;
try {
  command.parse(process.argv);
  options = trainerOptions(command);
} catch (error) {
  // commander has printed its own errors (and --help) already
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  throw error;
}

const log = createLogger({ service: 'trainer', base: { job: options.jobId } });
const info = (line: string) => log.info(line);
const warn = (line: string) => log.warn(line.replace(/^warning: /, ''));

// SIGTERM (a pod being moved) or Ctrl-C: the loop finishes its step and writes model_final,
// whose checkpoint_saved event is published before the process exits 0.
const abort = new AbortController();
const stop = (signal: NodeJS.Signals) => {
  if (abort.signal.aborted) {
    log.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  log.info({ signal }, 'stopping: finishing the current step, then writing and publishing a checkpoint');
  abort.abort();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

const metrics = new TrainerMetrics({ jobId: options.jobId });
let telemetry: TelemetryServer | undefined;
let bus: EventBus | undefined;
let code = 0;
try {
  if (options.metricsPort !== null) {
    telemetry = await startTelemetryServer({ registry: metrics.registry.registry, port: options.metricsPort, host: options.host });
    log.info({ host: options.host, port: telemetry.port }, 'metrics listening');
    process.stdout.write(`metrics on ${options.host}:${telemetry.port}\n`);
  }
  bus = await connectBus({ url: options.nats, log: info, name: `kd-trainer-${options.jobId}` });
  const summary = await runJob({ options, bus, metrics, log: info, warn, signal: abort.signal });
  log.info({ steps: summary.steps, interrupted: summary.interrupted, bestMap: summary.best_map }, summary.interrupted ? 'stopped' : 'done');
} catch (error) {
  const e = error as Error;
  // errors kd's libraries raise for bad input name the file or key: one line is enough
  log.error({ err: e.name.endsWith('Error') && e.name !== 'Error' ? undefined : e }, `${e.name}: ${e.message}`);
  code = e.name === 'Error' || e.name === 'TypeError' || e.name === 'RangeError' ? 1 : 2;
} finally {
  await bus?.close();
  await telemetry?.close();
}
process.exit(code);
