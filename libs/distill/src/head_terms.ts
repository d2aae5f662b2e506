import * as tf from '@tensorflow/tfjs-core';
import { bceWithLogits } from '@kd/detection';
import { HeadPairingError } from './pairing.ts';

/** Index of the objectness channel in an anchor's block [x, y, w, h, obj, cls_0..]. */
export const OBJ = 4;

/**
 * One scale's raw head output [N,H,W,A*(5+C)] as rows of anchors [N*H*W*A, 5+C] (a reshape,
 * no copy): every per-anchor term is then one elementwise op over the whole map.
 */
export function anchorRows(output: tf.Tensor4D, numClasses: number): tf.Tensor2D {
  const K = 5 + numClasses;
  const channels = output.shape[3];
  if (channels % K !== 0) {
    throw new HeadPairingError([`output of shape ${JSON.stringify(output.shape)}: ${channels} channels is not a multiple of 5+${numClasses}`]);
  }
  return tf.reshape(output, [-1, K]);
}

/** The objectness logit column [M,1] of anchor rows [M,5+C]. */
export function objectnessColumn(rows: tf.Tensor2D): tf.Tensor2D {
  return tf.slice(rows, [0, OBJ], [-1, 1]);
}

/** [K] 0/1 channel masks over [x, y, w, h, obj, cls_0..cls_{C-1}]. */
function channelMasks(numClasses: number) {
  const K = 5 + numClasses;
  const l1 = new Float32Array(K);
  l1[2] = l1[3] = 1;
  const obj = new Float32Array(K);
  obj[OBJ] = 1;
  const notObj = new Float32Array(K).fill(1);
  notObj[OBJ] = 0;
  const bce = notObj.map((v, k) => v - l1[k] + obj[k]);
  return { bce: tf.tensor1d(bce), l1: tf.tensor1d(l1), obj: tf.tensor1d(obj), notObj: tf.tensor1d(notObj) };
}

/**
 * Per-channel sums [5+C] over all anchor rows of the split-distillation terms:
 *   x, y, cls_k: BCE(s, sig(t)) * w     w, h: |s - t| * w     obj: BCE(s_obj, objTarget) * objWeight
 * where student, teacher are rows [M,5+C] and objTarget, w, objWeight are [M,1] (computed from
 * the teacher; objWeight 1 when not given). Masks instead of per-channel slices keep it to a
 * dozen ops whatever C is.
 */
export function splitTermSums(student: tf.Tensor2D, teacher: tf.Tensor2D, objTarget: tf.Tensor2D, w: tf.Tensor2D, objWeight?: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const m = channelMasks(student.shape[1] - 5);
    const target = tf.add(tf.mul(tf.sigmoid(teacher), m.notObj), tf.mul(objTarget, m.obj));
    const err = tf.add(tf.mul(bceWithLogits(student, target), m.bce), tf.mul(tf.abs(tf.sub(student, teacher)), m.l1));
    const weight = tf.add(tf.mul(w, m.notObj), objWeight ? tf.mul(objWeight, m.obj) : m.obj);
    return tf.sum(tf.mul(err, weight), 0) as tf.Tensor1D;
  });
}

/** [5+C] factors that turn channel sums into the means (or per-image sums) a loss defines. */
export function channelScale(numClasses: number, factors: { box: number; obj: number; cls: number }): tf.Tensor1D {
  const K = 5 + numClasses;
  const scale = new Float32Array(K).fill(factors.cls);
  scale.fill(factors.box, 0, 4);
  scale[OBJ] = factors.obj;
  return tf.tensor1d(scale);
}

/** Splits weighted channel totals [5+C] into the loss and its logged parts (reg = x,y,w,h). */
export function splitParts(perChannel: tf.Tensor1D, numClasses: number) {
  const part = (begin: number, size: number) => tf.sum(tf.slice(perChannel, [begin], [size])) as tf.Scalar;
  return {
    total: tf.sum(perChannel) as tf.Scalar,
    parts: { distill_reg: part(0, 4), distill_cls: part(5, numClasses), distill_obj: part(OBJ, 1) },
  };
}
