import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { loadConfig, type KdConfig } from '@kd/config';
import { readImageFolder, writeFilesAtomic, type DataProblem, type VocDataset, type VocRecord } from '@kd/data';
import { initBackend } from '@kd/engine';
import {
  checkReplicas, createYoloV3, evalLoaderFor, evaluateDetector, formatDuration, loadCheckpoint, openSplit, ReplicatedTrainStep, trainLoaderFor, trainLoop,
  TrainStep, type ExtraLoss, type StepReport, type StepRunner, type YoloV3,
} from '@kd/detection';
import { ProgressBar } from '../progress.ts';
import { isClassifierConfig, runClassifier } from './classifier.ts';
import { collect, exitTwoOnUsageError, reportUserErrors, stopOnSigint } from './common.ts';

interface TrainOptions { config: string; opt: string[]; eval?: boolean; resume?: string }

const log = (line: string) => process.stderr.write(`${new Date().toISOString().replace('T', ' ').slice(0, 19)} - INFO - ${line}\n`);

/** Dataset problems do not stop training; they are listed once (a few) and counted. */
function reportProblems(what: string, problems: DataProblem[]): void {
  for (const p of problems.slice(0, 10)) log(`warning: ${p.file}: ${p.kind}: ${p.message}`);
  if (problems.length > 10) log(`warning: ... ${problems.length - 10} more problems in the ${what} set (kd check-data lists them)`);
}

/** mAP of the model on the test split, with a log line per evaluation. */
export async function evaluateOnTest(model: YoloV3, config: KdConfig, testSet: VocDataset): Promise<{ mAP: number; perClass: Record<string, number>; fps: number; images: number }> {
  const loader = evalLoaderFor(config, testSet);
  try {
    const result = await evaluateDetector(model, loader, testSet.records, config, testSet.classes);
    const fps = result.images / result.inferenceSeconds;
    log(`mAP(0.50, ${config.map_type}) = ${(100 * result.mAP).toFixed(2)}% on ${result.images} images, ${fps.toFixed(1)} fps`);
    return { mAP: result.mAP, perClass: result.perClass, fps, images: result.images };
  } finally {
    await loader.close();
  }
}

/** `kd train`: PaddleDetection's tools/train.py for YOLOv3. */
export function trainCommand(): Command {
  return exitTwoOnUsageError(new Command('train'))
    .description('train a YOLOv3 detector, or a crop classifier (architecture: Classifier), from a config (PaddleDetection tools/train.py)')
    .requiredOption('-c, --config <file>', 'YAML config, e.g. configs/yolov3_mobilenet_v1_shapes.yml or configs/classifier_mobilenet_v1_shapes.yml')
    .option('-o, --opt <key=value>', 'override a config key (repeatable), e.g. -o max_iters=100', collect, [])
    .option('--eval', 'evaluate on the test split at every snapshot and keep best_model by mAP')
    .option('-r, --resume <checkpoint>', 'resume from a checkpoint folder: weights, optimizer state and step')
    .action((opts: TrainOptions) => reportUserErrors('train', () => train(opts)));
}

async function train(opts: TrainOptions): Promise<void> {
  if (isClassifierConfig(opts.config, opts.opt)) {
    await runClassifier({ command: 'train', configPath: opts.config, overrides: opts.opt, eval: opts.eval, resume: opts.resume });
    return;
  }
  const config = loadConfig(opts.config, opts.opt);
  const backend = await initBackend();
  const model = createYoloV3(config);
  await runTraining({ command: 'train', configPath: opts.config, overrides: opts.opt, config, backend: backend.name, model, eval: opts.eval, resume: opts.resume });
}

export interface RunTrainingOptions {
  command: string;
  configPath: string;
  overrides: string[];
  config: KdConfig;
  backend: string;
  model: YoloV3;
  /** Added to the detection loss (kd distill's teacher terms). */
  extraLoss?: ExtraLoss;
  eval?: boolean;
  resume?: string;
  /** Extra fields for train_summary.json (e.g. the distillation method). */
  summary?: Record<string, unknown>;
  /** Called after every step (kd experiment records loss curves). */
  onStep?: (report: StepReport) => void;
}

/** train_reader.unlabeled's images, for kd distill; kd train has no use for them and says so. */
function unlabeledImages(config: KdConfig, distilling: boolean): VocRecord[] {
  const spec = config.train_reader.unlabeled;
  if (!spec || spec.ratio === 0) return [];
  if (!distilling) {
    log(`warning: train_reader.unlabeled is ignored: unlabeled images only get distillation terms (kd distill)`);
    return [];
  }
  const records = readImageFolder(spec.dir);
  log(`unlabeled: ${records.length} images from ${spec.dir}, ${Math.round(spec.ratio * config.train_reader.batch_size)} per batch of ${config.train_reader.batch_size}`);
  return records;
}

/** The step runner for `replicas`: the train step itself, or data-parallel worker threads around it. */
async function stepRunner(trainStep: TrainStep, config: KdConfig, backend: string): Promise<StepRunner & { close?(): Promise<void> }> {
  const { replicas } = config;
  if (replicas === 1) return trainStep;
  const cores = availableParallelism();
  if (replicas > cores) log(`warning: replicas: ${replicas} is more than this machine's ${cores} CPU cores; the extra replicas only add overhead`);
  if (backend !== 'wasm') log(`warning: replicas: ${replicas} with the ${backend} backend: replicas are meant for the single-threaded wasm backend; ${backend} already uses every core (or the GPU) from one thread`);
  const runner = await ReplicatedTrainStep.start(trainStep, replicas, backend);
  log(`data-parallel: ${replicas} replicas (this thread and ${replicas - 1} worker thread${replicas > 2 ? 's' : ''}), each batch of ${config.train_reader.batch_size} split between them`);
  return runner;
}

/** The shared body of kd train and kd distill: data, resume, loop, summary. */
export async function runTraining(o: RunTrainingOptions): Promise<Record<string, unknown>> {
  const { config, model } = o;
  checkReplicas(config.replicas, config, o.extraLoss !== undefined);
  const trainSet = await openSplit(config, 'train');
  reportProblems('train', trainSet.problems);
  const testSet = o.eval ? await openSplit(config, 'test') : undefined;
  if (testSet) reportProblems('test', testSet.problems);

  const trainStep = new TrainStep(model, config, o.extraLoss);
  let startStep = 0;
  let bestMap: number | undefined;
  if (o.resume) {
    const loaded = loadCheckpoint(o.resume, model.store, config, trainStep.optimizer);
    startStep = loaded.step;
    bestMap = typeof loaded.extra.best_map === 'number' && loaded.extra.best_map >= 0 ? loaded.extra.best_map : undefined;
    log(`resumed from ${loaded.dir} at step ${startStep}`);
  } else if (config.weights) {
    // PaddleDetection's pretrain_weights: the weights only; schedule and optimizer start fresh
    const loaded = loadCheckpoint(config.weights, model.store, config);
    log(`starting from the weights of ${loaded.dir} (step ${loaded.step}, ${loaded.contentHash.slice(0, 12)})`);
  }
  log(`${config.backbone.name} YOLOv3, ${(model.store.countTrainable() / 1e6).toFixed(2)}M parameters, ${trainSet.records.length} training images, ${config.num_classes} classes, backend ${o.backend}`);

  const unlabeled = unlabeledImages(config, o.extraLoss !== undefined);
  const loader = trainLoaderFor(config, trainSet, (p) => log(`warning: ${p.file}: ${p.message} (skipped)`), startStep, unlabeled);
  const bar = new ProgressBar(o.command, config.max_iters);
  const interrupt = stopOnSigint(log);
  mkdirSync(config.save_dir, { recursive: true });
  let runner: StepRunner & { close?(): Promise<void> } = trainStep;
  try {
    runner = await stepRunner(trainStep, config, o.backend);
    const summary = await trainLoop({
      config, trainStep: runner, batches: loader, startStep, bestMap, signal: interrupt.signal, checkpointExtra: { classes: trainSet.classes },
      evaluate: testSet ? async () => (await evaluateOnTest(model, config, testSet)).mAP : undefined,
      log: (line) => { bar.clear(); log(line); },
      onStep: (r) => {
        bar.update(r.step, `loss ${r.losses.loss.toFixed(2)} eta ${formatDuration(r.etaSeconds)}`);
        o.onStep?.(r);
      },
    });
    bar.done();
    const stats = loader.stats();
    const ips = summary.images / summary.seconds;
    const record = {
      command: o.command, config: o.configPath, overrides: o.overrides, ...o.summary, backend: o.backend, replicas: config.replicas, steps: summary.steps,
      wall_s: summary.seconds, train_images_per_s: ips, data_wait_s: summary.dataWaitSeconds, final_loss: summary.finalLoss,
      best_map: summary.bestMap, best_step: summary.bestStep, skipped_files: Object.keys(stats.skipped).length,
      dataset_problems: trainSet.problems.length,
    };
    writeFilesAtomic([{ path: join(config.save_dir, 'train_summary.json'), content: `${JSON.stringify(record, null, 2)}\n` }]);
    log(`done: ${summary.steps} steps in ${formatDuration(summary.seconds)}, ${ips.toFixed(2)} images/s, waited ${summary.dataWaitSeconds.toFixed(1)} s on data, `
      + `${Object.keys(stats.skipped).length} files skipped, ${trainSet.problems.length} dataset problems${summary.bestMap != null ? `, best mAP ${(100 * summary.bestMap).toFixed(2)}% at step ${summary.bestStep}` : ''}`);
    return record;
  } finally {
    interrupt.dispose();
    trainStep.optimizer.dispose();
    await Promise.all([loader.close(), runner.close?.()]);
  }
}
