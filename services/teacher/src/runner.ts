// Runs the teacher network on a merged batch and cuts its head outputs back into one piece
// per request. The only file that touches tfjs.
import * as tf from '@tensorflow/tfjs-core';
import { inferenceContext, type YoloV3 } from '@kd/detection';
import type { ImageBatch } from './preprocess.ts';

/** One scale's raw head output for one request: values [n, h, w, A*(5+C)] row-major. */
export interface HeadOutput {
  values: Float32Array;
  shape: [number, number, number, number];
}

/** Runs `model` on batches of equal H, W; returns each batch's head outputs, coarsest scale first. */
export async function runMerged(model: YoloV3, batches: ImageBatch[]): Promise<HeadOutput[][]> {
  const { height, width } = batches[0];
  const total = batches.reduce((s, b) => s + b.n, 0);
  let input: Float32Array;
  if (batches.length === 1) {
    input = batches[0].values;
  } else {
    input = new Float32Array(total * height * width * 3);
    let at = 0;
    for (const b of batches) {
      if (b.height !== height || b.width !== width) throw new RangeError(`merged batch mixes ${height}x${width} and ${b.height}x${b.width}`);
      input.set(b.values, at);
      at += b.values.length;
    }
  }
  const heads = tf.tidy(() => model.forward(tf.tensor4d(input, [total, height, width, 3]), inferenceContext()));
  let data: Float32Array[];
  try {
    data = (await Promise.all(heads.map((h) => h.data()))) as Float32Array[];
  } finally {
    tf.dispose(heads);
  }
  const out: HeadOutput[][] = [];
  let first = 0;
  for (const b of batches) {
    out.push(heads.map((h, s) => {
      const [, hh, ww, cc] = h.shape;
      const per = hh * ww * cc;
      return { values: data[s].subarray(first * per, (first + b.n) * per), shape: [b.n, hh, ww, cc] };
    }));
    first += b.n;
  }
  return out;
}
