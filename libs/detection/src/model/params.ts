import * as tf from '@tensorflow/tfjs-core';

/** A named parameter; `decay` marks those L2 decay applies to (conv weights only, as PaddleDetection). */
export interface Param {
  name: string;
  variable: tf.Variable;
  trainable: boolean;
  decay: boolean;
}

/**
 * Every tensor of a model by its name (`backbone.stage2.block0.conv1.weight`), created once
 * with seeded initialisers so the same config and seed always give the same model.
 */
export class ParamStore {
  private static stores = 0;
  readonly params = new Map<string, Param>();
  private nextSeed: number;
  /** tfjs variable names are global; a per-store prefix lets a teacher and a student coexist. */
  private readonly prefix = `m${ParamStore.stores++}/`;

  constructor(seed: number) {
    this.nextSeed = seed * 100003 + 17;
  }

  private add(name: string, value: tf.Tensor, trainable: boolean, decay: boolean): tf.Variable {
    if (this.params.has(name)) throw new Error(`parameter ${name} defined twice`);
    const variable = tf.variable(value, trainable, this.prefix + name);
    value.dispose();
    this.params.set(name, { name, variable, trainable, decay });
    return variable;
  }

  /** Conv filter [kh, kw, in, out] (or [kh, kw, in, 1] depthwise), He-normal over fan-in. */
  convWeight(name: string, shape: [number, number, number, number], fanIn: number): tf.Variable {
    return this.add(name, tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', this.nextSeed++), true, true);
  }

  /** A trainable vector filled with `value` (BN scale 1, offsets 0), no decay. */
  vector(name: string, size: number, value: number): tf.Variable {
    return this.add(name, tf.fill([size], value), true, false);
  }

  /** A trainable vector with given initial values, no decay (output biases). */
  vectorOf(name: string, values: Float32Array): tf.Variable {
    return this.add(name, tf.tensor1d(values), true, false);
  }

  /** A non-trainable running statistic (BN moving mean/variance). */
  statistic(name: string, size: number, value: number): tf.Variable {
    return this.add(name, tf.fill([size], value), false, false);
  }

  get(name: string): tf.Variable {
    const param = this.params.get(name);
    if (param == null) throw new Error(`no parameter ${name}`);
    return param.variable;
  }

  trainable(): Param[] {
    return [...this.params.values()].filter((p) => p.trainable);
  }

  /** Number of trainable scalars. */
  countTrainable(): number {
    return this.trainable().reduce((sum, p) => sum + p.variable.size, 0);
  }

  dispose(): void {
    for (const p of this.params.values()) p.variable.dispose();
    this.params.clear();
  }
}
