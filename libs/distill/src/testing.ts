// Plain-JS arithmetic for the tests: written from the formulas, independent of the tensor code.
import assert from 'node:assert/strict';
import type * as tf from '@tensorflow/tfjs-core';

export const LN2 = Math.log(2);
export const LN3 = Math.log(3);
export const sig = (z: number): number => 1 / (1 + Math.exp(-z));
export const bce = (z: number, q: number): number => Math.max(z, 0) - z * q + Math.log1p(Math.exp(-Math.abs(z)));

/** Asserts |actual - expected| <= tol * max(1, |expected|). */
export function assertClose(actual: number, expected: number, what: string, tol = 1e-5): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs expected ${expected}`);
}

/** A flat NHWC map cut into anchor blocks of K channels (the head layout's rows). */
export function blocks(flat: readonly number[], K: number): number[][] {
  const rows: number[][] = [];
  for (let m = 0; m < flat.length; m += K) rows.push(flat.slice(m, m + K));
  return rows;
}

/** A frozen teacher gets no gradient: none at all, or only zeros (stopGradient's). */
export function assertNoGradient(grads: Record<string, tf.Tensor | null>, v: tf.Variable): void {
  const g = grads[v.name];
  if (g == null) return;
  assert.ok(g.dataSync().every((x) => x === 0), `teacher got gradient ${[...g.dataSync()]}`);
}
