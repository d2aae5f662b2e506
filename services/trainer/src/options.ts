// The trainer service's command line: every flag with its unit and default.
import { Command, InvalidArgumentError } from 'commander';
import { metricsPortOption, metricsPortOrNull } from '@kd/telemetry';

export interface TrainerOptions {
  jobId: string;
  config: string;
  opt: string[];
  teacher?: string;
  teacherPretrained?: string;
  resume?: string;
  eval: boolean;
  host: string;
  /** /metrics + /healthz port; 0 = a free one; null = off. */
  metricsPort: number | null;
  /** NATS server URL; undefined = the in-process bus (events stay in this process). */
  nats?: string;
}

const JOB_ID = /^[A-Za-z0-9_-]+$/;

function jobId(value: string): string {
  if (!JOB_ID.test(value)) throw new InvalidArgumentError('a job id is letters, digits, "-" and "_" (it is one token of the event subjects kd.<job>.<event>).');
  return value;
}


/** The `kd-trainer` command; read the parsed flags with trainerOptions(). */
export function trainerCommand(): Command {
  return new Command('kd-trainer')
    .description('Runs one training job (a student, distilled from a teacher or not) as a service: Prometheus metrics, events on the bus.')
    .requiredOption('--job-id <id>', '(required) name of the job: events go to kd.<id>.<event>, metrics carry job_id', jobId)
    .requiredOption('-c, --config <file>', '(required) student config, e.g. configs/yolov3_mobilenet_v1_shapes.yml')
    .option('-o, --opt <key=value>', 'override a config key (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--teacher <address>', 'teacher service: grpc://HOST:PORT[,HOST:PORT...] or dns:///NAME:PORT (or, with --teacher-pretrained, its config file)')
    .option('--teacher-pretrained <checkpoint>', 'a teacher checkpoint to run in this process instead')
    .option('-r, --resume <checkpoint>', 'resume from a checkpoint folder: weights, optimizer state and step')
    .option('--eval', 'evaluate on the test split at every snapshot and keep best_model by mAP', false)
    .option('--host <address>', 'interface of the metrics endpoint; 0.0.0.0 in a container', '127.0.0.1')
    .addOption(metricsPortOption(9465))
    .option('--nats <url>', 'NATS server for events (default: $NATS_URL; without one, events stay on an in-process bus)')
    .addHelpText('after', `
Without --teacher/--teacher-pretrained it trains the detection loss alone (kd train).
Publishes kd.<job>.training_progress every log_iter steps and kd.<job>.checkpoint_saved for every
checkpoint (path, step, sha256). Prints "metrics on HOST:PORT" on stdout once the endpoint listens.
SIGTERM/SIGINT: finishes the step, writes model_final, publishes it, exits 0 (a second signal: exit 1).
Resume with -r SAVE_DIR/model_final: with the same seed the run continues as if never stopped.

Environment:
  NATS_URL       the bus (overridden by --nats)
  KD_BACKEND     tfjs backend: auto (default), tensorflow, wasm, cpu
  KD_LOG_LEVEL   fatal, error, warn, info (default), debug, trace, silent
  KD_LOG_FORMAT  json, pretty, auto (default: pretty when stderr is a terminal)`);
}

/** The parsed flags of a trainerCommand(). */
export function trainerOptions(command: Command): TrainerOptions {
  const o = command.opts<Omit<TrainerOptions, 'metricsPort'> & { metricsPort: number }>();
  return { ...o, metricsPort: metricsPortOrNull(o.metricsPort), nats: o.nats ?? (process.env.NATS_URL || undefined) };
}
