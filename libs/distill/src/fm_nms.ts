import * as tf from '@tensorflow/tfjs-core';
import { OBJ } from './head_terms.ts';

/**
 * Feature-map NMS (Mehta & Ozturk 2018, sec. 3.3) on one scale of raw teacher outputs,
 * flat NHWC data of shape [N,H,W,A*(5+C)] -> keep mask, one 0/1 per (n, i, j, a).
 *
 * Rule: a candidate (cell, anchor) belongs to the class of its highest class logit. It is kept
 * iff no candidate of the same class among all A anchors of the 3x3 cells around it (its own
 * cell's other anchors included; fewer cells at the border) has a strictly higher objectness;
 * exact ties are all kept. This is the paper's "candidates of the same class in a 3x3
 * neighbourhood are likely the same object: keep the one with the highest objectness" written
 * as a local-maximum test (as in max-pool NMS): neighbourhoods overlap, so each candidate is
 * compared with its own neighbours, not with a greedy survivor set. Candidates of different
 * classes never suppress each other. Objectness is compared as logits: same order as the
 * sigmoid, without float32 ties at 1. The caller zeroes the objectness of suppressed
 * candidates, which makes them background for the distillation terms.
 *
 * A plain loop rather than tensor ops: it is O(N*H*W*A*(C + 9*A)) compares, while tfjs's
 * oneHot/where/rank-5 slices on [N,H,W,A,C] took seconds per batch on the CPU backends.
 */
export function fmNmsKeepData(data: Float32Array, shape: readonly number[], numClasses: number): Float32Array {
  const [N, H, W, channels] = shape;
  const K = 5 + numClasses;
  const A = channels / K;
  if (!Number.isInteger(A)) throw new Error(`fmNms: ${channels} channels is not a multiple of 5+${numClasses}`);
  const rows = N * H * W * A;
  const cls = new Int32Array(rows);
  const obj = new Float32Array(rows);
  for (let m = 0; m < rows; m++) {
    const base = m * K;
    obj[m] = data[base + OBJ];
    let best = 0;
    for (let k = 1; k < numClasses; k++) if (data[base + 5 + k] > data[base + 5 + best]) best = k;
    cls[m] = best;
  }
  const keep = new Float32Array(rows);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        for (let a = 0; a < A; a++) {
          const m = ((n * H + i) * W + j) * A + a;
          keep[m] = suppressed(m, n, i, j) ? 0 : 1;
        }
      }
    }
  }
  return keep;

  function suppressed(m: number, n: number, i: number, j: number): boolean {
    for (let y = Math.max(0, i - 1); y <= Math.min(H - 1, i + 1); y++) {
      for (let x = Math.max(0, j - 1); x <= Math.min(W - 1, j + 1); x++) {
        const cell = ((n * H + y) * W + x) * A;
        for (let b = cell; b < cell + A; b++) if (cls[b] === cls[m] && obj[b] > obj[m]) return true;
      }
    }
    return false;
  }
}

/**
 * fmNmsKeepData on a tensor: teacher outputs [N,H,W,A*(5+C)] -> keep mask [N,H,W,A] of 0/1,
 * a constant (no gradient). Reads the teacher's values synchronously; they are data anyway
 * (they arrive from the teacher service as bytes).
 */
export function fmNmsKeep(teacher: tf.Tensor4D, numClasses: number): tf.Tensor4D {
  const [N, H, W, channels] = teacher.shape;
  const keep = fmNmsKeepData(teacher.dataSync() as Float32Array, teacher.shape, numClasses);
  return tf.tensor4d(keep, [N, H, W, channels / (5 + numClasses)]);
}
