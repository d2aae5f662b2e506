import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend.ts';
import { createBenchmarkModel, separableBlocks } from './benchmark_model.ts';
import { benchmarkLoss } from './benchmark_loss.ts';
import { median } from './median.ts';

export interface KernelProfileRow { kernel: string; ms: number; calls: number }

/**
 * Milliseconds per tfjs kernel over one call of `f` (tf.profile), summed by kernel name,
 * largest first: where a step's time goes, to find what to make faster next.
 */
export async function profileKernels(f: () => unknown): Promise<KernelProfileRow[]> {
  const info = await tf.profile(async () => { await f(); });
  const rows = new Map<string, KernelProfileRow>();
  for (const k of info.kernels) {
    const row = rows.get(k.name) ?? { kernel: k.name, ms: 0, calls: 0 };
    row.ms += Number(await k.kernelTimeMs);
    row.calls++;
    rows.set(k.name, row);
  }
  return [...rows.values()].sort((a, b) => b.ms - a.ms);
}

/** One Adam step of the benchmark model; reads the loss back so async backends finish the step. */
export function benchmarkTrainStep(model: ReturnType<typeof createBenchmarkModel>, optimizer: tf.Optimizer, x: tf.Tensor4D): void {
  tf.tidy(() => {
    const loss = optimizer.minimize(() => benchmarkLoss(model, x), true, model.variables);
    loss?.dataSync();
  });
}

/** profileKernels over one train step of the benchmark model, after `warmup` steps. */
export async function profileTrainStep(opts: { batch: number; size: number; warmup: number }): Promise<KernelProfileRow[]> {
  await initBackend();
  const model = createBenchmarkModel(1);
  const x = tf.randomNormal([opts.batch, opts.size, opts.size, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const optimizer = tf.train.adam(1e-3);
  for (let i = 0; i < opts.warmup; i++) benchmarkTrainStep(model, optimizer, x);
  const rows = await profileKernels(() => benchmarkTrainStep(model, optimizer, x));
  optimizer.dispose();
  tf.dispose([x, ...model.variables]);
  return rows;
}

/**
 * The parts a train step is compared by, with PyTorch's profile (scripts/bench/torch_engine.py
 * --profile groups its ops the same way): the dense and depthwise convolutions forward and
 * backward (both gradients: PyTorch computes them in one op), "other" for the rest of forward
 * and backward (bias, ReLU, the loss, their gradients, and the framework's own time between
 * kernels), and the optimizer's whole update.
 */
export const stepParts = ['dense_conv_forward', 'depthwise_conv_forward', 'dense_conv_gradients', 'depthwise_conv_gradients', 'other', 'optimizer', 'step'] as const;
export type StepPart = typeof stepParts[number];
export type StepParts = Record<StepPart, number>;

const kernelPart: Record<string, StepPart> = {
  Conv2D: 'dense_conv_forward',
  DepthwiseConv2dNative: 'depthwise_conv_forward',
  Conv2DBackpropInput: 'dense_conv_gradients',
  Conv2DBackpropFilter: 'dense_conv_gradients',
  DepthwiseConv2dNativeBackpropInput: 'depthwise_conv_gradients',
  DepthwiseConv2dNativeBackpropFilter: 'depthwise_conv_gradients',
};

/**
 * Where a train step's time goes, by part (stepParts): `repeats` steps after `warmup`, each
 * run twice, once timed and once under tf.profile; the convolutions' parts are their kernels'
 * times from the profiled run; "other" and the optimizer come from the timed run (its
 * gradient pass minus the convolutions; its update), as profiling adds time between kernels.
 * The median per part.
 */
export async function profileStepParts(opts: { batch: number; size: number; warmup: number; repeats: number }): Promise<StepParts> {
  await initBackend();
  const model = createBenchmarkModel(1);
  const x = tf.randomNormal([opts.batch, opts.size, opts.size, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const optimizer: tf.Optimizer = tf.train.adam(1e-3);
  const gradientPass = (): tf.NamedTensorMap => {
    const { value, grads } = tf.variableGrads(() => benchmarkLoss(model, x), model.variables);
    value.dataSync();
    value.dispose();
    return grads;
  };
  const update = (grads: tf.NamedTensorMap) => {
    optimizer.applyGradients(grads);
    tf.dispose(grads);
    // the update is asynchronous on some backends: a read makes the step end here
    model.variables[0].dataSync();
  };
  for (let i = 0; i < opts.warmup; i++) benchmarkTrainStep(model, optimizer, x);
  const steps: StepParts[] = [];
  for (let i = 0; i < opts.repeats; i++) {
    const t0 = performance.now();
    const grads = gradientPass();
    const t1 = performance.now();
    update(grads);
    const t2 = performance.now();
    const rows = await profileKernels(() => update(gradientPass()));
    const parts = Object.fromEntries(stepParts.map((p) => [p, 0])) as StepParts;
    for (const row of rows) {
      const part = kernelPart[row.kernel];
      if (part) parts[part] += row.ms;
    }
    parts.other = t1 - t0 - (parts.dense_conv_forward + parts.depthwise_conv_forward + parts.dense_conv_gradients + parts.depthwise_conv_gradients);
    parts.optimizer = t2 - t1;
    parts.step = t2 - t0;
    steps.push(parts);
  }
  optimizer.dispose();
  tf.dispose([x, ...model.variables]);
  return Object.fromEntries(stepParts.map((p) => [p, median(steps.map((s) => s[p]))])) as StepParts;
}

/**
 * Multiply-adds of the benchmark model's convolutions at batch `batch` and `size` x `size`
 * input, per conv part: both sides do this arithmetic, so ms per part gives each side's
 * GFLOP/s. The gradients are the filter's of every conv and the input's of all but the
 * first (the image needs none).
 */
export function benchmarkConvMacs(batch: number, size: number): Record<'dense_conv_forward' | 'depthwise_conv_forward' | 'dense_conv_gradients' | 'depthwise_conv_gradients', number> {
  let h = Math.ceil(size / 2);
  const stem = batch * h * h * 3 * 16 * 9;
  let dense = 0;
  let depthwise = 0;
  let channels = 16;
  for (const [out, stride] of separableBlocks) {
    h = Math.ceil(h / stride);
    depthwise += batch * h * h * channels * 9;
    dense += batch * h * h * channels * out;
    channels = out;
  }
  dense += batch * h * h * channels * 75;
  return {
    dense_conv_forward: stem + dense,
    depthwise_conv_forward: depthwise,
    dense_conv_gradients: stem + 2 * dense,
    depthwise_conv_gradients: 2 * depthwise,
  };
}
