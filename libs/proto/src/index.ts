// @kd/proto: the generated kd.v1 contracts (proto/kd/v1/*.proto, the API documentation)
// plus the few helpers that belong to the contracts themselves: event subjects and the
// teacher spec hash. Regenerate gen/ with `npm run proto`; never edit it by hand.
import { createHash } from 'node:crypto';
import { ApMetric } from './gen/kd/v1/evaluator.ts';
import {
  CheckpointSaved,
  EvaluationDone,
  ReplicaDown,
  ReplicaUp,
  TrainingProgress,
} from './gen/kd/v1/events.ts';
import { TeacherSpec } from './gen/kd/v1/teacher.ts';

export * from './gen/kd/v1/tensor.ts';
export * from './gen/kd/v1/teacher.ts';
export * from './gen/kd/v1/evaluator.ts';
export * from './gen/kd/v1/events.ts';
export { InvalidRequestError, StatusError, statusName, statusOf } from './status.ts';

/** Protobuf package of every contract; gRPC paths are `/kd.v1.<Service>/<Method>`. */
export const PROTO_PACKAGE = 'kd.v1';

/**
 * Largest gRPC message, bytes. Head outputs outgrow grpc-js's 4 MiB receive default fast
 * (batch 8 at 608x608, 20 classes, fp32: about 18 MB), so every kd server and client
 * passes GRPC_MESSAGE_OPTIONS (server constructor or client options).
 */
export const MAX_MESSAGE_BYTES = 512 * 1024 * 1024;

/** grpc-js channel/server options that lift the message size limits to MAX_MESSAGE_BYTES. */
export const GRPC_MESSAGE_OPTIONS = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
} as const;

/** Event name (last subject token) -> payload message codec; see events.proto. */
export const EVENTS = {
  training_progress: TrainingProgress,
  checkpoint_saved: CheckpointSaved,
  evaluation_done: EvaluationDone,
  replica_up: ReplicaUp,
  replica_down: ReplicaDown,
} as const;

export type EventName = keyof typeof EVENTS;

/** Payload type of an event, e.g. EventPayload<'checkpoint_saved'> is CheckpointSaved. */
export type EventPayload<E extends EventName> = ReturnType<(typeof EVENTS)[E]['decode']>;

/** Job token of events that belong to no job (replica_up, replica_down). */
export const CLUSTER_JOB = '_cluster';

/** Subject that matches every kd event (NATS wildcard). */
export const ALL_EVENTS_SUBJECT = 'kd.>';

/** A subject or subject part that breaks the `kd.<job>.<event>` scheme. */
export class InvalidSubjectError extends Error {
  override name = 'InvalidSubjectError';
}

// One NATS token: no separators, wildcards or whitespace, so `kd.<job>.>` selects one job.
const TOKEN = /^[^.*>\s]+$/;

function isEventName(s: string): s is EventName {
  return Object.hasOwn(EVENTS, s);
}

function checkJob(job: string): void {
  if (!TOKEN.test(job)) {
    throw new InvalidSubjectError(
      `job id ${JSON.stringify(job)} is not a valid subject token (non-empty, no '.', '*', '>' or whitespace)`,
    );
  }
}

/** Subject `kd.<job>.<event>` of an event; throws InvalidSubjectError on a bad job id. */
export function eventSubject(job: string, event: EventName): string {
  checkJob(job);
  if (!isEventName(event)) {
    throw new InvalidSubjectError(`unknown event ${JSON.stringify(event)}; known: ${Object.keys(EVENTS).join(', ')}`);
  }
  return `kd.${job}.${event}`;
}

/** Subject matching every event of one job: `kd.<job>.>`. */
export function jobEventsSubject(job: string): string {
  checkJob(job);
  return `kd.${job}.>`;
}

/** Splits `kd.<job>.<event>` back into its parts; throws InvalidSubjectError otherwise. */
export function parseEventSubject(subject: string): { job: string; event: EventName } {
  const parts = subject.split('.');
  if (parts.length !== 3 || parts[0] !== 'kd' || !TOKEN.test(parts[1]) || !isEventName(parts[2])) {
    throw new InvalidSubjectError(`subject ${JSON.stringify(subject)} is not kd.<job>.<event>`);
  }
  return { job: parts[1], event: parts[2] };
}

/**
 * GetSpecResponse.spec_hash of a spec: "sha256:" + hex SHA-256 of its protobuf encoding.
 * Deterministic because TeacherSpec has no map fields and the encoder writes fields in
 * number order.
 */
export function specHash(spec: TeacherSpec): string {
  const bytes = TeacherSpec.encode(spec).finish();
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Config/CLI names of the AP metrics (PaddleDetection's map_type plus 'area'). */
export const AP_METRIC_NAMES = {
  '11point': ApMetric.AP_METRIC_11POINT,
  area: ApMetric.AP_METRIC_AREA,
  integral: ApMetric.AP_METRIC_INTEGRAL,
} as const;

export type ApMetricName = keyof typeof AP_METRIC_NAMES;

/** ApMetric of a config name ('11point' | 'area' | 'integral'); throws RangeError otherwise. */
export function apMetricFromName(name: string): ApMetric {
  if (!Object.hasOwn(AP_METRIC_NAMES, name)) {
    throw new RangeError(`unknown AP metric ${JSON.stringify(name)}; use one of ${Object.keys(AP_METRIC_NAMES).join(', ')}`);
  }
  return AP_METRIC_NAMES[name as ApMetricName];
}

/** Config name of an ApMetric; UNSPECIFIED reads as '11point', the server default. */
export function apMetricName(metric: ApMetric): ApMetricName {
  if (metric === ApMetric.AP_METRIC_UNSPECIFIED) return '11point';
  for (const [name, value] of Object.entries(AP_METRIC_NAMES)) if (value === metric) return name as ApMetricName;
  throw new RangeError(`unknown ApMetric value ${metric}`);
}
