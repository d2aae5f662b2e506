import * as tf from '@tensorflow/tfjs-core';
import { initBackend, useBackend } from '../backend.ts';
import { createBenchmarkModel, type BenchmarkModel } from './benchmark_model.ts';
import { benchmarkLoss } from './benchmark_loss.ts';
import { ReplicatedBenchStep } from './replicated_bench_step.ts';
import { relativeError } from '../relative_error.ts';

export interface EngineBenchOptions {
  /** Timed repetitions for forward and train step (after `warmup` untimed ones). */
  repeats: number;
  warmup: number;
  batch: number;
  size: number;
  /** Also time the cpu backend (slow: minutes per step at the full size). */
  cpu: boolean;
  /** Also time the step split over two replicas (this thread and a worker thread), as `replicas: 2`. */
  replicas2?: boolean;
  /**
   * Timing rounds (default 1); each figure is the median over rounds of each round's median.
   * `betweenRounds` runs after each round's timing: a peer timed in alternation with kd.
   */
  rounds?: number;
  betweenRounds?: (round: number) => Promise<void>;
  /** Called with a line of progress; the bench takes minutes with `cpu`. */
  progress?: (line: string) => void;
}

export interface EngineBenchResult {
  backend: string;
  batch: number;
  input_size: number;
  forward_ms: number;
  train_step_ms: number;
  /** The same batch's step over two worker-thread replicas (data-parallel `replicas: 2`); null when not timed. */
  replicas2_train_step_ms: number | null;
  /** Each round's medians, in order (the figures above are their medians). */
  rounds: Array<{ forward_ms: number; train_step_ms: number; replicas2_train_step_ms: number | null }>;
  /** null when the cpu backend was skipped. */
  cpu_train_step_ms: number | null;
  /** max |g - g_cpu| / max |g_cpu| over all parameter gradients of one batch; null without cpu. */
  grad_max_rel_err: number | null;
  train_step_over_forward: number;
  speedup_over_cpu: number | null;
}

export const defaultEngineBench: EngineBenchOptions = { repeats: 10, warmup: 3, batch: 8, size: 160, cpu: true, replicas2: true };

const lossOf = benchmarkLoss;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median milliseconds of `f` over `repeats` runs after `warmup` runs; each run is fully synchronous. */
function timeMs(f: () => void, repeats: number, warmup: number): number {
  for (let i = 0; i < warmup; i++) f();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    f();
    times.push(performance.now() - start);
  }
  return median(times);
}

/** One Adam step of the benchmark model; reads the loss back so async backends finish the step. */
function trainStep(model: BenchmarkModel, optimizer: tf.Optimizer, x: tf.Tensor4D): void {
  tf.tidy(() => {
    const loss = optimizer.minimize(() => lossOf(model, x), true, model.variables);
    loss?.dataSync();
  });
}

function gradients(model: BenchmarkModel, x: tf.Tensor4D): Float32Array {
  return tf.tidy(() => {
    const { grads } = tf.variableGrads(() => lossOf(model, x), model.variables);
    return tf.concat(model.variables.map((v) => grads[v.name].flatten())).dataSync() as Float32Array;
  });
}

/** timeMs for an asynchronous step. */
async function timeMsAsync(f: () => Promise<void>, repeats: number, warmup: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await f();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await f();
    times.push(performance.now() - start);
  }
  return median(times);
}

/** Median ms of the benchmark step split over two replicas, on a fresh model and optimizer. */
async function timeReplicas2(opts: EngineBenchOptions, backend: string): Promise<number> {
  const model = createBenchmarkModel(1);
  const shape: [number, number, number, number] = [opts.batch, opts.size, opts.size, 3];
  const images = tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', 7).dataSync() as Float32Array);
  const optimizer = tf.train.adam(1e-3);
  const replicated = await ReplicatedBenchStep.start(model, backend);
  try {
    return await timeMsAsync(() => replicated.run(images, shape, optimizer), opts.repeats, opts.warmup);
  } finally {
    await replicated.close();
    optimizer.dispose();
    tf.dispose(model.variables);
  }
}

interface Measured { trainMs: number; forwardMs: number | null; grads: Float32Array }

/**
 * Gradients at the initial weights (before any step changes them), then forward and
 * train-step times. `timeForward: false` with repeats 1, warmup 0 is the cheap mode for the
 * slow cpu backend: the gradient pass runs the same kernels, so it doubles as the warm-up.
 */
function measure(opts: EngineBenchOptions, repeats: number, warmup: number, timeForward: boolean): Measured {
  const model = createBenchmarkModel(1);
  const x = tf.randomNormal([opts.batch, opts.size, opts.size, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const grads = gradients(model, x);
  const forwardMs = timeForward ? timeMs(() => tf.tidy(() => { model.forward(x).dataSync(); }), repeats, warmup) : null;
  const optimizer = tf.train.adam(1e-3);
  const trainMs = timeMs(() => trainStep(model, optimizer, x), repeats, warmup);
  optimizer.dispose();
  tf.dispose([x, ...model.variables]);
  return { trainMs, forwardMs, grads };
}

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

/** profileKernels over one train step of the benchmark model. */
export async function profileTrainStep(opts: EngineBenchOptions): Promise<KernelProfileRow[]> {
  await initBackend();
  const model = createBenchmarkModel(1);
  const x = tf.randomNormal([opts.batch, opts.size, opts.size, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const optimizer = tf.train.adam(1e-3);
  for (let i = 0; i < opts.warmup; i++) trainStep(model, optimizer, x);
  const rows = await profileKernels(() => trainStep(model, optimizer, x));
  optimizer.dispose();
  tf.dispose([x, ...model.variables]);
  return rows;
}

/**
 * The engine benchmark: forward and Adam train-step time of the fixed benchmark model on the
 * selected backend (KD_BACKEND), the cpu backend's train step, and how far the selected
 * backend's gradients are from the cpu backend's.
 */
export async function runEngineBench(opts: EngineBenchOptions): Promise<EngineBenchResult> {
  const log = opts.progress ?? (() => {});
  const backend = await initBackend();
  const rounds: EngineBenchResult['rounds'] = [];
  let grads: Float32Array | undefined;
  const roundCount = opts.rounds ?? 1;
  for (let round = 0; round < roundCount; round++) {
    log(`${roundCount > 1 ? `round ${round + 1}/${roundCount}: ` : ''}timing ${backend.name}: ${opts.warmup} warm-up + ${opts.repeats} timed runs each${opts.replicas2 ? ', then 2 replicas' : ''}`);
    const main = measure(opts, opts.repeats, opts.warmup, true);
    grads ??= main.grads;
    const replicas2 = opts.replicas2 ? await timeReplicas2(opts, backend.name) : null;
    rounds.push({ forward_ms: main.forwardMs as number, train_step_ms: main.trainMs, replicas2_train_step_ms: replicas2 });
    await opts.betweenRounds?.(round);
  }
  const forwardMs = median(rounds.map((r) => r.forward_ms));
  const trainMs = median(rounds.map((r) => r.train_step_ms));
  let cpu: Measured | undefined;
  if (opts.cpu) {
    log('timing the cpu backend: one gradient pass (the warm-up) + 1 timed train step (slow)');
    await useBackend('cpu');
    cpu = measure(opts, 1, 0, false);
    await useBackend(backend.name as 'tensorflow' | 'wasm' | 'cpu');
  }
  return {
    backend: backend.name,
    batch: opts.batch,
    input_size: opts.size,
    forward_ms: forwardMs,
    train_step_ms: trainMs,
    replicas2_train_step_ms: opts.replicas2 ? median(rounds.map((r) => r.replicas2_train_step_ms as number)) : null,
    rounds,
    cpu_train_step_ms: cpu?.trainMs ?? null,
    grad_max_rel_err: cpu && grads ? relativeError(cpu.grads, grads) : null,
    train_step_over_forward: trainMs / forwardMs,
    speedup_over_cpu: cpu ? cpu.trainMs / trainMs : null,
  };
}
