import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { ConfigError, loadConfig } from '@kd/config';
import { writeFilesAtomic } from '@kd/data';
import { initBackend } from '@kd/engine';
import { createYoloV3 } from '@kd/detection';
import { experimentMarkdown, meanCurve, summarize, type ExperimentRun, type TeacherResult } from '../experiment/report.ts';
import {
  CachedTeacher, ensureShapesDataset, loadTeacher, QUICK_OVERRIDES, runTraining, scheduleOverrides, SHIPPED_TEACHER, testMaps, trainStudent, type TeacherSource,
} from '@kd/trainer';
import {
  checkSameInputs, checkSameProtocol, mergeExperimentRecords, methodOverrides, readExperimentRecord, type ExperimentProtocol, type ExperimentRecord,
} from '../experiment/record.ts';
import { barChart, lineChart } from '../experiment/svg_charts.ts';
import { carveValidation, type ValidationLists } from '../experiment/validation_split.ts';
import { collect, exitTwoOnUsageError, nonNegativeInt, positiveInt, reportUserErrors, temporaryFolder } from './common.ts';

/** The methods compared; `+unlabeled` mixes the dataset's unlabeled/ images into each batch. */
export const EXPERIMENT_METHODS = ['baseline', 'l2', 'fine_grained', 'fine_grained_paper', 'fine_grained_paper+unlabeled'] as const;

interface ExperimentOptions {
  quick?: boolean; seeds: number; steps?: number; methods: string; teacher?: string;
  student: string; teacherConfig: string; data: string; out?: string; work?: string; jobs: number;
  /** false with --no-teacher-cache: every run computes its own teacher answers. */
  teacherCache: boolean;
  /** Student overrides for every run, or for one method's runs as `METHOD:key=value`. */
  opt: string[];
  init?: string;
  report?: boolean;
  resume?: boolean;
  /** Comma-separated experiment folders to merge into --out. */
  merge?: string;
  /** Where students are scored: the test split, or a validation split carved from the training list. */
  split: 'test' | 'validation';
  /** Seeds are firstSeed .. firstSeed + seeds - 1 (a confirmation run takes fresh ones). */
  firstSeed: number;
  /** Score every student every this many steps too (its mAP learning curve). */
  evalEvery?: number;
  /** Internal (--jobs): run only this `method:seed` and write its record beside its checkpoints. */
  run?: string;
}

const kdBin = fileURLToPath(new URL('../../bin/kd.js', import.meta.url));

const log = (line: string) => process.stderr.write(`kd experiment: ${line}\n`);
const writeAtomic = (path: string, content: string) => writeFilesAtomic([{ path, content }]);

/** Default --out: a run's records, table and charts; never results/, where only an explicit --out puts them. */
export const EXPERIMENT_OUT = 'output/experiment';

/** `kd experiment`: teacher, then students per method and seed; OUT/experiment.{json,md} and charts. */
export function experimentCommand(): Command {
  return exitTwoOnUsageError(new Command('experiment'))
    .description('distillation experiment: baseline vs l2, fine_grained, fine_grained_paper (+unlabeled), several seeds each')
    .option('--quick', 'tiny models, a tiny generated dataset, a few steps (a few seconds; for tests): everything goes to a temp folder removed at exit, unless --out')
    .option('--seeds <n>', 'seeds per method', positiveInt, 3)
    .option('--first-seed <n>', 'the first seed (seeds run from it up): fresh seeds for a confirmation run', nonNegativeInt, 0)
    .addOption(new Option('--split <which>', 'where students and teacher are scored: test, or validation (every 10th image of the training list, '
      + 'which the students then do not train on; for choosing settings without touching the test split)').choices(['test', 'validation']).default('test'))
    .option('--steps <n>', 'student steps (default: the student config\'s max_iters; the schedule scales along)', positiveInt)
    .option('--methods <list>', 'comma-separated subset of the methods', EXPERIMENT_METHODS.join(','))
    .option('--teacher <checkpoint>', `trained teacher (default the shipped ${SHIPPED_TEACHER}; trained first if missing)`)
    .option('--student <file>', 'student config', 'configs/yolov3_mobilenet_v1_shapes.yml')
    .option('--teacher-config <file>', 'teacher config (only to train a missing teacher)', 'configs/yolov3_r34_shapes.yml')
    .option('--data <dir>', 'dataset (generated with kd make-dataset shapes if missing)', 'data/shapes')
    .option('--out <dir>', `where experiment.json, experiment.md and the charts go (default ${EXPERIMENT_OUT}; refused if it holds a previous experiment.json, unless --resume)`)
    .option('--work <dir>', 'checkpoints and logs of the runs (default OUT/runs; refused if it holds a previous run, unless --resume)')
    .option('--eval-every <n>', 'also score every student every n steps, where it is scored at the end (its mAP learning curve, '
      + 'in experiment.json and experiment-map-curve.svg; each costs one evaluation)', positiveInt)
    .option('--jobs <n>', 'student runs at a time, each in its own process (one per core; logs in WORK/METHOD/seedK/log.txt)', positiveInt, 1)
    .option('--no-teacher-cache', 'every run computes the teacher\'s answers itself; by default the runs of a seed, which train on the same '
      + 'batches, share them (one teacher forward per batch, kept in WORK/teacher-cache/seedK until the seed\'s runs have ended; '
      + 'seeds run one after another)')
    .option('--init <checkpoint>', 'weights every student starts from, a checkpoint of the student config (default: random init)')
    .option('-o, --opt <[method:]key=value>', 'override a student config key for every run, or with METHOD: for that method\'s runs only '
      + '(repeatable), e.g. -o l2:distill.weight=10', collect, [])
    .option('--report', 'only rewrite experiment.md and the charts from OUT/experiment.json (e.g. of an interrupted experiment)')
    .option('--resume', 'continue the interrupted experiment in OUT (the same options): keep the runs OUT/experiment.json holds, '
      + 'redo the others from their start')
    .option('--merge <dirs>', 'only merge the records of experiments run with the same protocol on other methods or seeds '
      + '(comma-separated folders, e.g. one per seed) into OUT/experiment.json, with its table and charts')
    .addOption(new Option('--run <method:seed>').hideHelp())
    .action((opts: ExperimentOptions) => reportUserErrors('experiment', () => experiment(opts)));
}

interface RunContext {
  opts: ExperimentOptions; work: string; data: string; base: string[]; steps: number; logIter: number; backend: string;
  /** The teacher a seed's runs ask: with the cache, one CachedTeacher per seed (its own folder). */
  teacherFor(seed: number): TeacherSource;
  /** The student schedule stretched to `steps` (the same for every run). */
  schedule: string[];
}

const runDir = (work: string, method: string, seed: number) => join(work, method, `seed${seed}`);

/** One CachedTeacher per seed, each on its own folder, made on first use. */
function cachedPerSeed(source: TeacherSource, work: string): (seed: number) => TeacherSource {
  const bySeed = new Map<number, CachedTeacher>();
  return (seed) => {
    if (!bySeed.has(seed)) bySeed.set(seed, new CachedTeacher(source, teacherCacheDir(work, seed), { warn: log }));
    return bySeed.get(seed)!;
  };
}
/** The teacher answers a seed's runs share (CachedTeacher): a gigabyte at the protocol's size, removed when the seed's runs have ended. */
const teacherCacheDir = (work: string, seed: number) => join(work, 'teacher-cache', `seed${seed}`);

/** One student run in this process: train, evaluate, and its record with the loss curves. */
async function runOne(ctx: RunContext, method: string, seed: number): Promise<ExperimentRun> {
  const { opts, data, base, steps } = ctx;
  const curve: ExperimentRun['curve'] = { step: [], loss: [], distill_loss: [], ...(opts.evalEvery ? { map_step: [], map: [] } : {}) };
  log(`${method}, seed ${seed}: ${steps} steps`);
  const { model, config, summary } = await trainStudent({
    command: 'experiment', studentConfig: opts.student, method, dataDir: data, teacher: ctx.teacherFor(seed), backend: ctx.backend, init: opts.init,
    overrides: [
      ...base, ...methodOverrides(opts.opt, method, EXPERIMENT_METHODS), `seed=${seed}`, `save_dir=${runDir(ctx.work, method, seed)}`, ...ctx.schedule,
      ...(opts.evalEvery ? [`snapshot_iter=${opts.evalEvery}`] : []),
    ],
    onStep: (r) => {
      if (r.step % ctx.logIter !== 0 && r.step !== r.maxIters) return;
      curve.step.push(r.step);
      curve.loss.push(r.losses.loss);
      if (r.losses.distill_loss !== undefined) curve.distill_loss.push(r.losses.distill_loss);
    },
    // the last one is at max_iters, where testMaps below scores the same weights again (with map_area too)
    onEvaluation: opts.evalEvery ? (step, mAP) => { curve.map_step!.push(step); curve.map!.push(mAP); } : undefined,
  });
  const { map_11point, map_area } = await testMaps(model, config);
  model.store.dispose();
  const teacher = ctx.teacherFor(seed);
  if (teacher instanceof CachedTeacher && teacher.hits + teacher.misses > 0) {
    log(`${method}, seed ${seed}: teacher answers: ${teacher.misses} computed, ${teacher.hits} from the shared cache`);
    teacher.hits = teacher.misses = 0;
  }
  log(`${method}, seed ${seed}: mAP(0.50, 11point) = ${(100 * map_11point).toFixed(2)}%`);
  return { method, seed, steps, wall_s: summary.wall_s as number, map_11point, map_area, curve };
}

/** Child processes still running, stopped if this one exits first (an error, Ctrl-C): none outlives the experiment. */
const children = new Set<ChildProcess>();
process.once('exit', () => { for (const c of children) c.kill(); });

/** One student run in a child process (--jobs): `kd experiment --run method:seed`, its log in a file. */
function runInChild(ctx: RunContext, teacherDir: string, method: string, seed: number): Promise<ExperimentRun> {
  const dir = runDir(ctx.work, method, seed);
  mkdirSync(dir, { recursive: true });
  const args = [
    kdBin, 'experiment', '--run', `${method}:${seed}`, '--teacher', teacherDir, '--steps', String(ctx.steps), '--student', ctx.opts.student,
    '--data', ctx.data, '--work', ctx.work, '--split', ctx.opts.split, ...(ctx.opts.quick ? ['--quick'] : []),
    ...(ctx.opts.evalEvery ? ['--eval-every', String(ctx.opts.evalEvery)] : []), ...(ctx.opts.init ? ['--init', ctx.opts.init] : []),
    ...(ctx.opts.teacherCache ? [] : ['--no-teacher-cache']),
    ...ctx.opts.opt.flatMap((o) => ['-o', o]),
  ];
  const logFile = join(dir, 'log.txt');
  const fd = openSync(logFile, 'w');
  log(`${method}, seed ${seed}: started (log ${logFile})`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', fd, fd] });
    children.add(child);
    child.on('error', reject);
    child.on('exit', (code) => {
      children.delete(child);
      if (code !== 0) return reject(new Error(`${method}, seed ${seed} failed (exit ${code}); see ${logFile}`));
      const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as ExperimentRun;
      log(`${method}, seed ${seed}: mAP(0.50, 11point) = ${(100 * run.map_11point).toFixed(2)}%`);
      resolve(run);
    });
  });
}

/**
 * Ctrl-C or SIGTERM (to this process alone, too) stops the experiment at once: the runs in
 * flight end with it (the 'exit' handler above stops the children), those that finished stay in
 * the record for --resume; exit 130 or 143.
 */
function stopAtSignals(out: string): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      log(`${signal}: stopped; the runs that finished are in ${join(out, 'experiment.json')}, --resume (with the same options) runs the others`);
      process.exit(code);
    });
  }
}

/** Runs `tasks` with at most `jobs` in flight; results keep the tasks' order. */
async function pool<T>(tasks: Array<() => Promise<T>>, jobs: number, onDone: (results: T[]) => void): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
      onDone(results.filter((r) => r !== undefined));
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, worker));
  return results;
}

function parseRun(spec: string, methods: readonly string[]): { method: string; seed: number } {
  const [method, seed] = spec.split(':');
  if (!methods.includes(method) || !/^\d+$/.test(seed ?? '')) throw new ConfigError(`--run ${spec}: expected METHOD:SEED with a method of ${methods.join(', ')}`);
  return { method, seed: Number(seed) };
}

async function experiment(opts: ExperimentOptions): Promise<void> {
  if (opts.report) return reportOnly(opts.out ?? EXPERIMENT_OUT);
  if (opts.merge) return mergeOnly(opts.merge.split(',').map((d) => d.trim()).filter(Boolean), opts.out ?? EXPERIMENT_OUT);
  const methods = opts.methods.split(',').map((m) => m.trim()).filter(Boolean);
  const unknown = methods.filter((m) => !(EXPERIMENT_METHODS as readonly string[]).includes(m));
  if (unknown.length > 0) throw new ConfigError(`--methods: unknown ${unknown.join(', ')} (known: ${EXPERIMENT_METHODS.join(', ')})`);
  const child = opts.run === undefined ? undefined : parseRun(opts.run, EXPERIMENT_METHODS);
  for (const m of methods) methodOverrides(opts.opt, m, EXPERIMENT_METHODS); // unknown method scopes fail before any run
  if (opts.init !== undefined && !existsSync(join(opts.init, 'model.json'))) throw new ConfigError(`--init ${opts.init}: no model.json there`);

  // Where everything goes: --out (a smoke run: a temp folder), the runs in --work (default OUT/runs),
  // --quick's tiny dataset in WORK too; never over a previous experiment (a child's folders are its
  // parent's), unless resuming it.
  const temp = opts.quick && opts.out === undefined && !child && !opts.resume ? temporaryFolder('kd-experiment-') : undefined;
  const out = opts.out ?? temp ?? EXPERIMENT_OUT;
  const work = opts.work ?? join(out, 'runs');
  const seeds = Array.from({ length: opts.seeds }, (_, i) => opts.firstSeed + i);
  const previous = opts.resume && !child ? readExperimentRecord(out, '--resume', true) : undefined;
  // resuming: the teacher the record was made with (trained in WORK, or given)
  const givenTeacher = previous?.teacher.checkpoint ?? opts.teacher ?? (opts.quick ? undefined : SHIPPED_TEACHER);
  const trainsTeacher = givenTeacher === undefined || !existsSync(join(givenTeacher, 'model.json'));
  if (previous && trainsTeacher) throw new ConfigError(`--resume: the teacher of ${join(out, 'experiment.json')}, ${givenTeacher}, is gone`);
  if (!child && !previous) refusePreviousRuns(out, work, methods, seeds, trainsTeacher);
  const data = opts.quick && !child ? join(work, 'shapes') : opts.data;
  if (previous) checkSameInputs(previous, { teacher: opts.teacher, data }, join(out, 'experiment.json'));

  const backend = await initBackend();
  await ensureShapesDataset(data, opts.quick === true, log);
  const lists: ValidationLists | undefined = opts.split === 'validation'
    ? carveValidation(data, loadConfig(opts.student, [`dataset.dir=${data}`]).dataset.train_list, join(work, 'validation-split'))
    : undefined;
  const base = [
    `dataset.dir=${data}`, ...(opts.quick ? QUICK_OVERRIDES : []),
    ...(lists ? [`dataset.train_list=${lists.train}`, `dataset.test_list=${lists.validation}`] : []),
  ];
  const studentDefaults = loadConfig(opts.student, base);
  // what every student is scored with (the unscoped -o included): the teacher is scored the same way
  const studentCommon = loadConfig(opts.student, [...base, ...opts.opt.filter((o) => !/^[\w+]+:/.test(o))]);
  const steps = opts.steps ?? (opts.quick ? 3 : studentDefaults.max_iters);

  // The teacher: given, the shipped one, or trained now (same steps as the students).
  let teacherDir = givenTeacher ?? '';
  if (trainsTeacher) {
    const saveDir = join(work, 'teacher');
    log(`training the teacher (${opts.teacherConfig}) into ${saveDir}`);
    const config = loadConfig(opts.teacherConfig, [...base, `save_dir=${saveDir}`, ...scheduleOverrides(loadConfig(opts.teacherConfig, base), steps)]);
    await runTraining({ command: 'experiment', configPath: opts.teacherConfig, overrides: base, config, backend: backend.name, model: createYoloV3(config) });
    teacherDir = join(saveDir, 'model_final');
  }
  const loadedTeacher = loadTeacher(teacherDir, data, studentCommon.eval_reader);
  const { teacher, source: teacherSource } = loadedTeacher;
  const teacherConfig = { ...loadedTeacher.config, dataset: { ...loadedTeacher.config.dataset, test_list: studentCommon.dataset.test_list } };
  const ctx: RunContext = {
    opts, work, data, base, steps, logIter: studentDefaults.log_iter, backend: backend.name, schedule: scheduleOverrides(studentDefaults, steps),
    teacherFor: opts.teacherCache ? cachedPerSeed(teacherSource, work) : () => teacherSource,
  };
  if (child) {
    const run = await runOne(ctx, child.method, child.seed);
    writeAtomic(join(runDir(work, child.method, child.seed), 'run.json'), `${JSON.stringify(run)}\n`);
    teacher.store.dispose();
    return;
  }
  mkdirSync(out, { recursive: true });
  const protocol: ExperimentProtocol = {
    student: opts.student, methods, seeds, steps, schedule: ctx.schedule, init: opts.init ?? null, overrides: opts.opt,
    eval_size: studentCommon.eval_reader.size, eval_every: opts.evalEvery ?? null, split: opts.split, validation: lists ? { rule: lists.rule, train_images: lists.trainImages, validation_images: lists.validationImages } : null,
  };
  if (previous) checkSameProtocol(previous, protocol, join(out, 'experiment.json'));
  let teacherResult: TeacherResult;
  if (previous) {
    teacherResult = previous.teacher;
  } else {
    const teacherMaps = await testMaps(teacher, teacherConfig);
    teacherResult = { checkpoint: teacherDir, map_11point: teacherMaps.map_11point, map_area: teacherMaps.map_area };
  }
  log(`teacher mAP(0.50, 11point) = ${(100 * teacherResult.map_11point).toFixed(2)}%`);

  const command = previous?.command ?? `kd experiment${process.argv.slice(3).length ? ` ${process.argv.slice(3).join(' ')}` : ''}`;
  const done = previous?.runs ?? [];
  // seed by seed: the runs in flight together are mostly of one seed, sharing its teacher answers
  const todo = seeds.flatMap((seed) => methods.map((method) => ({ method, seed })))
    .filter(({ method, seed }) => !done.some((r) => r.method === method && r.seed === seed));
  if (previous) {
    log(`--resume: ${done.length} runs done, ${todo.length} to run`);
    // an interrupted run starts over: its checkpoints go
    for (const { method, seed } of todo) rmSync(runDir(work, method, seed), { recursive: true, force: true });
  }
  const inOrder = (runs: ExperimentRun[]) => [...runs].sort((a, b) => methods.indexOf(a.method) - methods.indexOf(b.method) || a.seed - b.seed);
  const tasks = todo.map(({ method, seed }) => () => (opts.jobs > 1 ? runInChild(ctx, teacherDir, method, seed) : runOne(ctx, method, seed)));
  // the record exists from the start and grows run by run: an interrupted experiment keeps what
  // finished, and --resume continues from it
  const record = (ran: ExperimentRun[]) =>
    writeAtomic(join(out, 'experiment.json'), `${JSON.stringify({ command, protocol, split: opts.split, data, teacher: teacherResult, runs: inOrder([...done, ...ran]) }, null, 1)}\n`);
  record([]);
  stopAtSignals(out);
  const finished = await pool(tasks, opts.jobs, (ran) => {
    record(ran);
    // a seed's shared teacher answers: of no use once its runs have ended (an interrupted
    // experiment keeps those of its unfinished seeds for --resume)
    const all = [...done, ...ran];
    for (const seed of seeds) {
      const dir = teacherCacheDir(work, seed);
      if (existsSync(dir) && methods.every((m) => all.some((r) => r.method === m && r.seed === seed))) {
        rmSync(dir, { recursive: true, force: true });
        log(`seed ${seed}: its runs ended, their shared teacher answers removed`);
      }
    }
  });
  const runs = inOrder([...done, ...finished]);
  rmSync(join(work, 'teacher-cache'), { recursive: true, force: true });
  writeReport(out, { command, protocol, split: opts.split, teacher: teacherResult, runs });
  teacher.store.dispose();
  if (temp) log(`${temp} is a temp folder, removed now: give --out to keep the records, --work the checkpoints`);
}

/**
 * An experiment's records and checkpoints are hours of work: refuse (before any) to write where a
 * previous experiment left its experiment.json, or a run or trained teacher this one would redo.
 */
function refusePreviousRuns(out: string, work: string, methods: readonly string[], seeds: readonly number[], trainsTeacher: boolean): void {
  const record = join(out, 'experiment.json');
  if (existsSync(record)) {
    throw new ConfigError(`--out ${out}: ${record} is a previous experiment's; give another --out (or --resume to continue it, --report to redraw its table and charts)`);
  }
  const dirs = methods.flatMap((m) => seeds.map((seed) => runDir(work, m, seed)));
  for (const dir of trainsTeacher ? [join(work, 'teacher'), ...dirs] : dirs) {
    if (existsSync(dir)) throw new ConfigError(`--work ${work}: ${dir} holds a previous run; give another --work`);
  }
}

/** experiment.md and the three charts in `out` from the experiment's records (methods in run order). */
function writeReport(out: string, { command, split, teacher, runs }: ExperimentRecord): void {
  const methods = [...new Set(runs.map((r) => r.method))];
  writeAtomic(join(out, 'experiment.md'), experimentMarkdown(runs, methods, teacher, command, split));
  const rows = summarize(runs, methods);
  const seedValues = (method: string) => runs.filter((r) => r.method === method).sort((a, b) => a.seed - b.seed).map((r) => 100 * r.map_11point);
  writeAtomic(join(out, 'experiment-map.svg'), barChart('mAP(0.50, 11point) by method: mean +- std, a dot per seed', 'mAP %',
    rows.map((r) => ({ label: r.method, mean: r.mean11, std: r.std11, points: seedValues(r.method) })), { label: 'teacher', value: 100 * teacher.map_11point }));
  writeAtomic(join(out, 'experiment-loss.svg'), lineChart('training loss (detection + distillation)', 'step', 'loss',
    methods.map((m) => ({ label: m, points: meanCurve(runs, m, 'loss') }))));
  writeAtomic(join(out, 'experiment-distill-loss.svg'), lineChart('distill_loss', 'step', 'distill_loss',
    methods.filter((m) => m !== 'baseline').map((m) => ({ label: m, points: meanCurve(runs, m, 'distill_loss') }))));
  const mapCurves = methods.map((m) => ({ label: m, points: meanCurve(runs, m, 'map').map(([s, v]): [number, number] => [s, 100 * v]) }))
    .filter((c) => c.points.length > 0);
  if (mapCurves.length > 0) {
    writeAtomic(join(out, 'experiment-map-curve.svg'), lineChart('mAP(0.50, 11point) during training, mean over seeds', 'step', 'mAP %', mapCurves));
  }
  for (const r of rows) log(`${r.method.padEnd(30)} ${r.mean11.toFixed(2)} +- ${r.std11.toFixed(2)} (11point)`);
  log(`wrote ${join(out, 'experiment.md')} and ${mapCurves.length > 0 ? 'four' : 'three'} charts from ${runs.length} runs`);
}

/** --report: rewrite the table and charts from OUT/experiment.json (an interrupted experiment's runs so far, or new chart code). */
function reportOnly(out: string): void {
  writeReport(out, readExperimentRecord(out, '--report'));
}

/** --merge: one record, table and charts in `out` from experiments of one protocol (e.g. run a seed at a time). */
function mergeOnly(dirs: string[], out: string): void {
  if (dirs.length < 2) throw new ConfigError(`--merge ${dirs.join(',')}: give two or more experiment folders, comma-separated`);
  const record = join(out, 'experiment.json');
  if (existsSync(record)) throw new ConfigError(`--out ${out}: ${record} is a previous experiment's; give another --out`);
  const merged = mergeExperimentRecords(dirs.map((dir) => ({ dir, record: readExperimentRecord(dir, '--merge') })), EXPERIMENT_METHODS);
  mkdirSync(out, { recursive: true });
  writeAtomic(record, `${JSON.stringify(merged, null, 1)}\n`);
  log(`merged ${merged.runs.length} runs of ${dirs.length} experiments into ${record}`);
  writeReport(out, merged);
}
