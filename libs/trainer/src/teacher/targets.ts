import type * as tf from '@tensorflow/tfjs-core';
import type { TrainBatch } from '@kd/data';
import type { StepBatch } from '@kd/detection';
import type { TeacherSource } from './source.ts';

/** How long the student waited for soft targets (after its batch was ready), seconds. */
export interface TeacherWait {
  seconds: number;
  batches: number;
}

interface Pending {
  batch: TrainBatch;
  outputs: Promise<tf.Tensor4D[]>;
}

/**
 * Attaches the teacher's outputs to each training batch. With `prefetch` K > 0 the teacher is
 * asked for the next K batches' targets while the student trains on the current one, so a
 * remote teacher that keeps up costs the student no time; each batch gets the outputs of its
 * own images, in order. Disposes the targets of batches never handed out on close().
 */
export class TeacherTargets {
  private readonly queue: Pending[] = [];
  readonly wait: TeacherWait = { seconds: 0, batches: 0 };

  constructor(private readonly batches: AsyncIterator<TrainBatch>, private readonly teacher: TeacherSource, private readonly prefetch: number) {}

  /** The next batch with its teacher outputs; throws when the loader ends. */
  async next(): Promise<StepBatch> {
    while (this.queue.length < this.prefetch + 1) {
      const next = await this.batches.next();
      if (next.done) break;
      const batch = next.value;
      const outputs = this.teacher.infer({ images: batch.images, shape: [batch.ids.length, batch.size, batch.size, 3] });
      outputs.catch(() => {}); // awaited in order below; keep an early failure from being "unhandled"
      this.queue.push({ batch, outputs });
    }
    const head = this.queue.shift();
    if (!head) throw new Error('the data loader ended before max_iters');
    const t0 = performance.now();
    const teacher = await head.outputs;
    this.wait.seconds += (performance.now() - t0) / 1000;
    this.wait.batches += 1;
    return { ...head.batch, teacher };
  }

  /** Drops the batches fetched ahead, freeing their outputs. */
  async close(): Promise<void> {
    const left = this.queue.splice(0);
    await Promise.all(left.map(async (p) => (await p.outputs.catch(() => [])).forEach((t) => t.dispose())));
  }
}
