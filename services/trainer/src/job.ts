// One training job with its side effects wired in: metrics from every step, events on the bus
// for progress and checkpoints. The loop itself is libs/trainer's.
import { loadConfig } from '@kd/config';
import type { EventBus } from '@kd/bus';
import { createYoloV3 } from '@kd/detection';
import { initBackend } from '@kd/engine';
import { prepareDistillation, runTraining, type Log, type PreparedDistillation } from '@kd/trainer';
import { checkpointEvent, progressEvent } from './events.ts';
import type { TrainerMetrics } from './metrics.ts';
import type { TrainerOptions } from './options.ts';

export interface JobContext {
  options: TrainerOptions;
  bus: EventBus;
  metrics: TrainerMetrics;
  log: Log;
  warn: Log;
  signal: AbortSignal;
}

/** Trains the job to the end (or until `signal`); resolves with its train_summary record. */
export async function runJob(c: JobContext): Promise<Record<string, unknown>> {
  const { options: o, bus, metrics } = c;
  const config = loadConfig(o.config, o.opt);
  const backend = await initBackend(undefined, c.log);
  const model = createYoloV3(config);
  const distilling = o.teacher !== undefined || o.teacherPretrained !== undefined;
  let prepared: PreparedDistillation | undefined;
  if (distilling) {
    prepared = await prepareDistillation(config, model.spec, { teacher: o.teacher, pretrained: o.teacherPretrained }, {
      jobId: o.jobId, log: c.log, onFailover: () => metrics.teacherFailovers.inc(),
    });
  }
  metrics.jobInfo.set({ config: o.config, method: String(prepared?.summary.method ?? 'baseline') }, 1);
  // progress events go out without holding up the step; a failure is only logged
  const publish = (what: string, p: Promise<void>) => p.catch((error: unknown) => c.warn(`could not publish ${what}: ${(error as Error).message}`));
  try {
    return await runTraining({
      command: 'trainer', configPath: o.config, overrides: o.opt, config, backend: backend.name, model, distillation: prepared?.distillation,
      eval: o.eval, resume: o.resume, signal: c.signal, log: c.log, summary: { job_id: o.jobId, ...prepared?.summary },
      onStep: (r) => {
        metrics.stepDuration.observe(r.batchCost);
        metrics.steps.inc();
        metrics.images.inc(r.images);
        metrics.dataWait.inc(r.dataWait);
        if (r.teacherWait !== undefined) metrics.teacherWait.inc(r.teacherWait);
        metrics.learningRate.set(r.lr);
        for (const [kind, value] of Object.entries(r.losses)) metrics.loss.set({ kind }, value);
        if (r.step % config.log_iter === 0 || r.step === 1 || r.step === r.maxIters) {
          void publish('training_progress', bus.publish(o.jobId, 'training_progress', progressEvent(o.jobId, r)));
        }
      },
      onCheckpoint: async (dir, step, hash) => {
        metrics.checkpoints.inc();
        // awaited: a checkpoint the evaluator never hears of is a lost evaluation
        await publish('checkpoint_saved', bus.publish(o.jobId, 'checkpoint_saved', checkpointEvent(o.jobId, dir, step, hash)));
      },
    });
  } finally {
    await prepared?.close();
  }
}
