/** What the benchmark's second replica thread is started with. */
export interface BenchReplicaInit {
  backend: string;
  /** The main thread writes the current weights here (variables in order, packed) before every step. */
  weights: SharedArrayBuffer;
  /** The replica writes its shard's gradients here, in the same layout. */
  grads: SharedArrayBuffer;
}

export interface BenchReplicaStep {
  /** The shard's images, [n, size, size, 3] NHWC. */
  images: Float32Array;
  shape: [number, number, number, number];
}

export type BenchReplicaReply =
  | { type: 'ready' }
  /** `tensors`: the replica's live tensor count after the step (flat from step to step, or it leaks). */
  | { type: 'done'; loss: number; tensors: number }
  | { type: 'error'; message: string };

/** Offsets of each variable in the packed weight and gradient buffers. */
export function packedOffsets(sizes: readonly number[]): { offsets: number[]; total: number } {
  const offsets: number[] = [];
  let total = 0;
  for (const size of sizes) {
    offsets.push(total);
    total += size;
  }
  return { offsets, total };
}
