// The teacher's Prometheus metrics. TEACHER_METRIC_NAMES is the one list of their names:
// dashboards and alerts are checked against it.
import { SECONDS_BUCKETS, ServiceRegistry, type ServiceRegistryOptions } from '@kd/telemetry';

/** Every kd_teacher_* metric this service exports (default process_* / nodejs_* come on top). */
export const TEACHER_METRIC_NAMES = {
  /** Counter {method, code}: GetSpec and Infer calls, and each request message of an InferStream. */
  requests: 'kd_teacher_requests_total',
  /** Histogram {method}: receiving a request to answering it, seconds. */
  requestDuration: 'kd_teacher_request_duration_seconds',
  /** Histogram: waiting in the batcher queue after preprocessing, seconds. */
  queueDuration: 'kd_teacher_queue_duration_seconds',
  /** Histogram: decoding and preprocessing encoded images, seconds. */
  preprocessDuration: 'kd_teacher_preprocess_duration_seconds',
  /** Histogram: one network run on a merged batch, seconds. */
  inferenceDuration: 'kd_teacher_inference_duration_seconds',
  /** Histogram: encoding one response's outputs, seconds. */
  encodeDuration: 'kd_teacher_encode_duration_seconds',
  /** Histogram: images per network run. */
  batchSize: 'kd_teacher_batch_size_images',
  /** Gauge: images admitted to the queue and not yet running. */
  queueDepth: 'kd_teacher_queue_depth_images',
  /** Counter: images the network ran. */
  images: 'kd_teacher_images_total',
  /** Counter: network runs (merged batches). */
  batches: 'kd_teacher_batches_total',
  /** Counter {encoding}: bytes of head outputs sent (data plus sparse indices). */
  outputBytes: 'kd_teacher_output_bytes_total',
  /** Gauge {replica_id, model_name, spec_hash}: always 1; says what a replica serves. */
  modelInfo: 'kd_teacher_model_info',
} as const;

export const TeacherMethod = { GetSpec: 'GetSpec', Infer: 'Infer', InferStream: 'InferStream' } as const;
export type TeacherMethod = (typeof TeacherMethod)[keyof typeof TeacherMethod];

const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128];

/** The teacher's metrics in a registry of their own. */
export class TeacherMetrics {
  readonly registry: ServiceRegistry;
  readonly requests;
  readonly requestDuration;
  readonly queueDuration;
  readonly preprocessDuration;
  readonly inferenceDuration;
  readonly encodeDuration;
  readonly batchSize;
  readonly queueDepth;
  readonly images;
  readonly batches;
  readonly outputBytes;
  readonly modelInfo;

  constructor(options: ServiceRegistryOptions = {}) {
    const r = (this.registry = new ServiceRegistry('teacher', options));
    const n = TEACHER_METRIC_NAMES;
    this.requests = r.counter({ name: n.requests, help: 'Teacher requests by method and gRPC status code; InferStream counts each request message.', labelNames: ['method', 'code'] as const });
    this.requestDuration = r.histogram({ name: n.requestDuration, help: 'From receiving a request to answering it, seconds.', labelNames: ['method'] as const, buckets: SECONDS_BUCKETS });
    this.queueDuration = r.histogram({ name: n.queueDuration, help: 'Time a request waited in the batcher queue, seconds.', buckets: SECONDS_BUCKETS });
    this.preprocessDuration = r.histogram({ name: n.preprocessDuration, help: 'Decoding and preprocessing the images of a request, seconds.', buckets: SECONDS_BUCKETS });
    this.inferenceDuration = r.histogram({ name: n.inferenceDuration, help: 'One network run on a merged batch, seconds.', buckets: SECONDS_BUCKETS });
    this.encodeDuration = r.histogram({ name: n.encodeDuration, help: 'Encoding the outputs of a request, seconds.', buckets: SECONDS_BUCKETS });
    this.batchSize = r.histogram({ name: n.batchSize, help: 'Images per network run.', buckets: BATCH_BUCKETS });
    this.queueDepth = r.gauge({ name: n.queueDepth, help: 'Images admitted to the queue and not yet running.' });
    this.images = r.counter({ name: n.images, help: 'Images the network ran.' });
    this.batches = r.counter({ name: n.batches, help: 'Network runs (merged batches).' });
    this.outputBytes = r.counter({ name: n.outputBytes, help: 'Bytes of head outputs sent, by output encoding.', labelNames: ['encoding'] as const });
    this.modelInfo = r.gauge({ name: n.modelInfo, help: 'What this replica serves (value always 1).', labelNames: ['replica_id', 'model_name', 'spec_hash'] as const });
    // Labelled series exist from the start, at 0: rate() needs a sample before the first request,
    // or a replica's first burst of requests is invisible to the dashboards.
    for (const method of Object.values(TeacherMethod)) {
      this.requests.inc({ method, code: 'OK' }, 0);
      this.requestDuration.zero({ method });
    }
  }
}
