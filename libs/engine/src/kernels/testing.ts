import * as tf from '@tensorflow/tfjs-core';

/** Deterministic values in [-1, 1) for a shape (a small LCG; tests need no randomness). */
export function seededValues(shape: number[], seed: number): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  let state = (seed * 2654435761) >>> 0;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

/** Runs `f` on the cpu backend and on wasm (restoring wasm), returning both results' values. */
export async function runOnBoth(f: () => tf.Tensor): Promise<{ cpu: Float32Array; wasm: Float32Array }> {
  const previous = tf.getBackend();
  const results: Record<string, Float32Array> = {};
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    const out = tf.tidy(f);
    results[backend] = (await out.data()) as Float32Array;
    out.dispose();
  }
  await tf.setBackend(previous);
  return { cpu: results.cpu, wasm: results.wasm };
}

export { relativeError } from '../relative_error.ts';
