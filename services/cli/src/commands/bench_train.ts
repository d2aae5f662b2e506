// `kd bench train`: train-step time of a config's model with 1, 2, ... data-parallel replicas.
import { Command } from 'commander';
import { loadConfig, type KdConfig } from '@kd/config';
import { initBackend, median, medianPhases, profileKernels, type ReplicaStepPhases } from '@kd/engine';
import { checkReplicas, createYoloV3, ReplicatedTrainStep, syntheticBatch, TrainStep, type StepRunner } from '@kd/detection';
import { collect, exitTwoOnUsageError, integerList, positiveInt, reportUserErrors } from './common.ts';
import { formatProfile } from './profile_table.ts';

interface Row {
  replicas: number; ms_per_step: number; images_per_s: number; speedup: number;
  /** With replicas > 1: where a step's time goes on the main thread, medians over the timed steps. */
  phases?: ReplicaStepPhases;
}

/**
 * Runs `use` with one step of a fresh model on `replicas` threads (`step()`, on one fixed
 * synthetic batch), after `warmup` untimed steps; frees the model and threads after.
 */
async function withWarmStep<T>(
  config: KdConfig, replicas: number, backend: string, size: number, warmup: number,
  use: (step: () => Promise<unknown>, runner: StepRunner | ReplicatedTrainStep) => Promise<T>,
): Promise<T> {
  const trainStep = new TrainStep(createYoloV3(config), config);
  const runner = replicas === 1 ? trainStep : await ReplicatedTrainStep.start(trainStep, replicas, backend);
  const batch = syntheticBatch(config.train_reader.batch_size, size, config.num_classes, 1);
  // a step late in warmup: the lr is small but not 0, so weights change as in training
  const step = async () => runner.run(batch, 100);
  try {
    for (let i = 0; i < warmup; i++) await step();
    return await use(step, runner);
  } finally {
    if (runner instanceof ReplicatedTrainStep) await runner.close();
    trainStep.optimizer.dispose();
    trainStep.model.store.dispose();
  }
}

/** Median ms per step of `steps` timed steps after `warmup` untimed ones, and with replicas the median phases. */
function timeSteps(config: KdConfig, replicas: number, backend: string, size: number, warmup: number, steps: number): Promise<{ ms: number; phases?: ReplicaStepPhases }> {
  return withWarmStep(config, replicas, backend, size, warmup, async (step, runner) => {
    const times: number[] = [];
    const phases: ReplicaStepPhases[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      await step();
      times.push(performance.now() - t0);
      if (runner instanceof ReplicatedTrainStep) phases.push(runner.lastPhases);
    }
    return phases.length === 0 ? { ms: median(times) } : { ms: median(times), phases: medianPhases(phases) };
  });
}

function formatTable(config: KdConfig, size: number, backend: string, rows: Row[]): string {
  const head = [
    `model      ${config.backbone.name} YOLOv3, batch ${config.train_reader.batch_size} at ${size}x${size}, backend ${backend}, synthetic data (no loader)`,
    '',
    `${'replicas'.padEnd(10)}${'ms/step'.padStart(10)}${'images/s'.padStart(10)}${'speed-up'.padStart(10)}`,
  ];
  const table = rows.map((r) => `${String(r.replicas).padEnd(10)}${r.ms_per_step.toFixed(0).padStart(10)}${r.images_per_s.toFixed(2).padStart(10)}${`${r.speedup.toFixed(2)}x`.padStart(10)}`);
  const phases = rows.filter((r) => r.phases).map(({ replicas, phases: p }) => `${replicas} replicas, main thread (ms): share weights ${p!.share_ms.toFixed(0)}, `
    + `own shard's gradients ${p!.own_gradients_ms.toFixed(0)}, wait for the others ${p!.wait_ms.toFixed(0)}, average + update ${p!.update_ms.toFixed(0)}`);
  return [...head, ...table, ...(phases.length > 0 ? ['', ...phases] : [])].join('\n');
}

/** The `bench train` subcommand. */
export function benchTrainCommand(): Command {
  return exitTwoOnUsageError(new Command('train'))
    .description('train-step time of a config\'s model with 1, 2, ... data-parallel replicas (the config key replicas), on synthetic batches')
    .requiredOption('-c, --config <file>', 'detector config, e.g. configs/yolov3_r34_shapes.yml')
    .option('-o, --opt <key=value>', 'override a config key (repeatable)', collect, [])
    .option('--replicas <list>', 'replica counts to time (default 1,2)', integerList(1, 'replica counts', '1,2'), [1, 2])
    .option('--size <px>', 'input size (default: the largest of train_reader.sizes)', positiveInt)
    .option('--steps <n>', 'timed steps per replica count, median reported (default 10)', positiveInt, 10)
    .option('--warmup <n>', 'untimed steps first (default 2)', positiveInt, 2)
    .option('--profile', 'instead: time one step (one replica) per tfjs kernel (tf.profile)')
    .option('--json', 'print one JSON object instead of a table')
    .action((opts: { config: string; opt: string[]; replicas: number[]; size?: number; steps: number; warmup: number; profile?: boolean; json?: boolean }) => reportUserErrors('bench train', async () => {
      const config = loadConfig(opts.config, opts.opt);
      const size = opts.size ?? Math.max(...config.train_reader.sizes);
      if (opts.profile) {
        const backend = (await initBackend()).name;
        // one replica: tf.profile sees only this thread's kernels
        const rows = await withWarmStep(config, 1, backend, size, opts.warmup, profileKernels);
        process.stdout.write(opts.json ? `${JSON.stringify(rows)}\n` : `${formatProfile(rows)}\n`);
        return;
      }
      for (const replicas of opts.replicas) checkReplicas(replicas, config); // before any timing
      const backend = (await initBackend()).name;
      const rows: Row[] = [];
      for (const replicas of opts.replicas) {
        process.stderr.write(`kd bench train: ${replicas} replica${replicas > 1 ? 's' : ''}, ${opts.warmup} + ${opts.steps} steps\n`);
        const { ms, phases } = await timeSteps(config, replicas, backend, size, opts.warmup, opts.steps);
        rows.push({ replicas, ms_per_step: ms, images_per_s: (1000 * config.train_reader.batch_size) / ms, speedup: rows.length === 0 ? 1 : rows[0].ms_per_step / ms, ...(phases ? { phases } : {}) });
      }
      const result = { config: opts.config, overrides: opts.opt, backbone: config.backbone.name, batch: config.train_reader.batch_size, size, backend, rows };
      process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `${formatTable(config, size, backend, rows)}\n`);
    }));
}
