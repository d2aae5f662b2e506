import * as tf from '@tensorflow/tfjs-core';
import { fusedMomentumUpdate } from '@kd/engine';
import type { Param } from '../model/params.ts';

/**
 * Momentum with L2 decay as Paddle applies it: g' = g + decay * w (only on params marked
 * `decay`), v = mu * v + g', w = w - lr * v. Velocities are named after their params so
 * checkpoints can save and restore them. On wasm one kernel pass per param (the same floats).
 */
export class MomentumOptimizer {
  readonly velocities = new Map<string, tf.Variable>();

  constructor(readonly momentum: number, readonly weightDecay: number) {}

  /** Applies one update; grads by param name (as tf.variableGrads returns them). */
  apply(params: Param[], grads: tf.NamedTensorMap, lr: number): void {
    tf.tidy(() => {
      for (const p of params) {
        const g = grads[p.variable.name];
        if (g == null) continue;
        let v = this.velocities.get(p.name);
        if (v == null) {
          v = tf.variable(tf.zerosLike(p.variable), false, `${p.variable.name}.velocity`);
          this.velocities.set(p.name, v);
        }
        const decay = p.decay && this.weightDecay > 0 ? this.weightDecay : 0;
        const fused = fusedMomentumUpdate(p.variable, v, g, { momentum: this.momentum, decay, lr });
        if (fused) {
          v.assign(fused.v);
          p.variable.assign(fused.w);
          continue;
        }
        const decayed = decay > 0 ? tf.add(g, tf.mul(p.variable, decay)) : g;
        v.assign(tf.add(tf.mul(v, this.momentum), decayed));
        p.variable.assign(tf.sub(p.variable, tf.mul(v, lr)));
      }
    });
  }

  dispose(): void {
    for (const v of this.velocities.values()) v.dispose();
    this.velocities.clear();
  }
}
