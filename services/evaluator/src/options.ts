// The service's command line: every flag with its unit and default, checked into EvaluatorOptions.
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_ACK_WAIT_MS, DEFAULT_STREAM } from '@kd/bus';
import { addServerAuthOptions, serverAuth, serverAuthSettings, type ServerAuth } from '@kd/grpc-auth';
import { integerArg as integer, metricsPortOption, metricsPortOrNull, portArg as port } from '@kd/telemetry';

export interface EvaluatorOptions {
  host: string;
  /** gRPC port; 0 = a free one. */
  port: number;
  /** /metrics + /healthz port; 0 = a free one; null = off. */
  metricsPort: number | null;
  /** State directory: evaluations/*.json and jobs/<job>/best.json. */
  state: string;
  /** NATS server URL(s); undefined = the in-process bus (no events from other processes). */
  nats?: string;
  /** Durable consumer name of the CheckpointSaved events. */
  durable: string;
  /** JetStream stream of the kd events. */
  stream: string;
  /** Token(s) in front of every wire subject (isolates tenants or tests sharing one NATS); '' for none. */
  subjectPrefix: string;
  /** How long a delivered, unacked event waits before it is redelivered, ms. */
  ackWaitMs: number;
  /** TLS / mutual TLS credentials and the bearer token, files read and checked. */
  auth: ServerAuth;
}

function name(what: string) {
  return (value: string): string => {
    if (!/^[A-Za-z0-9_-]+$/.test(value)) throw new InvalidArgumentError(`${what} is letters, digits, "_" and "-".`);
    return value;
  };
}

/** The `kd-evaluator` command; parse it with .parse(argv) and read .opts() via evaluatorOptions(). */
export function evaluatorCommand(): Command {
  return addServerAuthOptions(new Command('kd-evaluator')
    .description('Scores YOLOv3 checkpoints and detections with VOC mAP over gRPC (kd.v1.EvaluatorService), and every CheckpointSaved event exactly once.')
    .option('--host <address>', 'interface for gRPC and metrics; use 0.0.0.0 in a container', '127.0.0.1')
    .option('--port <port>', 'gRPC port; 0 picks a free one', port, 50052)
    .addOption(metricsPortOption(9466))
    .option('--state <dir>', 'state directory: one JSON file per evaluation, jobs/<job>/best.json', 'output/evaluator')
    .option('--nats <url>', 'NATS server for CheckpointSaved/EvaluationDone (default: $NATS_URL; without one, an in-process bus)')
    .option('--durable <name>', 'durable consumer name; replicas and restarts with one name share its position', name('--durable'), 'evaluator')
    .option('--stream <name>', 'JetStream stream of the kd events', name('--stream'), DEFAULT_STREAM)
    .option('--subject-prefix <token>', 'token in front of every wire subject (<token>.kd.<job>.<event>), to isolate tenants sharing a NATS', '')
    .option('--ack-wait-ms <ms>', 'redelivery delay of an event whose evaluator died before acking it (a running evaluation keeps its event)', integer(100, '--ack-wait-ms'), DEFAULT_ACK_WAIT_MS))
    .addHelpText('after', `
Prints one line, "listening on HOST:PORT", on stdout once it serves; logs go to stderr as JSON lines.
Consumes kd.*.checkpoint_saved (durable, explicit ack) and publishes kd.<job>.evaluation_done.
SIGTERM/SIGINT: health goes NOT_SERVING, new calls get UNAVAILABLE, the running evaluation gets 6 s
to finish (else its event is left unacked and redelivered), then it exits 0.
Also serves grpc.health.v1 and server reflection.
With --token-file every call but grpc.health.v1 needs "authorization: Bearer TOKEN" (else UNAUTHENTICATED);
kd's evaluator client reads KD_EVALUATOR_TOKEN(_FILE) and KD_EVALUATOR_TLS_CA/_CERT/_KEY.

Environment:
  NATS_URL       the bus (overridden by --nats)
  NATS_CREDS     NATS credentials file (.creds); or NATS_USER and NATS_PASSWORD, or NATS_TOKEN
  KD_BACKEND     tfjs backend: auto (default), tensorflow (tfjs-node-gpu/tfjs-node if installed), wasm, cpu
  KD_LOG_LEVEL   fatal, error, warn, info (default), debug, trace, silent
  KD_LOG_FORMAT  json, pretty, auto (default: pretty when stderr is a terminal)`);
}

/** Checked options of a parsed evaluatorCommand(); throws AuthConfigError on unusable TLS/token files. */
export function evaluatorOptions(command: Command): EvaluatorOptions {
  const o = command.opts<{
    host: string; port: number; metricsPort: number; state: string; nats?: string; durable: string; stream: string;
    subjectPrefix: string; ackWaitMs: number;
  }>();
  return {
    host: o.host,
    port: o.port,
    metricsPort: metricsPortOrNull(o.metricsPort),
    state: o.state,
    nats: o.nats ?? (process.env.NATS_URL || undefined),
    durable: o.durable,
    stream: o.stream,
    subjectPrefix: o.subjectPrefix,
    ackWaitMs: o.ackWaitMs,
    auth: serverAuth(serverAuthSettings(command.opts())),
  };
}
