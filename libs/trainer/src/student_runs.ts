// What kd experiment and kd demo share: the built-in dataset on first use, a trained teacher
// loaded next to it, one student run per method, and mAP with inference speed on the test split.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type KdConfig } from '@kd/config';
import { generateShapesDataset, SHAPES_DEFAULTS } from '@kd/data';
import { headSpecOf, loadTeacherModel, teacherDistillation } from '@kd/distill';
import { createYoloV3, detect, evalLoaderFor, groundTruthOf, openSplit, readCheckpointConfig, type YoloV3 } from '@kd/detection';
import { evaluateVoc } from '@kd/metrics';
import { runTraining } from './detection_training.ts';
import type { StepReport } from './loop.ts';
import { progressReporter } from './progress.ts';
import { InProcessTeacher } from './teacher/in_process.ts';
import type { TeacherSource } from './teacher/source.ts';

/** The teacher checkpoint shipped in the repo for the built-in dataset (models/README.md: how it was made). */
export const SHIPPED_TEACHER = 'models/yolov3_r34_shapes';
/** The shipped baseline student (15600 steps; models/README.md). */
export const SHIPPED_STUDENT = 'models/yolov3_mobilenet_v1_shapes';
/**
 * The student's backbone pretrained on classifying the dataset's object crops (the analogue of
 * PaddleDetection's ImageNet-pretrained backbones): where the demo's students start.
 */
export const SHIPPED_BACKBONE = 'models/classifier_mobilenet_v1_shapes';

/** Tiny models and inputs for --quick (the pipeline end to end in a few seconds). */
export const QUICK_OVERRIDES = [
  'train_reader.batch_size=2', 'train_reader.sizes=[64]', 'train_reader.workers=0', 'eval_reader.size=64', 'eval_reader.batch_size=4',
  'backbone.width=0.125', 'yolo_head.width=0.0625', 'log_iter=1', 'snapshot_iter=100000', 'optimizer.base_lr=0.001',
];

/** The tiny dataset --quick generates (the full one is SHAPES_DEFAULTS). */
export const QUICK_DATASET = { train: 8, test: 4, unlabeled: 4, size: 96, seed: 1 } as const;

/** Generates the built-in dataset into `dir` unless it is there already. */
export async function ensureShapesDataset(dir: string, quick: boolean, log: (line: string) => void): Promise<void> {
  if (existsSync(join(dir, 'trainval.txt'))) return;
  log(`generating the built-in dataset in ${dir} (once)`);
  const report = progressReporter('kd make-dataset');
  await generateShapesDataset({ ...(quick ? QUICK_DATASET : SHAPES_DEFAULTS), out: dir, onProgress: (done, total) => report('images', done, total) });
}

export interface TestMaps { map_11point: number; map_area: number; eval_images_per_s: number }

/**
 * mAP(0.50) with 11point and area on the config's test split, and inference images/s;
 * `progress` (e.g. a progressReporter's) hears of every batch, skipped images counted as done.
 */
export async function testMaps(model: YoloV3, config: KdConfig, progress?: (done: number, total: number) => void): Promise<TestMaps> {
  const testSet = await openSplit(config, 'test');
  const loader = evalLoaderFor(config, testSet);
  const onBatch = progress && ((done: number) => progress(done + Object.keys(loader.stats().skipped).length, testSet.records.length));
  try {
    const { detections, images, inferenceSeconds } = await detect(model, loader, config, testSet.classes, onBatch);
    const gt = groundTruthOf(testSet.records);
    return {
      map_11point: evaluateVoc(gt, detections, testSet.classes, '11point').mAP,
      map_area: evaluateVoc(gt, detections, testSet.classes, 'area').mAP,
      eval_images_per_s: images / inferenceSeconds,
    };
  } finally {
    await loader.close();
  }
}

/**
 * A trained teacher checkpoint, frozen, evaluated on `dataDir` with its own config; `evalReader`
 * (e.g. --quick's input size) replaces its eval reader only, the weights are what they are.
 */
export function loadTeacher(dir: string, dataDir: string, evalReader?: KdConfig['eval_reader']): { teacher: YoloV3; source: TeacherSource; config: KdConfig; step: number } {
  const saved = readCheckpointConfig(dir);
  const config: KdConfig = { ...saved, dataset: { ...saved.dataset, dir: dataDir }, eval_reader: evalReader ?? saved.eval_reader };
  const loaded = loadTeacherModel(dir, config);
  return { teacher: loaded.model, source: new InProcessTeacher(loaded.model, loaded.spec), config, step: loaded.step };
}

/** Student config overrides that stretch or shrink its schedule to `steps`. */
export function scheduleOverrides(config: KdConfig, steps: number): string[] {
  const scale = steps / config.max_iters;
  return [
    `max_iters=${steps}`,
    `optimizer.boundaries=[${config.optimizer.boundaries.map((b) => Math.round(b * scale)).join(',')}]`,
    `optimizer.warmup_steps=${Math.round(config.optimizer.warmup_steps * scale)}`,
  ];
}

/** A run's method, `LOSS` or `LOSS+unlabeled`, split into the loss (or `baseline`) and whether unlabeled images join. */
export function parseMethod(method: string): { loss: string; unlabeled: boolean } {
  const [loss, suffix] = method.split('+');
  return { loss, unlabeled: suffix === 'unlabeled' };
}

export interface StudentRunOptions {
  command: string;
  studentConfig: string;
  /** Overrides of the student config (dataset, schedule, seed, save_dir, ...). */
  overrides: string[];
  /** `baseline`, a distill.method name, or either with `+unlabeled` (the dataset's unlabeled/ images). */
  method: string;
  dataDir: string;
  teacher?: TeacherSource;
  /** A checkpoint of the same student model to start from (its weights only; the schedule starts at step 0). */
  init?: string;
  backend: string;
  onStep?: (report: StepReport) => void;
  /** Evaluate on the config's test list at every snapshot, reporting each mAP here (a learning curve). */
  onEvaluation?: (step: number, mAP: number) => void;
}

export interface StudentRun { model: YoloV3; config: KdConfig; summary: Record<string, unknown> }

/** Trains one student: detection loss alone (baseline) or with the teacher's distillation terms. */
export async function trainStudent(o: StudentRunOptions): Promise<StudentRun> {
  const { loss, unlabeled } = parseMethod(o.method);
  const overrides = [
    ...o.overrides,
    ...(loss === 'baseline' ? [] : [`distill.method=${loss}`]),
    ...(unlabeled ? [`train_reader.unlabeled.dir=${join(o.dataDir, 'unlabeled')}`] : []),
    ...(o.init ? [`weights=${o.init}`] : []),
  ];
  const config = loadConfig(o.studentConfig, overrides);
  const model = createYoloV3(config);
  if (loss !== 'baseline' && o.teacher === undefined) throw new Error(`method ${o.method} needs a teacher`);
  const distillation = loss === 'baseline' || !o.teacher ? undefined : {
    teacher: o.teacher,
    prefetch: o.teacher instanceof InProcessTeacher ? 0 : config.teacher.prefetch,
    extraLoss: teacherDistillation({
      student: model.spec, teacher: headSpecOf(await o.teacher.spec()), distill: config.distill, useFineGrainedLoss: false,
      ignoreThresh: config.yolo_head.ignore_thresh, labelSmooth: config.yolo_head.label_smooth,
    }),
  };
  const summary = await runTraining({
    command: o.command, configPath: o.studentConfig, overrides, config, backend: o.backend, model, distillation, onStep: o.onStep,
    eval: o.onEvaluation !== undefined, onEvaluation: o.onEvaluation,
    summary: loss === 'baseline' ? undefined : { method: o.method },
  });
  return { model, config, summary };
}
