// The evaluator's Prometheus metrics. EVALUATOR_METRIC_NAMES is the one list of their names:
// dashboards and alerts are checked against it.
import { SECONDS_BUCKETS, ServiceRegistry, type ServiceRegistryOptions } from '@kd/telemetry';

/** Every kd_evaluator_* metric this service exports (default process_* / nodejs_* come on top). */
export const EVALUATOR_METRIC_NAMES = {
  /** Counter {source, input, state}: finished evaluations; source grpc|event, input checkpoint|detections, state done|failed. */
  evaluations: 'kd_evaluator_evaluations_total',
  /** Histogram {input}: one evaluation from leaving the queue to its report, seconds. */
  evaluationDuration: 'kd_evaluator_evaluation_duration_seconds',
  /** Counter: images scored by finished evaluations. */
  images: 'kd_evaluator_images_total',
  /** Gauge {job_id}: mean AP of the job's most recently finished (DONE) evaluation, 0..1. */
  map: 'kd_evaluator_map_ratio',
  /** Gauge {job_id}: best mean AP of the job's checkpoints so far, 0..1 (best.json). */
  bestMap: 'kd_evaluator_best_map_ratio',
  /** Gauge: evaluations (gRPC requests and checkpoint events) waiting for the evaluation thread. */
  queueDepth: 'kd_evaluator_queue_depth_requests',
  /** Counter: redelivered CheckpointSaved events whose result was already stored, acked without work. */
  redeliveriesSkipped: 'kd_evaluator_redeliveries_skipped_total',
  /** Counter {method, code}: Evaluate and GetReport calls by gRPC status. */
  requests: 'kd_evaluator_requests_total',
} as const;

export const EvaluatorMethod = { Evaluate: 'Evaluate', GetReport: 'GetReport' } as const;
export type EvaluatorMethod = (typeof EvaluatorMethod)[keyof typeof EvaluatorMethod];

/** Evaluations take seconds to minutes: SECONDS_BUCKETS plus the long tail. */
const EVALUATION_BUCKETS = [...SECONDS_BUCKETS, 120, 300, 600, 1800];

/** The evaluator's metrics in a registry of their own. */
export class EvaluatorMetrics {
  readonly registry: ServiceRegistry;
  readonly evaluations;
  readonly evaluationDuration;
  readonly images;
  readonly map;
  readonly bestMap;
  readonly queueDepth;
  readonly redeliveriesSkipped;
  readonly requests;

  constructor(options: ServiceRegistryOptions = {}) {
    const r = (this.registry = new ServiceRegistry('evaluator', options));
    const n = EVALUATOR_METRIC_NAMES;
    this.evaluations = r.counter({ name: n.evaluations, help: 'Finished evaluations by trigger (grpc, event), input (checkpoint, detections) and state (done, failed).', labelNames: ['source', 'input', 'state'] as const });
    this.evaluationDuration = r.histogram({ name: n.evaluationDuration, help: 'One evaluation, from leaving the queue to its report, seconds.', labelNames: ['input'] as const, buckets: EVALUATION_BUCKETS });
    this.images = r.counter({ name: n.images, help: 'Images scored by finished evaluations.' });
    this.map = r.gauge({ name: n.map, help: 'Mean AP of the job\'s most recently finished evaluation, 0..1.', labelNames: ['job_id'] as const });
    this.bestMap = r.gauge({ name: n.bestMap, help: 'Best mean AP of the job\'s checkpoints so far, 0..1.', labelNames: ['job_id'] as const });
    this.queueDepth = r.gauge({ name: n.queueDepth, help: 'Evaluations waiting for the evaluation thread (not counting the running one).' });
    this.redeliveriesSkipped = r.counter({ name: n.redeliveriesSkipped, help: 'Redelivered CheckpointSaved events whose result was already stored (acked without work).' });
    this.requests = r.counter({ name: n.requests, help: 'Evaluator gRPC calls by method and status code.', labelNames: ['method', 'code'] as const });
  }
}
