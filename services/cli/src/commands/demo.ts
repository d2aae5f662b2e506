import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { ConfigError, loadConfig } from '@kd/config';
import { writeFilesAtomic } from '@kd/data';
import { initBackend } from '@kd/engine';
import { createYoloV3, loadCheckpoint } from '@kd/detection';
import {
  ensureShapesDataset, loadTeacher, parseMethod, progressReporter, scheduleOverrides, SHIPPED_TEACHER, testMaps, trainStudent, type TestMaps,
} from '@kd/trainer';
import { verdict } from '../cluster/report.ts';
import { exitTwoOnUsageError, nonNegativeInt, nonNegativeNumber, positiveInt, reportUserErrors, temporaryFolder } from './common.ts';
import {
  addStartOptions, DEMO_EVIDENCE, demoEvidence, DEMO_STEPS, describeStart, effectiveWeight, evalSizeOverrides, quickOverrides, startOverrides, studentStart, type StartOptions,
} from './demo_setting.ts';

interface DemoOptions extends StartOptions {
  steps?: number; method: string; weight?: number; teacher: string; student: string; data?: string; work?: string; seed: number; evalSize?: number;
}

/** One row of the closing table. */
export interface DemoRow { model: string; params_m: number; map_11point: number; train_images_per_s?: number; eval_images_per_s: number }

const log = (line: string) => process.stderr.write(`kd demo: ${line}\n`);

/** Default --work: the two students and demo.json. */
export const DEMO_WORK = 'output/demo-local';

/** The closing table, as plain text. */
export function demoTable(rows: DemoRow[]): string {
  const head = ['model', 'params', 'mAP(0.50, 11point)', 'train img/s', 'eval img/s'];
  const cells = rows.map((r) => [
    r.model, `${r.params_m.toFixed(2)}M`, `${(100 * r.map_11point).toFixed(2)}%`,
    r.train_images_per_s === undefined ? '-' : r.train_images_per_s.toFixed(1), r.eval_images_per_s.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** `kd demo` (npm start): the shipped teacher, a baseline student and a distilled one, side by side. */
export function demoCommand(): Command {
  const command = exitTwoOnUsageError(new Command('demo'))
    .description('the first thing to run: distil a student from the shipped teacher next to a baseline student, then compare')
    .option('--quick', 'a tiny generated dataset and tiny students, a few steps (a few seconds; for tests), all in a temp folder removed at exit unless --work')
    .option('--steps <n>', `student steps (default ${DEMO_STEPS}; --quick: 3)`, positiveInt)
    .option('--method <name>', 'distillation method (l2, fine_grained, fine_grained_paper)', 'l2')
    .option('--weight <w>', 'distill weight (default: the student config\'s for the method, e.g. l2 1)', nonNegativeNumber)
    .option('--teacher <checkpoint>', 'trained teacher checkpoint', SHIPPED_TEACHER)
    .option('--student <file>', 'student config', 'configs/yolov3_mobilenet_v1_shapes.yml')
    .option('--data <dir>', 'dataset, generated with kd make-dataset shapes on first use (default data/shapes; --quick: a tiny one in WORK)')
    .option('--work <dir>', `where the two students and demo.json are saved (default ${DEMO_WORK}; --quick: a temp folder removed at exit)`)
    .option('--seed <n>', 'seed of both students (same initial weights and batches)', nonNegativeInt, 0);
  return addStartOptions(command)
    .addHelpText('after', `
Both students start from the same weights (by default the backbone pretrained on the dataset's
crops with a fresh head, as PaddleDetection's students start from ImageNet-pretrained
backbones) and see the same batches; the distilled one also learns from the teacher's outputs.
Ends with a table of teacher, (start,) baseline and distilled mAP and images/s, and a sentence
on what it shows (one seed; the several-seed result of ${DEMO_EVIDENCE}), also written to
WORK/demo.json.`)
    .action((opts: DemoOptions) => reportUserErrors('demo', () => demo(opts)));
}

const DEMO_METHODS = ['l2', 'fine_grained', 'fine_grained_paper'];

async function demo(opts: DemoOptions): Promise<void> {
  const { loss, unlabeled } = parseMethod(opts.method);
  if (!DEMO_METHODS.includes(loss) || opts.method !== (unlabeled ? `${loss}+unlabeled` : loss)) {
    throw new ConfigError(`--method ${opts.method}: not one of ${DEMO_METHODS.join(', ')} (optionally with +unlabeled)`);
  }
  if (!existsSync(join(opts.teacher, 'model.json'))) {
    throw new ConfigError(`--teacher ${opts.teacher}: no model.json there (train one: kd train -c configs/yolov3_r34_shapes.yml)`);
  }
  const from = studentStart(opts);
  const init = from.init;
  // a smoke run (--quick) writes into a fresh temp folder, or into --work: never over a previous demo
  const temp = opts.quick && opts.work === undefined ? temporaryFolder('kd-demo-') : undefined;
  const work = opts.work ?? temp ?? DEMO_WORK;
  if (opts.quick && existsSync(join(work, 'demo.json'))) throw new ConfigError(`--work ${work}: holds a previous demo (demo.json); give another --work`);
  const data = opts.data ?? (opts.quick ? join(work, 'shapes') : 'data/shapes');
  const backend = await initBackend();
  await ensureShapesDataset(data, opts.quick === true, log);
  const base = [`dataset.dir=${data}`, `seed=${opts.seed}`, ...(opts.quick ? quickOverrides(from) : []), ...evalSizeOverrides(opts.evalSize, opts.quick)];
  const studentDefaults = loadConfig(opts.student, base);
  const steps = opts.steps ?? (opts.quick ? 3 : DEMO_STEPS);
  const weight = effectiveWeight(opts.weight, studentDefaults.distill, loss);

  const { teacher, source: teacherSource, config: teacherConfig, step } = loadTeacher(opts.teacher, data, studentDefaults.eval_reader);
  // the checkpoint knows only the step of its own run: a teacher trained in several runs (the shipped one) had more
  log(`teacher ${teacherConfig.backbone.name} from ${opts.teacher} (saved at step ${step} of its last training run${opts.teacher === SHIPPED_TEACHER ? '; models/README.md: its whole schedule' : ''}); evaluating it on the test split`);
  // each evaluation of the test split shows its progress (a bar on a TTY, a line every 5 s otherwise)
  const evaluating = (what: string) => {
    const report = progressReporter(`kd demo: evaluating ${what}`);
    return (done: number, total: number) => report('test images', done, total);
  };
  const rows: DemoRow[] = [];
  const addRow = (model: string, params: number, maps: TestMaps, train?: number) => {
    rows.push({ model, params_m: params / 1e6, map_11point: maps.map_11point, eval_images_per_s: maps.eval_images_per_s, train_images_per_s: train });
    log(`${model}: mAP(0.50, 11point) = ${(100 * maps.map_11point).toFixed(2)}%`);
  };
  addRow(`teacher (${teacherConfig.backbone.name})`, teacher.store.countTrainable(), await testMaps(teacher, teacherConfig, evaluating('the teacher')));
  if (init !== undefined) {
    const start = createYoloV3(studentDefaults);
    loadCheckpoint(init, start.store, studentDefaults);
    log(`both students start from ${describeStart(from)}; evaluating it`);
    addRow('student, start', start.store.countTrainable(), await testMaps(start, studentDefaults, evaluating('the start')));
    start.store.dispose();
  } else {
    log(`both students start from ${describeStart(from)}`);
  }

  for (const method of ['baseline', opts.method]) {
    const distilled = method !== 'baseline';
    log(`${distilled ? `distilled student (${method}${weight === undefined ? '' : `, weight ${weight}`})` : 'baseline student'}: ${steps} steps`);
    const { model, config, summary } = await trainStudent({
      command: distilled ? 'distill' : 'baseline', studentConfig: opts.student, method, dataDir: data, teacher: teacherSource, backend: backend.name,
      overrides: [
        ...base, ...startOverrides(from), `save_dir=${join(work, method)}`, ...scheduleOverrides(studentDefaults, steps),
        ...(distilled && weight !== undefined ? [`distill.weight=${weight}`] : []),
      ],
    });
    const row = distilled ? `student, ${method}` : 'student, baseline';
    addRow(row, model.store.countTrainable(), await testMaps(model, config, evaluating(`the ${distilled ? 'distilled' : 'baseline'} student`)), summary.train_images_per_s as number);
    model.store.dispose();
  }
  teacher.store.dispose();
  const table = demoTable(rows);
  // what the table shows, in words: the students against each other and their start, and what one seed can tell
  const mapOf = (model: string) => rows.find((r) => r.model === model)?.map_11point;
  const sentence = verdict({
    baseline: mapOf('student, baseline')!, distilled: mapOf(`student, ${opts.method}`)!, start: mapOf('student, start'),
    method: opts.method, weight, steps, seed: opts.seed, evidence: demoEvidence(opts.method),
  });
  const legend = init === undefined ? '' : `"student, start" is ${init}, the weights both students start from. `;
  writeFilesAtomic([{
    path: join(work, 'demo.json'),
    content: `${JSON.stringify({
      steps, method: opts.method, weight: weight ?? null, init: init ?? null, backbone: from.backbone ?? null, eval_size: studentDefaults.eval_reader.size, data, rows, verdict: sentence,
    }, null, 1)}\n`,
  }]);
  process.stdout.write(`\n${table}\n\n${legend}${sentence}\n\n`);
  log(`${steps} steps per student from ${describeStart(from)}, scored at ${studentDefaults.eval_reader.size} px; table also in ${join(work, 'demo.json')}${temp ? ' (a temp folder, removed now: give --work to keep it)' : ''}`);
}
