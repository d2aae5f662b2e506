import type { KdConfig } from '@kd/config';
import type { TrainBatch } from '@kd/data';
import type { StepLosses } from './train_step.ts';

/** A trainable parameter's place in the shared weight and gradient buffers (float32 offsets). */
export interface ParamSlot {
  name: string;
  offset: number;
  size: number;
}

/** What a replica thread is started with. */
export interface ReplicaInit {
  config: KdConfig;
  backend: string;
  layout: ParamSlot[];
  /** The main thread writes the current weights here before every step. */
  weights: SharedArrayBuffer;
  /** This replica writes its shard's gradients here. */
  grads: SharedArrayBuffer;
}

export type ReplicaReply =
  | { type: 'ready' }
  /** `tensors`: the replica's live tensor count after the step (flat from step to step, or it leaks). */
  | { type: 'done'; losses: StepLosses; stats: Array<[Float32Array, Float32Array]>; tensors: number }
  | { type: 'error'; message: string; stack?: string };

export interface ReplicaStep {
  type: 'step';
  shard: TrainBatch;
}

/** The trainable parameters of a model in store order, packed one after the other. */
export function paramLayout(params: ReadonlyArray<{ name: string; variable: { size: number } }>): ParamSlot[] {
  let offset = 0;
  return params.map((p) => {
    const slot = { name: p.name, offset, size: p.variable.size };
    offset += p.variable.size;
    return slot;
  });
}

export function layoutSize(layout: readonly ParamSlot[]): number {
  return layout.length === 0 ? 0 : layout[layout.length - 1].offset + layout[layout.length - 1].size;
}
