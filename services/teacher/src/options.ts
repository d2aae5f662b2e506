// The service's command line: every flag with its unit and default, checked into TeacherOptions.
import { hostname } from 'node:os';
import { Command } from 'commander';
import { addServerAuthOptions, serverAuth, serverAuthSettings, type ServerAuth } from '@kd/grpc-auth';
import { MAX_MESSAGE_BYTES } from '@kd/proto';
import { integerArg as integer, metricsPortOption, metricsPortOrNull, portArg as port } from '@kd/telemetry';

export interface TeacherOptions {
  weights: string;
  host: string;
  /** gRPC port; 0 = a free one. */
  port: number;
  /** /metrics + /healthz port; 0 = a free one; null = off. */
  metricsPort: number | null;
  maxBatch: number;
  maxQueueDelayMs: number;
  /** Images. */
  maxQueue: number;
  maxMessageBytes: number;
  replicaId: string;
  /** A client connection is closed (gracefully) after this long, ms; 0 = never. */
  maxConnectionAgeMs: number;
  /** TLS / mutual TLS credentials and the bearer token, files read and checked. */
  auth: ServerAuth;
}

/** The `kd-teacher` command; parse it with .parse(argv) and read .opts() via teacherOptions(). */
export function teacherCommand(): Command {
  return addServerAuthOptions(new Command('kd-teacher')
    .description('Serves a kd YOLOv3 teacher over gRPC (kd.v1.TeacherService): raw head outputs for distillation, with a dynamic batcher.')
    .requiredOption('--weights <dir>', '(required) teacher checkpoint folder (model.json + weights.bin), e.g. models/yolov3_r34_shapes')
    .option('--host <address>', 'interface for gRPC and metrics; use 0.0.0.0 in a container', '127.0.0.1')
    .option('--port <port>', 'gRPC port; 0 picks a free one', port, 50051)
    .addOption(metricsPortOption(9464))
    .option('--max-batch <images>', 'most images in one network run, also the largest request accepted (bigger: INVALID_ARGUMENT)', integer(1, '--max-batch'), 16)
    .option('--max-queue-delay-ms <ms>', 'longest wait, in milliseconds, for more requests to fill a batch', integer(0, '--max-queue-delay-ms'), 5)
    .option('--max-queue <images>', 'most images queued (admitted, not yet running); past it requests get RESOURCE_EXHAUSTED at once', integer(1, '--max-queue'), 64)
    .option('--max-message-mb <MiB>', 'largest gRPC message in or out, in MiB; bigger messages get RESOURCE_EXHAUSTED from grpc-js', integer(1, '--max-message-mb'), MAX_MESSAGE_BYTES / 2 ** 20)
    .option('--max-connection-age-s <seconds>', 'close each client connection after this long (in-flight calls get 30 s more); clients reconnect, so replicas added since get traffic; 0: never', integer(0, '--max-connection-age-s'), 0)
    .option('--replica-id <id>', 'id in responses, logs and metrics (default: <hostname>-<pid>)'))
    .addHelpText('after', `
Prints one line, "listening on HOST:PORT", on stdout once it serves; logs go to stderr as JSON lines.
SIGTERM/SIGINT: health goes NOT_SERVING, new requests get UNAVAILABLE, requests in flight finish,
then it exits 0 (1 if they did not finish within 8 s). Also serves grpc.health.v1 and server reflection.
With --token-file every call but grpc.health.v1 needs "authorization: Bearer TOKEN" (else UNAUTHENTICATED);
clients (kd distill, kd serve trainer) read KD_TEACHER_TOKEN(_FILE) and KD_TEACHER_TLS_CA/_CERT/_KEY.

Environment:
  KD_BACKEND     tfjs backend: auto (default), tensorflow (tfjs-node-gpu/tfjs-node if installed), wasm, cpu
  KD_LOG_LEVEL   fatal, error, warn, info (default), debug, trace, silent
  KD_LOG_FORMAT  json, pretty, auto (default: pretty when stderr is a terminal)`);
}

/** Flags that each parse but do not fit together. */
export class TeacherOptionsError extends Error {
  override name = 'TeacherOptionsError';
}

/** Checked options of a parsed teacherCommand(); throws TeacherOptionsError on inconsistent flags, AuthConfigError on unusable TLS/token files. */
export function teacherOptions(command: Command): TeacherOptions {
  const o = command.opts<{
    weights: string; host: string; port: number; metricsPort: number; maxBatch: number; maxQueueDelayMs: number;
    maxQueue: number; maxMessageMb: number; maxConnectionAgeS: number; replicaId?: string;
  }>();
  if (o.maxQueue < o.maxBatch) throw new TeacherOptionsError(`--max-queue ${o.maxQueue} is below --max-batch ${o.maxBatch}; a full batch could never queue.`);
  return {
    weights: o.weights,
    host: o.host,
    port: o.port,
    metricsPort: metricsPortOrNull(o.metricsPort),
    maxBatch: o.maxBatch,
    maxQueueDelayMs: o.maxQueueDelayMs,
    maxQueue: o.maxQueue,
    maxMessageBytes: o.maxMessageMb * 2 ** 20,
    replicaId: o.replicaId ?? `${hostname()}-${process.pid}`,
    maxConnectionAgeMs: o.maxConnectionAgeS * 1000,
    auth: serverAuth(serverAuthSettings(command.opts())),
  };
}
