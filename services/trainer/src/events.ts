// Training hooks -> the proto events the trainer publishes (events.proto).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckpointSaved, TrainingProgress } from '@kd/proto';
import type { StepReport } from '@kd/trainer';

const now = () => Date.now() / 1000;

/** TrainingProgress of a step: its losses by name, lr, images/s of the step and the ETA. */
export function progressEvent(jobId: string, r: StepReport): TrainingProgress {
  return {
    jobId, step: r.step, totalSteps: r.maxIters, lr: r.lr, loss: { ...r.losses },
    imagesPerSecond: r.images / r.batchCost, etaSeconds: r.etaSeconds, timeUnixSeconds: now(),
  };
}

/** CheckpointSaved of a checkpoint folder: its step, path, weights hash and size on disk. */
export function checkpointEvent(jobId: string, dir: string, step: number, hash: string): CheckpointSaved {
  const sizeBytes = readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
  return { jobId, step, path: dir, contentHash: `sha256:${hash}`, sizeBytes, timeUnixSeconds: now() };
}
