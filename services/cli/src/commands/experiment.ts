import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { ConfigError, loadConfig } from '@kd/config';
import { writeFilesAtomic } from '@kd/data';
import { initBackend } from '@kd/engine';
import { createYoloV3 } from '@kd/detection';
import { experimentMarkdown, meanCurve, summarize, type ExperimentRun, type TeacherResult } from '../experiment/report.ts';
import {
  ensureShapesDataset, loadTeacher, QUICK_OVERRIDES, scheduleOverrides, SHIPPED_TEACHER, testMaps, trainStudent,
} from '../experiment/student_runs.ts';
import { barChart, lineChart } from '../experiment/svg_charts.ts';
import { exitTwoOnUsageError, positiveInt, reportUserErrors } from './common.ts';
import { runTraining } from './train.ts';

/** The methods compared; `+unlabeled` mixes the dataset's unlabeled/ images into each batch. */
export const EXPERIMENT_METHODS = ['baseline', 'l2', 'fine_grained', 'fine_grained_paper', 'fine_grained_paper+unlabeled'] as const;

interface ExperimentOptions {
  quick?: boolean; seeds: number; steps?: number; methods: string; teacher?: string;
  student: string; teacherConfig: string; data: string; out: string; work: string;
}

const log = (line: string) => process.stderr.write(`kd experiment: ${line}\n`);
const writeAtomic = (path: string, content: string) => writeFilesAtomic([{ path, content }]);

/** `kd experiment`: teacher, then students per method and seed; results/experiment.{json,md} and charts. */
export function experimentCommand(): Command {
  return exitTwoOnUsageError(new Command('experiment'))
    .description('distillation experiment: baseline vs l2, fine_grained, fine_grained_paper (+unlabeled), several seeds each')
    .option('--quick', 'tiny models, a tiny generated dataset, a few steps (about a minute; for tests)')
    .option('--seeds <n>', 'seeds per method', positiveInt, 3)
    .option('--steps <n>', 'student steps (default: the student config\'s max_iters; the schedule scales along)', positiveInt)
    .option('--methods <list>', 'comma-separated subset of the methods', EXPERIMENT_METHODS.join(','))
    .option('--teacher <checkpoint>', `trained teacher (default the shipped ${SHIPPED_TEACHER}; trained first if missing)`)
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
  await ensureShapesDataset(data, opts.quick === true, log);
  const base = [`dataset.dir=${data}`, ...(opts.quick ? QUICK_OVERRIDES : [])];
  const studentDefaults = loadConfig(opts.student, base);
  const steps = opts.steps ?? (opts.quick ? 3 : studentDefaults.max_iters);
  mkdirSync(opts.out, { recursive: true });

  // The teacher: given, the shipped one, or trained now (same steps as the students).
  let teacherDir = opts.teacher ?? (opts.quick ? '' : SHIPPED_TEACHER);
  if (!teacherDir || !existsSync(join(teacherDir, 'model.json'))) {
    const saveDir = join(opts.work, 'teacher');
    log(`training the teacher (${opts.teacherConfig}) into ${saveDir}`);
    const config = loadConfig(opts.teacherConfig, [...base, `save_dir=${saveDir}`, ...scheduleOverrides(loadConfig(opts.teacherConfig, base), steps)]);
    await runTraining({ command: 'experiment', configPath: opts.teacherConfig, overrides: base, config, backend: backend.name, model: createYoloV3(config) });
    teacherDir = join(saveDir, 'model_final');
  }
  const { teacher, config: teacherConfig } = loadTeacher(teacherDir, data);
  const teacherMaps = await testMaps(teacher, teacherConfig);
  const teacherResult: TeacherResult = { checkpoint: teacherDir, map_11point: teacherMaps.map_11point, map_area: teacherMaps.map_area };
  log(`teacher mAP(0.50, 11point) = ${(100 * teacherResult.map_11point).toFixed(2)}%`);

  const runs: ExperimentRun[] = [];
  const command = `kd experiment${process.argv.slice(3).length ? ` ${process.argv.slice(3).join(' ')}` : ''}`;
  for (const method of methods) {
    for (let seed = 0; seed < opts.seeds; seed++) {
      const curve: ExperimentRun['curve'] = { step: [], loss: [], distill_loss: [] };
      log(`${method}, seed ${seed}: ${steps} steps`);
      const { model, config, summary } = await trainStudent({
        command: 'experiment', studentConfig: opts.student, method, dataDir: data, teacher, backend: backend.name,
        overrides: [...base, `seed=${seed}`, `save_dir=${join(opts.work, method, `seed${seed}`)}`, ...scheduleOverrides(studentDefaults, steps)],
        onStep: (r) => {
          if (r.step % studentDefaults.log_iter !== 0 && r.step !== r.maxIters) return;
          curve.step.push(r.step);
          curve.loss.push(r.losses.loss);
          if (r.losses.distill_loss !== undefined) curve.distill_loss.push(r.losses.distill_loss);
        },
      });
      const { map_11point, map_area } = await testMaps(model, config);
      runs.push({ method, seed, steps, wall_s: summary.wall_s as number, map_11point, map_area, curve });
      log(`${method}, seed ${seed}: mAP(0.50, 11point) = ${(100 * map_11point).toFixed(2)}%`);
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
