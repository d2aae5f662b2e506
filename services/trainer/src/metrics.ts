// The trainer's Prometheus metrics. TRAINER_METRIC_NAMES is the one list of their names:
// dashboards and alerts are checked against it.
import { SECONDS_BUCKETS, ServiceRegistry } from '@kd/telemetry';

/** Every kd_trainer_* metric this service exports (default process_* / nodejs_* come on top). */
export const TRAINER_METRIC_NAMES = {
  /** Histogram: one training step, waiting for its batch included, seconds. */
  stepDuration: 'kd_trainer_step_duration_seconds',
  /** Gauge {kind}: the last step's losses: loss (the minimised total), distill_loss, teacher_loss, loss_xy, loss_wh, loss_obj, loss_cls, ... */
  loss: 'kd_trainer_loss_value',
  /** Gauge: the last step's learning rate. */
  learningRate: 'kd_trainer_learning_rate_value',
  /** Counter: steps done by this process. */
  steps: 'kd_trainer_steps_total',
  /** Counter: images trained on. */
  images: 'kd_trainer_images_total',
  /** Counter: time spent waiting for batches (loader and teacher), seconds. */
  dataWait: 'kd_trainer_data_wait_seconds_total',
  /** Counter: of which waiting for the teacher's soft targets, seconds. */
  teacherWait: 'kd_trainer_teacher_wait_seconds_total',
  /** Counter: teacher requests sent to another replica after one failed. */
  teacherFailovers: 'kd_trainer_teacher_failovers_total',
  /** Counter: checkpoints written. */
  checkpoints: 'kd_trainer_checkpoints_total',
  /** Gauge {job_id, config, method}: always 1; says what the process trains. */
  jobInfo: 'kd_trainer_job_info',
} as const;

/** The trainer's metrics in a registry of their own. */
export class TrainerMetrics {
  readonly registry: ServiceRegistry;
  readonly stepDuration;
  readonly loss;
  readonly learningRate;
  readonly steps;
  readonly images;
  readonly dataWait;
  readonly teacherWait;
  readonly teacherFailovers;
  readonly checkpoints;
  readonly jobInfo;

  constructor(options: { defaultMetrics?: boolean; jobId: string }) {
    const r = (this.registry = new ServiceRegistry('trainer', { defaultMetrics: options.defaultMetrics, defaultLabels: { job_id: options.jobId } }));
    const n = TRAINER_METRIC_NAMES;
    this.stepDuration = r.histogram({ name: n.stepDuration, help: 'One training step, waiting for its batch included, seconds.', buckets: SECONDS_BUCKETS });
    this.loss = r.gauge({ name: n.loss, help: 'The last step\'s losses by kind (loss is the minimised total).', labelNames: ['kind'] as const });
    this.learningRate = r.gauge({ name: n.learningRate, help: 'The last step\'s learning rate.' });
    this.steps = r.counter({ name: n.steps, help: 'Training steps done by this process.' });
    this.images = r.counter({ name: n.images, help: 'Images trained on.' });
    this.dataWait = r.counter({ name: n.dataWait, help: 'Time spent waiting for batches (data loader and teacher), seconds.' });
    this.teacherWait = r.counter({ name: n.teacherWait, help: 'Time spent waiting for the teacher\'s soft targets, seconds.' });
    this.teacherFailovers = r.counter({ name: n.teacherFailovers, help: 'Teacher requests sent to another replica after one failed.' });
    this.checkpoints = r.counter({ name: n.checkpoints, help: 'Checkpoints written.' });
    this.jobInfo = r.gauge({ name: n.jobInfo, help: 'What this trainer trains (value always 1).', labelNames: ['config', 'method'] as const });
  }
}
