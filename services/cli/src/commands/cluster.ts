// `kd cluster`: kd demo as a local cluster of real processes. A private nats-server (or
// NATS_URL), the teacher service, the evaluator service and two trainer services (baseline and
// distilled, same seed, same start, same batches), each its own process started through its
// entry (never imported). Progress comes from the trainers' events on the bus, mAP from the
// evaluator (evaluation_done of each model_final; Evaluate for the teacher and the start).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { connectBus, type EventBus } from '@kd/bus';
import { ConfigError, loadConfig } from '@kd/config';
import { writeFilesAtomic } from '@kd/data';
import type { EvaluationDone, TrainingProgress } from '@kd/proto';
import { ensureShapesDataset, parseMethod, scheduleOverrides, SHIPPED_TEACHER } from '@kd/trainer';
import { EvaluatorClient } from '../cluster/evaluator_client.ts';
import { findNatsServer, natsReachable, NO_NATS_MESSAGE, privateNatsServer } from '../cluster/nats.ts';
import { ProgressBoard, shortDuration, withHeartbeat } from '../cluster/progress.ts';
import { checkpointModel, clusterTable, verdict, type ClusterRow } from '../cluster/report.ts';
import { deferred, fromEvent, fromReport, isFinal, scoredRow, sleep, teacherBatchMean, waitForFinal, type Scored } from '../cluster/scores.ts';
import { grpcService, serviceEnv, trainerService } from '../cluster/services.ts';
import { ClusterInterruptedError, ServiceFailedError, Supervisor } from '../cluster/supervisor.ts';
import { exitTwoOnUsageError, nonNegativeInt, nonNegativeNumber, positiveInt, reportUserErrors } from './common.ts';
import {
  addStartOptions, DEMO_EVIDENCE, demoEvidence, DEMO_STEPS, describeStart, effectiveWeight, evalSizeOverrides, quickOverrides, startOverrides, studentStart, type StartOptions,
} from './demo_setting.ts';

interface ClusterOptions extends StartOptions {
  steps?: number; method: string; weight?: number; teacher: string; student: string; data?: string; work?: string; seed: number; evalSize?: number;
}

const PREFIX = 'kd cluster: ';
const METHODS = ['l2', 'fine_grained', 'fine_grained_paper'];
/** Default --work (with --quick: a temp folder); `npm start` is the demo, so its results are demo.json there. */
export const CLUSTER_WORK = 'output/demo';
/** The run's closing table and settings, in --work. */
export const CLUSTER_RESULT = 'demo.json';
/**
 * QUICK_OVERRIDES keys that describe the model rather than the run: dropped when the students
 * start from a checkpoint (--init), whose widths and eval size are its own.
 */
const MODEL_KEYS = ['backbone.width', 'yolo_head.width', 'eval_reader.size'];
/**
 * Who stops first: a trainer told to stop finishes its step (which may need the teacher) and
 * publishes its model_final on the bus, so the teacher and the evaluator stop after the
 * trainers, and the bus last.
 */
const STOP_ORDER = { trainers: 0, services: 1, bus: 2 } as const;

/** `kd cluster`: the demo as separate processes on a bus (it becomes npm start). */
export function clusterCommand(): Command {
  const command = exitTwoOnUsageError(new Command('cluster'))
    .description('kd demo as a local cluster: a teacher service, a baseline and a distilled trainer service, and the evaluator, as processes on NATS')
    .option('--quick', 'a tiny generated dataset and a few steps at small inputs (well under a minute; for tests)')
    .option('--steps <n>', `student steps (default ${DEMO_STEPS}; --quick: 3)`, positiveInt)
    .option('--method <name>', 'distillation method (l2, fine_grained, fine_grained_paper, optionally +unlabeled)', 'l2')
    .option('--weight <w>', 'distill weight (default: the student config\'s for the method, e.g. l2 1)', nonNegativeNumber)
    .option('--teacher <checkpoint>', 'trained teacher checkpoint, served by the teacher service', SHIPPED_TEACHER)
    .option('--student <file>', 'student config', 'configs/yolov3_mobilenet_v1_shapes.yml')
    .option('--data <dir>', 'dataset, generated with kd make-dataset shapes on first use (default data/shapes; --quick: a tiny one in WORK)')
    .option('--work <dir>', `checkpoints, service logs, evaluator state, ${CLUSTER_RESULT} (default ${CLUSTER_WORK}; --quick: a temp folder removed at exit)`)
    .option('--seed <n>', 'seed of both students (same initial weights and batches)', nonNegativeInt, 0);
  return addStartOptions(command)
    .addHelpText('after', `
The bus: NATS_URL if set, else a private nats-server (JetStream, 127.0.0.1, a free port, its
store under WORK) that is stopped at the end; with neither it exits 2 (kd demo needs no bus).
Every service is its own process, its log in WORK/logs/. The teacher service serves --teacher;
the evaluator scores each trainer's model_final (from its checkpoint_saved event) and, through
its gRPC Evaluate, the teacher and the start, all at the students' eval size. Ends with a
table, also in WORK/${CLUSTER_RESULT}, and a sentence that quotes the several-seed result of
${DEMO_EVIDENCE}.
Ctrl-C or SIGTERM stops every process it started (SIGTERM, SIGKILL after 10 s) and exits
130/143; a service that fails stops the rest, and kd cluster exits 1 showing its log's tail.
With NATS_URL, its evaluator joins the durable consumer "evaluator" of stream KD_EVENTS (a
replica of any evaluator already there).

Environment:
  NATS_URL        an existing NATS server (JetStream on) instead of a private one
  KD_NATS_SERVER  the nats-server binary to start (default /usr/sbin/nats-server, then PATH; "none": none)
  KD_BACKEND      tfjs backend of every service: auto (default), tensorflow, wasm, cpu`)
    .action((opts: ClusterOptions) => reportUserErrors('cluster', () => cluster(opts)));
}

/** `cluster-20260102-130405-a1b2`: job ids of this run (one NATS token). */
function runId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `cluster-${t}-${Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0')}`;
}

async function cluster(opts: ClusterOptions): Promise<void> {
  const started = Date.now();
  // ---- everything a user can get wrong, before anything starts
  const { loss, unlabeled } = parseMethod(opts.method);
  if (!METHODS.includes(loss) || opts.method !== (unlabeled ? `${loss}+unlabeled` : loss)) {
    throw new ConfigError(`--method ${opts.method}: not one of ${METHODS.join(', ')} (optionally with +unlabeled)`);
  }
  const teacherDir = resolve(opts.teacher);
  if (!existsSync(join(teacherDir, 'model.json'))) {
    throw new ConfigError(`--teacher ${opts.teacher}: no model.json there (train one: kd train -c configs/yolov3_r34_shapes.yml)`);
  }
  const from = studentStart(opts);
  const init = from.init;
  const natsUrl = process.env.NATS_URL || undefined;
  const natsBinary = natsUrl ? undefined : findNatsServer();
  if (!natsUrl && !natsBinary) {
    process.stderr.write(`${PREFIX}${NO_NATS_MESSAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (natsUrl && !(await natsReachable(natsUrl))) {
    process.stderr.write(`${PREFIX}NATS_URL=${natsUrl}: no NATS server answers there (start one with JetStream, nats-server -js, or unset NATS_URL and kd cluster starts a private one)\n`);
    process.exitCode = 2;
    return;
  }
  const tempWork = opts.quick && opts.work === undefined ? mkdtempSync(join(tmpdir(), 'kd-cluster-')) : undefined;
  if (tempWork) process.once('exit', () => rmSync(tempWork, { recursive: true, force: true }));
  const work = resolve(opts.work ?? tempWork ?? CLUSTER_WORK);
  const data = resolve(opts.data ?? (opts.quick ? join(work, 'shapes') : 'data/shapes'));
  const quick = opts.quick ? quickOverrides(from).filter((o) => init === undefined || !MODEL_KEYS.some((k) => o.startsWith(`${k}=`))) : [];
  const base = [`dataset.dir=${data}`, `seed=${opts.seed}`, ...quick, ...evalSizeOverrides(opts.evalSize, opts.quick)];
  const defaults = loadConfig(opts.student, base);
  const steps = opts.steps ?? (opts.quick ? 3 : DEMO_STEPS);
  const weight = effectiveWeight(opts.weight, defaults.distill, loss);
  // about 24 progress events per run (the config's log_iter of 20 would be one every half minute)
  const logIter = Math.max(1, Math.min(defaults.log_iter, Math.round(steps / 24)));
  const logsDir = join(work, 'logs');
  mkdirSync(logsDir, { recursive: true });

  const id = runId();
  const roles = [
    { role: 'baseline', job: `${id}-baseline`, row: 'student, baseline', distilled: false },
    { role: 'distilled', job: `${id}-distilled`, row: `student, ${opts.method}`, distilled: true },
  ];
  const board = new ProgressBoard(roles.map((r) => r.role), { prefix: PREFIX });
  const log = (line: string) => board.log(line);
  const supervisor = new Supervisor(log);
  const env = serviceEnv();
  let bus: EventBus | undefined;
  let evaluator: EvaluatorClient | undefined;
  let storeDir: string | undefined;
  let outcome: { table: string; sentence: string; file: string } | undefined;
  let failure: unknown;
  try {
    await supervisor.guard(ensureShapesDataset(data, opts.quick === true, log));

    // ---- the bus
    let url = natsUrl;
    if (natsBinary) {
      const nats = privateNatsServer(natsBinary, work, join(logsDir, 'nats-server.log'));
      storeDir = nats.storeDir;
      const { process: p, ready } = await supervisor.start(nats.options, { stopOrder: STOP_ORDER.bus });
      url = ready;
      log(`nats-server started (pid ${p.pid}): ${url}, private, JetStream store in ${storeDir}`);
    } else {
      log(`bus: NATS_URL=${url}`);
    }
    bus = await supervisor.guard(connectBus({ url, name: 'kd-cluster', log: (line) => log(`bus: ${line}`) }));
    const finals = new Map(roles.map((r) => [r.job, deferred<Scored>()]));
    const progressOf = new Map(roles.map((r) => [`kd.${r.job}.training_progress`, r.role]));
    bus.subscribe('kd.*.training_progress', (e) => {
      const role = progressOf.get(e.subject);
      if (!role || e.event !== 'training_progress') return;
      const p = e.payload as TrainingProgress;
      board.update(role, { step: p.step, totalSteps: p.totalSteps, loss: p.loss.loss ?? p.loss.total, distillLoss: p.loss.distill_loss, imagesPerSecond: p.imagesPerSecond, etaSeconds: p.etaSeconds });
    });
    bus.subscribe('kd.*.evaluation_done', (e) => {
      const p = e.payload as EvaluationDone;
      if (e.event === 'evaluation_done' && isFinal(p.checkpointPath)) finals.get(e.job)?.resolve(fromEvent(p));
    });

    // ---- teacher and evaluator
    const [teacher, evaluatorService] = await Promise.all([
      supervisor.start(grpcService('teacher', ['--weights', teacherDir, '--host', '127.0.0.1', '--port', '0', '--metrics-port', '0'], { logsDir, env }), { stopOrder: STOP_ORDER.services }),
      supervisor.start(grpcService('evaluator', ['--host', '127.0.0.1', '--port', '0', '--metrics-port', '0', '--state', join(work, 'evaluator'), '--nats', url!], { logsDir, env }), { stopOrder: STOP_ORDER.services }),
    ]);
    for (const [name, s] of [['teacher', teacher], ['evaluator', evaluatorService]] as const) {
      log(`${name} started (pid ${s.process.pid}): gRPC ${s.ready.address}, metrics ${s.ready.metrics}, log ${s.process.logFile}`);
    }
    const client = (evaluator = new EvaluatorClient(evaluatorService.ready.address));
    // the teacher and the start are checkpoints the evaluator scores once, while the students train
    const fixed = (async () => {
      const scored: Array<{ model: string; dir: string; s: Scored }> = [];
      const teacherModel = checkpointModel(teacherDir);
      const list = [{ model: `teacher (${teacherModel.backbone})`, dir: teacherDir, key: 'teacher' }, ...(init ? [{ model: 'student, start', dir: init, key: 'start' }] : [])];
      for (const c of list) {
        // at the students' size (their checkpoints' own), so that every row is scored alike
        const checkpoint = { path: c.dir, dataset: data, inputSize: defaults.eval_reader.size };
        const report = await withHeartbeat(client.evaluate({ evaluationId: `${id}-${c.key}`, checkpoint }), `scoring the ${c.model}`, (line) => log(`evaluator: ${line}`));
        scored.push({ model: c.model, dir: c.dir, s: fromReport(report) });
        log(`evaluator: ${c.model} mAP(0.50, 11point) ${(100 * report.meanAp).toFixed(2)}% (${report.numImages} images, ${report.seconds.toFixed(1)} s)`);
      }
      return scored;
    })();
    fixed.catch(() => {}); // awaited below, with the trainers

    // ---- the two trainers
    const trainerArgs = (r: (typeof roles)[number]): string[] => {
      const overrides = [
        ...base, `save_dir=${join(work, r.role)}`, ...scheduleOverrides(defaults, steps), `snapshot_iter=${steps}`, `log_iter=${logIter}`,
        ...startOverrides(from),
        // images go to the teacher as float32 (the service's default is fp16): the teacher's outputs
        // are then bit-exact those of kd demo's in-process teacher, and so are the table's numbers
        ...(r.distilled ? [`distill.method=${loss}`, ...(weight === undefined ? [] : [`distill.weight=${weight}`]), 'teacher.input_dtype=float32'] : []),
        ...(r.distilled && unlabeled ? [`train_reader.unlabeled.dir=${join(data, 'unlabeled')}`] : []),
      ];
      return [
        '--job-id', r.job, '-c', opts.student, '--host', '127.0.0.1', '--metrics-port', '0', '--nats', url!,
        ...(r.distilled ? ['--teacher', `grpc://${teacher.ready.address}`] : []), ...overrides.flatMap((o) => ['-o', o]),
      ];
    };
    log(`${steps} steps per student from ${describeStart(from)}, scored at ${defaults.eval_reader.size} px, seed ${opts.seed}; distilled: ${opts.method}${weight === undefined ? '' : `, weight ${weight}`}, teacher over gRPC`);
    const trainers = await Promise.all(roles.map((r) => supervisor.start(trainerService(r.role, trainerArgs(r), { logsDir, env }), { mayExit: true, stopOrder: STOP_ORDER.trainers })));
    trainers.forEach((t, i) => log(`trainer ${roles[i].role} started (pid ${t.process.pid}): job ${roles[i].job}, metrics ${t.ready.metrics}, log ${t.process.logFile}`));

    // ---- until both have trained and the evaluator has scored both model_finals
    const trainStart = Date.now();
    const [finalScores, fixedScores] = await supervisor.guard(Promise.all([Promise.all(roles.map(async (r, i) => {
      const exit = await trainers[i].process.exited;
      if (exit.code !== 0) throw supervisor.reason ?? new Error(`trainer ${r.role} exited with code ${exit.code}`);
      board.note(r.role, `trained in ${shortDuration((Date.now() - trainStart) / 1000)}; waiting for the evaluator`);
      const s = await withHeartbeat(waitForFinal(finals.get(r.job)!, client, r.job), `waiting for the evaluator to score ${r.role}'s model_final`, log);
      board.note(r.role, `model_final mAP(0.50, 11point) ${(100 * s.meanAp).toFixed(2)}% (evaluated in ${s.seconds.toFixed(1)} s)`);
      return s;
    })), fixed]));
    board.close();
    const teacherBatch = await teacherBatchMean(teacher.ready.metrics, log);

    // ---- the table
    const rows: ClusterRow[] = fixedScores.map(({ model, dir, s }) => scoredRow(model, dir, s));
    roles.forEach((r, i) => {
      const summary = JSON.parse(readFileSync(join(work, r.role, 'train_summary.json'), 'utf8')) as Record<string, number>;
      rows.push({
        ...scoredRow(r.row, finalScores[i].checkpoint, finalScores[i]),
        train_images_per_s: summary.train_images_per_s,
        ...(r.distilled ? { teacher_wait_s: summary.teacher_wait_s, teacher_wait_fraction: summary.teacher_wait_s / summary.wall_s, teacher_batch_mean: teacherBatch } : {}),
      });
    });
    const sentence = verdict({
      baseline: finalScores[0].meanAp, distilled: finalScores[1].meanAp, start: fixedScores.find((f) => f.model === 'student, start')?.s.meanAp,
      method: opts.method, weight, steps, seed: opts.seed, evidence: demoEvidence(opts.method),
    });
    const services = supervisor.processes.map((p) => ({ name: p.name, pid: p.pid, log: p.logFile }));
    const file = join(work, CLUSTER_RESULT);
    writeFilesAtomic([{
      path: file,
      content: `${JSON.stringify({
        steps, method: opts.method, weight: weight ?? null, init: init ?? null, backbone: from.backbone ?? null, eval_size: defaults.eval_reader.size, seed: opts.seed, data, bus: natsUrl ? 'NATS_URL' : 'private nats-server',
        jobs: Object.fromEntries(roles.map((r) => [r.role, r.job])), services, wall_s: (Date.now() - started) / 1000, rows, verdict: sentence,
      }, null, 1)}\n`,
    }]);
    outcome = { table: clusterTable(rows), sentence, file };
  } catch (error) {
    failure = error;
  } finally {
    board.close();
    if (failure !== undefined && !supervisor.reason) await reasonWithin(supervisor, 1000); // a gRPC error often comes just before the exit that caused it
    evaluator?.close();
    await Promise.race([bus?.close(), sleep(3000, true)]);
    await supervisor.stopAll();
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
    supervisor.dispose();
  }

  const reason = supervisor.reason ?? failure;
  if (reason instanceof ClusterInterruptedError) {
    log(`stopped by ${reason.signal}; all ${supervisor.processes.length} processes it started have exited (logs in ${logsDir})`);
    process.exit(reason.exitCode);
  }
  if (reason instanceof ServiceFailedError) {
    log(`${reason.message}; every other process was stopped. The end of its log (${reason.process.logFile}):\n${indent(reason.process.tail())}`);
    process.exit(1);
  }
  if (reason !== undefined) {
    if (reason instanceof Error && reason.name === 'ConfigError') throw reason;
    log(`error: ${reason instanceof Error ? reason.message : String(reason)} (every process was stopped; logs in ${logsDir})`);
    process.exit(1);
  }
  process.stdout.write(`\n${outcome!.table}\n\n${outcome!.sentence}\n\n`);
  log(`done in ${shortDuration((Date.now() - started) / 1000)}; table also in ${outcome!.file}${tempWork ? ' (a temp folder, removed now: give --work to keep it)' : ''}`);
}

async function reasonWithin(s: Supervisor, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!s.reason && Date.now() < end) await sleep(50);
}

const indent = (text: string) => text.split('\n').map((l) => `  ${l}`).join('\n');
