import * as tf from '@tensorflow/tfjs-core';
import { initBackend, useBackend } from '../backend.ts';
import { createBenchmarkModel, type BenchmarkModel } from './benchmark_model.ts';
import { benchmarkLoss } from './benchmark_loss.ts';
import { ReplicatedBenchStep, type ReplicaStepPhases } from './replicated_bench_step.ts';
import { relativeError } from '../relative_error.ts';
import { benchmarkTrainStep } from './engine_profile.ts';
import { median, medianPhases } from './median.ts';

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
  /** Where the two-replica step's time goes on the main thread (medians over rounds); null when not timed. */
  replicas2_phases: ReplicaStepPhases | null;
  /** Each round's medians, in order (the figures above are their medians). */
  rounds: Array<{ forward_ms: number; train_step_ms: number; replicas2_train_step_ms: number | null }>;
  /** null when the cpu backend was skipped. */
  cpu_train_step_ms: number | null;
  /** max |g - g_cpu| / max |g_cpu| over all parameter gradients of one batch; null without cpu. */
  grad_max_rel_err: number | null;
  /** The median over every timed step of its time over the forward's timed just before it. */
  train_step_over_forward: number;
  speedup_over_cpu: number | null;
}

export const defaultEngineBench: EngineBenchOptions = { repeats: 10, warmup: 3, batch: 8, size: 160, cpu: true, replicas2: true };

const lossOf = benchmarkLoss;

/** Milliseconds one fully synchronous call of `f` takes. */
function elapsedMs(f: () => void): number {
  const start = performance.now();
  f();
  return performance.now() - start;
}

function gradients(model: BenchmarkModel, x: tf.Tensor4D): Float32Array {
  return tf.tidy(() => {
    const { grads } = tf.variableGrads(() => lossOf(model, x), model.variables);
    return tf.concat(model.variables.map((v) => grads[v.name].flatten())).dataSync() as Float32Array;
  });
}

/**
 * The benchmark step split over two replicas, on a fresh model and optimizer: the median ms,
 * and the median of each phase of it (ReplicaStepPhases).
 */
async function timeReplicas2(opts: EngineBenchOptions, backend: string): Promise<{ ms: number; phases: ReplicaStepPhases }> {
  const model = createBenchmarkModel(1);
  const shape: [number, number, number, number] = [opts.batch, opts.size, opts.size, 3];
  const images = tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', 7).dataSync() as Float32Array);
  const optimizer = tf.train.adam(1e-3);
  const replicated = await ReplicatedBenchStep.start(model, backend);
  try {
    for (let i = 0; i < opts.warmup; i++) await replicated.run(images, shape, optimizer);
    const times: number[] = [];
    const phases: ReplicaStepPhases[] = [];
    for (let i = 0; i < opts.repeats; i++) {
      const start = performance.now();
      await replicated.run(images, shape, optimizer);
      times.push(performance.now() - start);
      phases.push(replicated.lastPhases);
    }
    return { ms: median(times), phases: medianPhases(phases) };
  } finally {
    await replicated.close();
    optimizer.dispose();
    tf.dispose(model.variables);
  }
}

interface Measured {
  trainMs: number;
  forwardMs: number | null;
  /** Each timed step over the forward timed just before it (empty without forward). */
  stepOverForward: number[];
  grads: Float32Array;
}

/**
 * Gradients at the initial weights (before any step changes them), then forward and
 * train-step times, in alternation (a forward, then a step) so that a slow spell of the
 * machine slows both sides of their ratio. `timeForward: false` with repeats 1, warmup 0 is
 * the cheap mode for the slow cpu backend: the gradient pass runs the same kernels, so it
 * doubles as the warm-up.
 */
function measure(opts: EngineBenchOptions, repeats: number, warmup: number, timeForward: boolean): Measured {
  const model = createBenchmarkModel(1);
  const x = tf.randomNormal([opts.batch, opts.size, opts.size, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const grads = gradients(model, x);
  const optimizer = tf.train.adam(1e-3);
  const forward = () => tf.tidy(() => { model.forward(x).dataSync(); });
  const step = () => benchmarkTrainStep(model, optimizer, x);
  for (let i = 0; i < warmup; i++) {
    if (timeForward) forward();
    step();
  }
  const forwardTimes: number[] = [];
  const stepTimes: number[] = [];
  for (let i = 0; i < repeats; i++) {
    if (timeForward) forwardTimes.push(elapsedMs(forward));
    stepTimes.push(elapsedMs(step));
  }
  optimizer.dispose();
  tf.dispose([x, ...model.variables]);
  return {
    trainMs: median(stepTimes),
    forwardMs: timeForward ? median(forwardTimes) : null,
    stepOverForward: forwardTimes.map((f, i) => stepTimes[i] / f),
    grads,
  };
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
  const stepOverForward: number[] = [];
  const phases: ReplicaStepPhases[] = [];
  const roundCount = opts.rounds ?? 1;
  for (let round = 0; round < roundCount; round++) {
    log(`${roundCount > 1 ? `round ${round + 1}/${roundCount}: ` : ''}timing ${backend.name}: ${opts.warmup} warm-up + ${opts.repeats} timed runs each${opts.replicas2 ? ', then 2 replicas' : ''}`);
    const main = measure(opts, opts.repeats, opts.warmup, true);
    grads ??= main.grads;
    stepOverForward.push(...main.stepOverForward);
    const replicas2 = opts.replicas2 ? await timeReplicas2(opts, backend.name) : null;
    if (replicas2) phases.push(replicas2.phases);
    rounds.push({ forward_ms: main.forwardMs as number, train_step_ms: main.trainMs, replicas2_train_step_ms: replicas2?.ms ?? null });
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
    replicas2_phases: phases.length > 0 ? medianPhases(phases) : null,
    rounds,
    cpu_train_step_ms: cpu?.trainMs ?? null,
    grad_max_rel_err: cpu && grads ? relativeError(cpu.grads, grads) : null,
    train_step_over_forward: median(stepOverForward),
    speedup_over_cpu: cpu ? cpu.trainMs / trainMs : null,
  };
}
