import * as tf from '@tensorflow/tfjs-core';
import { inferenceContext } from '@kd/detection';
import { evalBatches, type CropSet } from './crops.ts';
import type { Classifier } from './model.ts';

export interface ClassifierEvaluation {
  /** Top-1 accuracy, 0..1. */
  accuracy: number;
  correct: number;
  count: number;
  /** Per-class top-1 accuracy (NaN for a class without crops). */
  perClass: Record<string, number>;
  seconds: number;
}

/** Top-1 accuracy of the model (inference mode) on every crop of a set. */
export async function evaluateClassifier(model: Classifier, set: CropSet, batchSize: number): Promise<ClassifierEvaluation> {
  const start = performance.now();
  const hits = new Array<number>(set.classes.length).fill(0);
  const totals = new Array<number>(set.classes.length).fill(0);
  for (const batch of evalBatches(set, batchSize)) {
    const predicted = tf.tidy(() => tf.argMax(model.forward(tf.tensor4d(batch.images, [batch.count, batch.size, batch.size, 3]), inferenceContext()), -1));
    const classes = await predicted.data();
    predicted.dispose();
    batch.labels.forEach((label, i) => {
      totals[label] += 1;
      if (classes[i] === label) hits[label] += 1;
    });
  }
  const correct = hits.reduce((a, b) => a + b, 0);
  return {
    accuracy: set.count > 0 ? correct / set.count : 0,
    correct,
    count: set.count,
    perClass: Object.fromEntries(set.classes.map((c, i) => [c, hits[i] / totals[i]])),
    seconds: (performance.now() - start) / 1000,
  };
}
