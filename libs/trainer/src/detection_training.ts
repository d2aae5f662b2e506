import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { KdConfig } from '@kd/config';
import { readImageFolder, writeFilesAtomic, type DataProblem, type VocDataset, type VocRecord } from '@kd/data';
import {
  checkReplicas, evalLoaderFor, evaluateDetector, loadBackboneWeights, loadCheckpoint, openSplit, ReplicatedTrainStep, saveCheckpoint, trainLoaderFor,
  TrainStep, type ExtraLoss, type StepBatch, type StepRunner, type YoloV3,
} from '@kd/detection';
import { stderrLog, type Log } from './log.ts';
import { trainLoop, type StepReport } from './loop.ts';
import { ProgressBar } from './progress.ts';
import { formatDuration } from './smoothed.ts';
import type { TeacherSource } from './teacher/source.ts';
import { TeacherTargets } from './teacher/targets.ts';

/** Dataset problems do not stop training; they are listed once (a few) and counted. */
function reportProblems(log: Log, what: string, problems: DataProblem[]): void {
  for (const p of problems.slice(0, 10)) log(`warning: ${p.file}: ${p.kind}: ${p.message}`);
  if (problems.length > 10) log(`warning: ... ${problems.length - 10} more problems in the ${what} set (kd check-data lists them)`);
}

/** mAP of the model on the test split, with a log line per evaluation. */
export async function evaluateOnTest(
  model: YoloV3, config: KdConfig, testSet: VocDataset, log: Log = stderrLog,
): Promise<{ mAP: number; perClass: Record<string, number>; fps: number; images: number }> {
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

/** The teacher side of a distillation run: the ExtraLoss and where its soft targets come from. */
export interface Distillation {
  extraLoss: ExtraLoss;
  teacher: TeacherSource;
  /** Batches whose targets are requested ahead of the one being trained (0: on demand). */
  prefetch: number;
}

export interface RunTrainingOptions {
  command: string;
  configPath: string;
  overrides: string[];
  config: KdConfig;
  backend: string;
  model: YoloV3;
  distillation?: Distillation;
  eval?: boolean;
  resume?: string;
  /** Extra fields for train_summary.json (e.g. the distillation method). */
  summary?: Record<string, unknown>;
  /** Called after every step (kd experiment records loss curves). */
  onStep?: (report: StepReport) => void;
  /** Called after every evaluation (with `eval`: at each snapshot and at the end) with its mAP (0..1). */
  onEvaluation?: (step: number, mAP: number) => void;
  /** Called after every checkpoint is written (the trainer service publishes it). */
  onCheckpoint?: (dir: string, step: number, hash: string) => void | Promise<void>;
  /** Stops after the current step; model_final is still written. */
  signal?: AbortSignal;
  log?: Log;
}

/** train_reader.unlabeled's images, for kd distill; kd train has no use for them and says so. */
function unlabeledImages(log: Log, config: KdConfig, distilling: boolean): VocRecord[] {
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
async function stepRunner(log: Log, trainStep: TrainStep, config: KdConfig, backend: string): Promise<StepRunner & { close?(): Promise<void> }> {
  const { replicas } = config;
  if (replicas === 1) return trainStep;
  const cores = availableParallelism();
  if (replicas > cores) log(`warning: replicas: ${replicas} is more than this machine's ${cores} CPU cores; the extra replicas only add overhead`);
  if (backend !== 'wasm') log(`warning: replicas: ${replicas} with the ${backend} backend: replicas are meant for the single-threaded wasm backend; ${backend} already uses every core (or the GPU) from one thread`);
  const runner = await ReplicatedTrainStep.start(trainStep, replicas, backend);
  log(`data-parallel: ${replicas} replicas (this thread and ${replicas - 1} worker thread${replicas > 2 ? 's' : ''}), each batch of ${config.train_reader.batch_size} split between them`);
  return runner;
}

/** kd train and kd distill for a detector: data, resume, the loop, train_summary.json. */
export async function runTraining(o: RunTrainingOptions): Promise<Record<string, unknown>> {
  const { config, model } = o;
  const log = o.log ?? stderrLog;
  const distilling = o.distillation !== undefined;
  checkReplicas(config.replicas, config, distilling);
  const trainSet = await openSplit(config, 'train');
  reportProblems(log, 'train', trainSet.problems);
  const testSet = o.eval ? await openSplit(config, 'test') : undefined;
  if (testSet) reportProblems(log, 'test', testSet.problems);

  const trainStep = new TrainStep(model, config, o.distillation?.extraLoss);
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
  } else if (config.pretrain_backbone) {
    const loaded = loadBackboneWeights(config.pretrain_backbone, model.store, config.backbone);
    log(`backbone from ${loaded.dir} (${loaded.architecture}, ${loaded.tensors} tensors, ${loaded.contentHash.slice(0, 12)}); neck and head start fresh`);
  }
  log(`${config.backbone.name} YOLOv3, ${(model.store.countTrainable() / 1e6).toFixed(2)}M parameters, ${trainSet.records.length} training images, ${config.num_classes} classes, backend ${o.backend}`);

  const unlabeled = unlabeledImages(log, config, distilling);
  const loader = trainLoaderFor(config, trainSet, (p) => log(`warning: ${p.file}: ${p.message} (skipped)`), startStep, unlabeled);
  const targets = o.distillation ? new TeacherTargets(loader, o.distillation.teacher, o.distillation.prefetch) : undefined;
  const nextBatch = async (): Promise<StepBatch> => {
    if (targets) return targets.next();
    const next = await loader.next();
    if (next.done) throw new Error('the data loader ended before max_iters');
    return next.value;
  };
  const bar = new ProgressBar(o.command, config.max_iters);
  mkdirSync(config.save_dir, { recursive: true });
  let runner: StepRunner & { close?(): Promise<void> } = trainStep;
  let teacherWaitSoFar = 0;
  try {
    runner = await stepRunner(log, trainStep, config, o.backend);
    const summary = await trainLoop<StepBatch>({
      maxIters: config.max_iters, logIter: config.log_iter, snapshotIter: config.snapshot_iter, saveDir: config.save_dir,
      step: runner, nextBatch, imagesIn: (b) => b.ids.length, startStep, bestScore: bestMap, signal: o.signal,
      save: (dir, step, extra) => saveCheckpoint(dir, model.store, config, step, { optimizer: trainStep.optimizer, extra }),
      score: { key: 'best_map', describe: (best, step) => `Best test box ap: ${(best * 100).toFixed(2)}, in step: ${step ?? 'an earlier run'}` },
      checkpointExtra: { classes: trainSet.classes },
      evaluate: testSet ? async (step) => {
        const { mAP } = await evaluateOnTest(model, config, testSet, log);
        o.onEvaluation?.(step, mAP);
        return mAP;
      } : undefined,
      evaluateAtSnapshots: true,
      log: (line) => { bar.clear(); log(line); },
      onStep: (r) => {
        bar.update(r.step, `loss ${r.losses.loss.toFixed(2)} eta ${formatDuration(r.etaSeconds)}`);
        const teacherWait = targets ? targets.wait.seconds - teacherWaitSoFar : undefined;
        teacherWaitSoFar = targets?.wait.seconds ?? 0;
        o.onStep?.({ ...r, teacherWait });
      },
      onCheckpoint: o.onCheckpoint,
    });
    bar.done();
    const stats = loader.stats();
    const ips = summary.images / summary.seconds;
    const record = {
      command: o.command, config: o.configPath, overrides: o.overrides, ...o.summary, backend: o.backend, replicas: config.replicas, steps: summary.steps,
      interrupted: summary.interrupted, last_step: startStep + summary.steps, wall_s: summary.seconds, train_images_per_s: ips, data_wait_s: summary.dataWaitSeconds,
      ...(targets ? { teacher: o.distillation!.teacher.describe(), teacher_wait_s: targets.wait.seconds } : {}),
      final_loss: summary.finalLoss, best_map: summary.bestScore, best_step: summary.bestStep, skipped_files: Object.keys(stats.skipped).length,
      dataset_problems: trainSet.problems.length,
    };
    writeFilesAtomic([{ path: join(config.save_dir, 'train_summary.json'), content: `${JSON.stringify(record, null, 2)}\n` }]);
    log(`done: ${summary.steps} steps in ${formatDuration(summary.seconds)}, ${ips.toFixed(2)} images/s, waited ${summary.dataWaitSeconds.toFixed(1)} s on data`
      + `${targets ? ` (${targets.wait.seconds.toFixed(1)} s of it on the teacher)` : ''}, `
      + `${Object.keys(stats.skipped).length} files skipped, ${trainSet.problems.length} dataset problems${summary.bestScore != null ? `, best mAP ${(100 * summary.bestScore).toFixed(2)}% at step ${summary.bestStep}` : ''}`);
    return record;
  } finally {
    trainStep.optimizer.dispose();
    await Promise.all([targets?.close(), loader.close(), runner.close?.()]);
  }
}
