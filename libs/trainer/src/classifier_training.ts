// kd train / kd distill for `architecture: Classifier` configs: a classifier on the object
// crops of a VOC dataset, optionally taught by a frozen classifier teacher (logit_l2, soft_kl).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { configArchitecture, loadClassifierConfig, type ClassifierConfig } from '@kd/config';
import {
  ClassifierTrainStep, classifierDistillation, createClassifier, CropBatcher, evaluateClassifier, extractCrops, TeacherMismatchError,
  type ClassifierDistill, type CropSet,
} from '@kd/classification';
import { writeFilesAtomic } from '@kd/data';
import { initBackend } from '@kd/engine';
import { loadCheckpoint, openSplit, saveCheckpoint } from '@kd/detection';
import { stderrLog, type Log } from './log.ts';
import { trainLoop } from './loop.ts';
import { ProgressBar, progressReporter } from './progress.ts';
import { formatDuration } from './smoothed.ts';

/** True when the config file (after `_BASE_` and `-o`) declares `architecture: Classifier`. */
export function isClassifierConfig(path: string, overrides: readonly string[] = []): boolean {
  return configArchitecture(path, overrides) === 'Classifier';
}

/** The crops of a split, with a progress line while decoding and the dataset's problems counted. */
async function cropsOf(log: Log, config: ClassifierConfig, which: 'train' | 'test'): Promise<CropSet> {
  const split = await openSplit(config, which);
  const progress = progressReporter(`${which} crops`);
  const crops = await extractCrops(split.records, split.classes, {
    size: config.reader.size, context: config.reader.context, onProgress: (done, total) => progress('decoding', done, total),
  });
  for (const p of crops.problems.slice(0, 10)) log(`warning: ${p.file}: ${p.kind}: ${p.message} (skipped)`);
  log(`${which}: ${crops.count} crops of ${config.reader.size}x${config.reader.size} from ${split.records.length} images (${split.problems.length} dataset problems, ${crops.problems.length} images skipped)`);
  return crops;
}

export interface ClassifierRunOptions {
  command: 'train' | 'distill';
  configPath: string;
  overrides: string[];
  /** Evaluate at every snapshot too (the final evaluation always runs). */
  eval?: boolean;
  resume?: string;
  teacher?: { configPath: string; pretrained: string };
  /** Stops after the current step; model_final is still written. */
  signal?: AbortSignal;
  log?: Log;
}

/** kd train / kd distill for a classifier config; writes checkpoints and train_summary.json under save_dir. */
export async function runClassifier(o: ClassifierRunOptions): Promise<Record<string, unknown>> {
  const log = o.log ?? stderrLog;
  const config = loadClassifierConfig(o.configPath, o.overrides);
  let teacherSpec: { config: ClassifierConfig; configPath: string; pretrained: string } | undefined;
  if (o.teacher) {
    if (!isClassifierConfig(o.teacher.configPath)) {
      throw new TeacherMismatchError(`teacher ${o.teacher.configPath} is not a Classifier config: a classifier student needs a classifier teacher`);
    }
    teacherSpec = { config: loadClassifierConfig(o.teacher.configPath), ...o.teacher };
    if (teacherSpec.config.num_classes !== config.num_classes) {
      // before any decoding: the cheapest place to say it
      throw new TeacherMismatchError(`teacher ${o.teacher.configPath}: num_classes ${teacherSpec.config.num_classes}, the student's (${o.configPath}) is ${config.num_classes}`);
    }
  }
  const backend = await initBackend();
  const model = createClassifier(config);
  let distill: ClassifierDistill | undefined;
  // the teacher's checkpoint is checked before the (slower) crop decoding
  const teacher = teacherSpec ? createClassifier(teacherSpec.config) : undefined;
  const teacherLoaded = teacherSpec && teacher ? loadCheckpoint(teacherSpec.pretrained, teacher.store, teacherSpec.config) : undefined;
  const trainSet = await cropsOf(log, config, 'train');
  const testSet = await cropsOf(log, config, 'test');
  if (teacherSpec && teacher && teacherLoaded) {
    const classes = Array.isArray(teacherLoaded.extra.classes) ? (teacherLoaded.extra.classes as string[]) : undefined;
    distill = classifierDistillation(config, teacher, { source: teacherSpec.configPath, config: teacherSpec.config, classes }, trainSet.classes);
    log(`teacher ${teacherSpec.config.backbone.name} classifier from ${teacherLoaded.dir} (step ${teacherLoaded.step}, ${teacherLoaded.contentHash.slice(0, 12)}), method ${distill.method}`
      + (distill.method === 'soft_kl' ? `, temperature ${config.distill.temperature}` : '') + `, weight ${config.distill.weight}`);
  }

  const trainStep = new ClassifierTrainStep(model, config, distill);
  let startStep = 0;
  let bestAccuracy: number | undefined;
  if (o.resume) {
    const loaded = loadCheckpoint(o.resume, model.store, config, trainStep.optimizer);
    startStep = loaded.step;
    const best = loaded.extra.best_accuracy;
    bestAccuracy = typeof best === 'number' && best >= 0 ? best : undefined;
    log(`resumed from ${loaded.dir} at step ${startStep}`);
  }
  log(`${config.backbone.name} classifier, ${(model.store.countTrainable() / 1e6).toFixed(2)}M parameters, ${config.num_classes} classes, backend ${backend.name}`);

  const evaluate = async (set: CropSet) => {
    const result = await evaluateClassifier(model, set, config.reader.batch_size);
    log(`top-1 accuracy = ${(100 * result.accuracy).toFixed(2)}% on ${result.count} crops, ${(result.count / result.seconds).toFixed(1)} crops/s`);
    return result.accuracy;
  };
  const bar = new ProgressBar(o.command, config.max_iters);
  mkdirSync(config.save_dir, { recursive: true });
  const batcher = new CropBatcher(trainSet, config.reader.batch_size, config.seed, config.reader.flip);
  try {
    const summary = await trainLoop({
      maxIters: config.max_iters, logIter: config.log_iter, snapshotIter: config.snapshot_iter, saveDir: config.save_dir,
      step: trainStep, nextBatch: (step) => batcher.batch(step), imagesIn: (b) => b.count, startStep, bestScore: bestAccuracy, signal: o.signal,
      save: (dir, step, extra) => saveCheckpoint(dir, model.store, config, step, { optimizer: trainStep.optimizer, extra }),
      score: { key: 'best_accuracy', describe: (best, step) => `Best top-1 accuracy: ${(best * 100).toFixed(2)}%, in step: ${step ?? 'an earlier run'}` },
      checkpointExtra: { classes: trainSet.classes },
      evaluate: () => evaluate(testSet), evaluateAtSnapshots: o.eval,
      log: (line) => { bar.clear(); log(line); },
      onStep: (r) => bar.update(r.step, `loss ${r.losses.loss.toFixed(3)} eta ${formatDuration(r.etaSeconds)}`),
    });
    bar.done();
    const ips = summary.images / summary.seconds;
    const record = {
      command: o.command, architecture: config.architecture, config: o.configPath, overrides: o.overrides, backend: backend.name,
      ...(distill && teacherSpec && teacherLoaded ? {
        method: distill.method, temperature: distill.method === 'soft_kl' ? config.distill.temperature : undefined, weight: config.distill.weight,
        teacher: teacherSpec.configPath, teacher_pretrained: teacherLoaded.dir, teacher_hash: teacherLoaded.contentHash,
      } : {}),
      steps: summary.steps, wall_s: summary.seconds, train_images_per_s: ips, final_loss: summary.finalLoss,
      train_crops: trainSet.count, test_crops: testSet.count,
      interrupted: summary.interrupted, last_step: startStep + summary.steps, top1_accuracy: summary.finalScore, best_accuracy: summary.bestScore, best_step: summary.bestStep,
    };
    writeFilesAtomic([{ path: join(config.save_dir, 'train_summary.json'), content: `${JSON.stringify(record, null, 2)}\n` }]);
    log(`done: ${summary.steps} steps in ${formatDuration(summary.seconds)}, ${ips.toFixed(2)} crops/s`
      + `${summary.finalScore != null ? `, top-1 ${(100 * summary.finalScore).toFixed(2)}%` : ''}`);
    return record;
  } finally {
    trainStep.optimizer.dispose();
    model.store.dispose();
    teacher?.store.dispose();
  }
}
