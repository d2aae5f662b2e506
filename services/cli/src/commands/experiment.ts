import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { ConfigError, loadConfig, type KdConfig } from '@kd/config';
import { generateShapesDataset, SHAPES_DEFAULTS, writeFilesAtomic } from '@kd/data';
import { teacherDistillation } from '@kd/distill';
import { initBackend } from '@kd/engine';
import {
  createYoloV3, detect, evalLoaderFor, groundTruthOf, loadCheckpoint, openSplit, readCheckpointConfig, type YoloV3,
} from '@kd/detection';
import { evaluateVoc } from '@kd/metrics';
import { experimentMarkdown, meanCurve, summarize, type ExperimentRun, type TeacherResult } from '../experiment/report.ts';
import { barChart, lineChart } from '../experiment/svg_charts.ts';
import { exitTwoOnUsageError, positiveInt, reportUserErrors } from './common.ts';
import { runTraining } from './train.ts';

/** The methods compared; `+unlabeled` mixes the dataset's unlabeled/ images into each batch. */
export const EXPERIMENT_METHODS = ['baseline', 'l2', 'fine_grained', 'fine_grained_paper', 'fine_grained_paper+unlabeled'] as const;

/** Tiny models and inputs for --quick (the pipeline end to end in about a minute). */
const QUICK_OVERRIDES = [
  'train_reader.batch_size=2', 'train_reader.sizes=[64]', 'train_reader.workers=0', 'eval_reader.size=64', 'eval_reader.batch_size=4',
  'backbone.width=0.125', 'yolo_head.width=0.0625', 'log_iter=1', 'snapshot_iter=100000', 'optimizer.base_lr=0.001',
];

interface ExperimentOptions {
  quick?: boolean; seeds: number; steps?: number; methods: string; teacher?: string;
  student: string; teacherConfig: string; data: string; out: string; work: string;
}

const log = (line: string) => process.stderr.write(`kd experiment: ${line}\n`);
const writeAtomic = (path: string, content: string) => writeFilesAtomic([{ path, content }]);

/** mAP(0.50) with 11point and area on the config's test split. */
async function mapBoth(model: YoloV3, config: KdConfig): Promise<{ map_11point: number; map_area: number }> {
  const testSet = await openSplit(config, 'test');
  const loader = evalLoaderFor(config, testSet);
  try {
    const { detections } = await detect(model, loader, config, testSet.classes);
    const gt = groundTruthOf(testSet.records);
    return {
      map_11point: evaluateVoc(gt, detections, testSet.classes, '11point').mAP,
      map_area: evaluateVoc(gt, detections, testSet.classes, 'area').mAP,
    };
  } finally {
    await loader.close();
  }
}

/** Steps overrides: the student config's schedule shrunk or stretched to `steps`. */
function scheduleOverrides(config: KdConfig, steps: number): string[] {
  const scale = steps / config.max_iters;
  return [
    `max_iters=${steps}`,
    `optimizer.boundaries=[${config.optimizer.boundaries.map((b) => Math.round(b * scale)).join(',')}]`,
    `optimizer.warmup_steps=${Math.round(config.optimizer.warmup_steps * scale)}`,
  ];
}

/** `kd experiment`: teacher, then students per method and seed; results/experiment.{json,md} and charts. */
export function experimentCommand(): Command {
  return exitTwoOnUsageError(new Command('experiment'))
    .description('distillation experiment: baseline vs l2, fine_grained, fine_grained_paper (+unlabeled), several seeds each')
    .option('--quick', 'tiny models, a tiny generated dataset, a few steps (about a minute; for tests)')
    .option('--seeds <n>', 'seeds per method', positiveInt, 3)
    .option('--steps <n>', 'student steps (default: the student config\'s max_iters; the schedule scales along)', positiveInt)
    .option('--methods <list>', 'comma-separated subset of the methods', EXPERIMENT_METHODS.join(','))
    .option('--teacher <checkpoint>', 'trained teacher (default output/yolov3_r34_shapes/best_model; trained first if missing)')
    .option('--student <file>', 'student config', 'configs/yolov3_mobilenet_v1_shapes.yml')
    .option('--teacher-config <file>', 'teacher config (only to train a missing teacher)', 'configs/yolov3_r34_shapes.yml')
    .option('--data <dir>', 'dataset (generated with kd make-dataset shapes if missing)', 'data/shapes')
    .option('--out <dir>', 'where experiment.json, experiment.md and the charts go', 'results')
    .option('--work <dir>', 'checkpoints of the runs', 'output/experiment')
    .action((opts: ExperimentOptions) => reportUserErrors('experiment', () => experiment(opts)));
}

async function experiment(opts: ExperimentOptions): Promise<void> {
  const methods = opts.methods.split(',').map((m) => m.trim()).filter(Boolean);
  const unknown = methods.filter((m) => !(EXPERIMENT_METHODS as readonly string[]).includes(m));
  if (unknown.length > 0) throw new ConfigError(`--methods: unknown ${unknown.join(', ')} (known: ${EXPERIMENT_METHODS.join(', ')})`);
  const backend = await initBackend();
  const data = opts.quick ? join(mkdtempSync(join(tmpdir(), 'kd-experiment-')), 'shapes') : opts.data;
  if (!existsSync(join(data, 'trainval.txt'))) {
    log(`generating the built-in dataset in ${data}`);
    await generateShapesDataset(opts.quick ? { out: data, train: 8, test: 4, unlabeled: 4, size: 96, seed: 1 } : { ...SHAPES_DEFAULTS, out: data });
  }
  const base = [`dataset.dir=${data}`, ...(opts.quick ? QUICK_OVERRIDES : [])];
  const studentDefaults = loadConfig(opts.student, base);
  const steps = opts.steps ?? (opts.quick ? 3 : studentDefaults.max_iters);
  mkdirSync(opts.out, { recursive: true });

  // The teacher: given, found at the default place, or trained now (same steps as the students).
  let teacherDir = opts.teacher ?? (opts.quick ? '' : 'output/yolov3_r34_shapes/best_model');
  if (!teacherDir || !existsSync(join(teacherDir, 'model.json'))) {
    const saveDir = join(opts.work, 'teacher');
    log(`training the teacher (${opts.teacherConfig}) into ${saveDir}`);
    const config = loadConfig(opts.teacherConfig, [...base, `save_dir=${saveDir}`, ...scheduleOverrides(loadConfig(opts.teacherConfig, base), steps)]);
    await runTraining({ command: 'experiment', configPath: opts.teacherConfig, overrides: base, config, backend: backend.name, model: createYoloV3(config) });
    teacherDir = join(saveDir, 'model_final');
  }
  const saved = readCheckpointConfig(teacherDir);
  const teacherConfig: KdConfig = { ...saved, dataset: { ...saved.dataset, dir: data } };
  const teacher = createYoloV3(teacherConfig);
  loadCheckpoint(teacherDir, teacher.store, teacherConfig);
  const teacherResult: TeacherResult = { checkpoint: teacherDir, ...(await mapBoth(teacher, teacherConfig)) };
  log(`teacher mAP(0.50, 11point) = ${(100 * teacherResult.map_11point).toFixed(2)}%`);

  const runs: ExperimentRun[] = [];
  const command = `kd experiment${process.argv.slice(3).length ? ` ${process.argv.slice(3).join(' ')}` : ''}`;
  for (const method of methods) {
    for (let seed = 0; seed < opts.seeds; seed++) {
      const [loss, unlabeled] = method.split('+');
      const overrides = [
        ...base, `seed=${seed}`, `save_dir=${join(opts.work, method, `seed${seed}`)}`, ...scheduleOverrides(studentDefaults, steps),
        ...(loss === 'baseline' ? [] : [`distill.method=${loss}`]),
        ...(unlabeled ? [`train_reader.unlabeled.dir=${join(data, 'unlabeled')}`] : []),
      ];
      const config = loadConfig(opts.student, overrides);
      const model = createYoloV3(config);
      const extraLoss = loss === 'baseline' ? undefined : teacherDistillation({
        student: model.spec, teacher, distill: config.distill, useFineGrainedLoss: false,
        ignoreThresh: config.yolo_head.ignore_thresh, labelSmooth: config.yolo_head.label_smooth,
      });
      const curve: ExperimentRun['curve'] = { step: [], loss: [], distill_loss: [] };
      log(`${method}, seed ${seed}: ${steps} steps`);
      const summary = await runTraining({
        command: 'experiment', configPath: opts.student, overrides, config, backend: backend.name, model, extraLoss,
        onStep: (r) => {
          if (r.step % config.log_iter !== 0 && r.step !== r.maxIters) return;
          curve.step.push(r.step);
          curve.loss.push(r.losses.loss);
          if (r.losses.distill_loss !== undefined) curve.distill_loss.push(r.losses.distill_loss);
        },
      });
      const maps = await mapBoth(model, config);
      runs.push({ method, seed, steps, wall_s: summary.wall_s as number, ...maps, curve });
      log(`${method}, seed ${seed}: mAP(0.50, 11point) = ${(100 * maps.map_11point).toFixed(2)}%`);
      model.store.dispose();
      // partial results survive an interrupted experiment
      writeAtomic(join(opts.out, 'experiment.json'), `${JSON.stringify({ command, teacher: teacherResult, runs }, null, 1)}\n`);
    }
  }
  writeAtomic(join(opts.out, 'experiment.md'), experimentMarkdown(runs, methods, teacherResult, command));
  const rows = summarize(runs, methods);
  writeAtomic(join(opts.out, 'experiment-map.svg'), barChart('mAP(0.50, 11point) by method, mean +- std over seeds', 'mAP %',
    rows.map((r) => ({ label: r.method, mean: r.mean11, std: r.std11 })), { label: 'teacher', value: 100 * teacherResult.map_11point }));
  writeAtomic(join(opts.out, 'experiment-loss.svg'), lineChart('training loss (detection + distillation)', 'step', 'loss',
    methods.map((m) => ({ label: m, points: meanCurve(runs, m, 'loss') }))));
  writeAtomic(join(opts.out, 'experiment-distill-loss.svg'), lineChart('distill_loss', 'step', 'distill_loss',
    methods.filter((m) => m !== 'baseline').map((m) => ({ label: m, points: meanCurve(runs, m, 'distill_loss') }))));
  for (const r of rows) log(`${r.method.padEnd(30)} ${r.mean11.toFixed(2)} +- ${r.std11.toFixed(2)} (11point)`);
  log(`wrote ${join(opts.out, 'experiment.json')}, experiment.md and three charts`);
  teacher.store.dispose();
}
