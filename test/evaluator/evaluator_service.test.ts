// The evaluator service as a real process on port 0 (real gRPC, the shared NATS), on a tiny
// dataset and checkpoints made by the kd cli: reports equal `kd eval` and `kd map` on the same
// inputs, bad requests are refused naming the field while the service keeps answering,
// reports by id and by job, best.json, EvaluationDone, metrics, health and SIGTERM.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { credentials, makeClientConstructor, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { connectBus, type BusEvent, type EventBus } from '@kd/bus';
import { readVocDataset } from '@kd/data';
import { EVALUATOR_METRIC_NAMES } from '@kd/evaluator-service/metrics';
import { ApMetric, type EvaluationDone, type EvaluationReport, EvaluationState, type EvaluatorServiceClient } from '@kd/proto';
import {
  client, deleteStreams, evaluate, fetchMetrics, getReport, kd, makeDataset, natsReachable, SHARED_NATS_URL, SHIPPED_STUDENT, startEvaluatorProcess,
  studentCopy, tempDir, trainTiny, uniqueId, waitFor, type EvaluatorProcess,
} from './helpers.ts';

const id = uniqueId();
const stream = `KD_EVALTEST_${id}`;
const prefix = `evaltest_${id}`;
let tmp: ReturnType<typeof tempDir>;
let data: string;
let tiny: string;
let student: string;
let state: string;
let server: EvaluatorProcess;
let c: EvaluatorServiceClient;
let bus: EventBus;
const done: BusEvent[] = [];

before(async () => {
  assert.ok(await natsReachable(), `the shared NATS at ${SHARED_NATS_URL} must be up (these tests never skip)`);
  tmp = tempDir('kd-evaluator-test-');
  data = join(tmp.dir, 'data');
  state = join(tmp.dir, 'state');
  await makeDataset(data, 4);
  await trainTiny(data, join(tmp.dir, 'tiny'), 2);
  tiny = join(tmp.dir, 'tiny', 'model_final');
  // the shipped student, its stored config pointed at this dataset: what `kd eval -w` without -c reads
  student = join(tmp.dir, 'student');
  studentCopy(student, data, 224);
  server = await startEvaluatorProcess(['--state', state, '--nats', SHARED_NATS_URL, '--stream', stream, '--subject-prefix', prefix, '--durable', `d_${id}`]);
  c = client(server.address);
  bus = await connectBus({ url: SHARED_NATS_URL, stream, subjectPrefix: prefix, log: () => {}, closeTimeoutMs: 1000 });
  bus.subscribe('kd.*.evaluation_done', (e) => done.push(e));
});

after(async () => {
  c?.close();
  server?.kill();
  await bus?.close();
  await deleteStreams([stream]);
  tmp?.cleanup();
});

function expectStatus(code: status, detail: RegExp) {
  return (e: ServiceError) => {
    assert.equal(e.code, code, `${status[e.code]}: ${e.details}`);
    assert.match(e.details, detail);
    return true;
  };
}

function assertApEqual(report: EvaluationReport, reference: { mAP: number; per_class: Record<string, number> }, what: string): void {
  assert.ok(Math.abs(report.meanAp - reference.mAP) < 1e-12, `${what}: mean_ap ${report.meanAp} vs ${reference.mAP}`);
  assert.deepEqual(Object.keys(report.perClassAp).sort(), Object.keys(reference.per_class).sort(), what);
  for (const [k, v] of Object.entries(reference.per_class)) assert.ok(Math.abs(report.perClassAp[k] - v) < 1e-12, `${what}: ${k} ${report.perClassAp[k]} vs ${v}`);
}

test('Evaluate a checkpoint: the report equals kd eval of the same checkpoint on the same dataset', async () => {
  const [tinyReport, studentReport, tinyEval, studentEval] = await Promise.all([
    evaluate(c, { checkpoint: { path: tiny, dataset: '', split: '' } }),
    // dataset overrides the checkpoint config's dataset.dir (the shipped student's points elsewhere)
    evaluate(c, { checkpoint: { path: SHIPPED_STUDENT, dataset: data, split: '' } }),
    kd(['eval', '-w', tiny, '--json']),
    kd(['eval', '-w', student, '--json']),
  ]);
  for (const [report, out, what, step] of [[tinyReport, tinyEval, 'tiny', 2], [studentReport, studentEval, 'student', 3000]] as const) {
    assert.equal(report.state, EvaluationState.EVALUATION_STATE_DONE, `${what}: ${report.error}`);
    assertApEqual(report, JSON.parse(out), what);
    assert.equal(report.numImages, 4);
    assert.equal(report.metric, ApMetric.AP_METRIC_11POINT);
    assert.equal(report.iouThreshold, 0.5);
    assert.equal(report.step, step, 'step 0 in the request: the checkpoint\'s own');
    assert.equal(report.error, '');
    assert.ok(report.seconds > 0 && report.evaluationId !== '');
  }
  assert.ok(studentReport.meanAp > 0.2, `the shipped student finds shapes (mAP ${studentReport.meanAp})`);
});

test('Evaluate at an input size: the report equals kd eval of the checkpoint whose config has that size', async () => {
  const student320 = join(tmp.dir, 'student320');
  studentCopy(student320, data, 320);
  const [at320, own, eval320] = await Promise.all([
    evaluate(c, { checkpoint: { path: student, dataset: '', split: '', inputSize: 320 } }),
    evaluate(c, { checkpoint: { path: student, dataset: '', split: '' } }),
    kd(['eval', '-w', student320, '--json']),
  ]);
  assert.equal(at320.state, EvaluationState.EVALUATION_STATE_DONE, at320.error);
  assertApEqual(at320, JSON.parse(eval320), 'input_size 320');
  assert.notEqual(at320.meanAp, own.meanAp, 'input_size 0 keeps the checkpoint\'s own size (224), which scores otherwise');
});

/** Ground truth JSON of the dataset's test split and detections made from it: jittered boxes, misses, false positives. */
async function detectionFiles(): Promise<{ gt: string; dets: string }> {
  const ds = await readVocDataset(data, { split: 'test.txt' });
  const gt = {
    classes: ds.classes,
    images: ds.records.map((r) => ({ id: r.id, width: r.width, height: r.height, objects: r.objects.map((o) => ({ class: o.name, bbox: o.bbox, difficult: o.difficult })) })),
  };
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const dets = gt.images.flatMap((im) => im.objects.flatMap((o, k) => {
    if (k % 4 === 3) return []; // missed
    const j = (v: number) => v + (rand() - 0.5) * 8;
    const hit = { image_id: im.id, class: o.class, score: 0.3 + 0.7 * rand(), bbox: o.bbox.map(j) };
    const wrong = { image_id: im.id, class: gt.classes[(gt.classes.indexOf(o.class) + 1) % gt.classes.length], score: rand(), bbox: o.bbox.map(j) };
    return k % 2 === 0 ? [hit, wrong] : [hit];
  }));
  const paths = { gt: join(tmp.dir, 'gt.json'), dets: join(tmp.dir, 'dets.json') };
  writeFileSync(paths.gt, JSON.stringify(gt));
  writeFileSync(paths.dets, JSON.stringify(dets));
  return paths;
}

test('Evaluate detections + ground truth JSON: the report equals kd map on the same files', async () => {
  const f = await detectionFiles();
  const detections = { detectionsPath: f.dets, groundTruthPath: f.gt };
  const [def, area, mapDef, mapArea] = await Promise.all([
    evaluate(c, { detections }),
    evaluate(c, { detections, metric: ApMetric.AP_METRIC_AREA, iouThreshold: 0.6 }),
    kd(['map', '--gt', f.gt, '--detections', f.dets, '--json']),
    kd(['map', '--gt', f.gt, '--detections', f.dets, '--json', '--metric', 'area', '--iou', '0.6']),
  ]);
  assertApEqual(def, JSON.parse(mapDef), 'default metric');
  assertApEqual(area, JSON.parse(mapArea), 'area @ 0.6');
  assert.ok(def.meanAp > 0.3 && def.meanAp < 1, `a partly right set of detections (${def.meanAp})`);
  assert.notEqual(def.meanAp, area.meanAp);
  assert.equal(area.metric, ApMetric.AP_METRIC_AREA);
  assert.ok(Math.abs(area.iouThreshold - 0.6) < 1e-6);
  assert.equal(def.source, f.dets);
  assert.equal(def.numImages, 4);
});

test('bad requests get INVALID_ARGUMENT / NOT_FOUND naming the field; the service keeps answering', async () => {
  const missing = join(tmp.dir, 'nope');
  const notJson = join(tmp.dir, 'bad.json');
  writeFileSync(notJson, '[{"image_id": "x"');
  const f = await detectionFiles();
  const badDets = join(tmp.dir, 'bad_dets.json');
  writeFileSync(badDets, JSON.stringify([{ image_id: 'not-an-image', class: 'red_circle', score: 1, bbox: [0, 0, 1, 1] }]));
  const ckpt = (path: string, dataset = '') => ({ checkpoint: { path, dataset, split: '' } });
  const cases: Array<[Parameters<typeof evaluate>[1], status, RegExp]> = [
    [{}, status.INVALID_ARGUMENT, /^EvaluateRequest\.input: neither checkpoint nor detections/],
    [{ ...ckpt(tiny), detections: { detectionsPath: f.dets, groundTruthPath: f.gt } }, status.INVALID_ARGUMENT, /^EvaluateRequest\.input: both/],
    [ckpt(''), status.INVALID_ARGUMENT, /^EvaluateRequest\.checkpoint\.path: empty/],
    [ckpt(missing), status.NOT_FOUND, /^EvaluateRequest\.checkpoint\.path: .*nope does not exist/],
    [ckpt(data), status.NOT_FOUND, /^EvaluateRequest\.checkpoint\.path: .*model\.json does not exist/],
    [ckpt(tiny, missing), status.NOT_FOUND, /^EvaluateRequest\.checkpoint\.dataset: .*nope does not exist/],
    [ckpt('s3://bucket/ckpt'), status.INVALID_ARGUMENT, /only local paths and file:\/\/ URIs/],
    [{ ...ckpt(tiny), iouThreshold: 1.5 }, status.INVALID_ARGUMENT, /^EvaluateRequest\.iou_threshold: 1\.5 is outside/],
    [{ checkpoint: { ...ckpt(tiny).checkpoint, inputSize: 100 } }, status.INVALID_ARGUMENT, /^EvaluateRequest\.checkpoint\.input_size: 100 is not a multiple of 32/],
    [{ ...ckpt(tiny), metric: 9 as ApMetric }, status.INVALID_ARGUMENT, /^EvaluateRequest\.metric: unknown ApMetric 9/],
    [{ ...ckpt(tiny), jobId: 'a.b' }, status.INVALID_ARGUMENT, /^EvaluateRequest\.job_id: "a\.b" is not a job id/],
    [{ ...ckpt(tiny), evaluationId: '../x' }, status.INVALID_ARGUMENT, /^EvaluateRequest\.evaluation_id:/],
    [{ detections: { detectionsPath: missing, groundTruthPath: f.gt } }, status.NOT_FOUND, /^EvaluateRequest\.detections\.detections_path: .*nope does not exist/],
    [{ detections: { detectionsPath: notJson, groundTruthPath: f.gt } }, status.INVALID_ARGUMENT, /^EvaluateRequest\.detections\.detections_path: .*bad\.json: not valid JSON/],
    [{ detections: { detectionsPath: badDets, groundTruthPath: f.gt } }, status.INVALID_ARGUMENT, /detections\[0\]\.image_id: "not-an-image" is not an image of the ground truth/],
    [{ detections: { detectionsPath: f.dets, groundTruthPath: notJson } }, status.INVALID_ARGUMENT, /^EvaluateRequest\.detections\.ground_truth_path: .*not valid JSON/],
  ];
  for (const [req, code, detail] of cases) await assert.rejects(evaluate(c, req), expectStatus(code, detail), detail.source);
  await assert.rejects(getReport(c, {}), expectStatus(status.INVALID_ARGUMENT, /^GetReportRequest\.key: neither/));
  await assert.rejects(getReport(c, { evaluationId: 'no-such-id' }), expectStatus(status.NOT_FOUND, /no report for evaluation "no-such-id"/));
  await assert.rejects(getReport(c, { jobId: `nojob_${id}` }), expectStatus(status.NOT_FOUND, /no report for job/));
  // nothing was stored for the refused requests, and a good one still works
  const good = await evaluate(c, { detections: { detectionsPath: f.dets, groundTruthPath: f.gt } });
  assert.equal(good.state, EvaluationState.EVALUATION_STATE_DONE);
  assert.deepEqual(await getReport(c, { evaluationId: good.evaluationId }), good);
});

test('GetReport by id and by job (latest = highest step); one state file per evaluation; best.json; EvaluationDone', async () => {
  const job = `job_${id}`;
  const [low, high] = await Promise.all([
    evaluate(c, { jobId: job, step: 5, evaluationId: `best_${id}`, checkpoint: { path: student, dataset: '', split: '' } }),
    evaluate(c, { jobId: job, step: 10, checkpoint: { path: tiny, dataset: '', split: '' } }),
  ]);
  assert.ok(low.meanAp > high.meanAp, 'the student at step 5 beats the tiny model at step 10');
  assert.deepEqual(await getReport(c, { jobId: job }), high, 'latest by step');
  assert.deepEqual(await getReport(c, { evaluationId: low.evaluationId }), low);
  const files = readdirSync(join(state, 'evaluations'));
  for (const r of [low, high]) {
    assert.ok(files.includes(`${r.evaluationId}.json`), `${r.evaluationId}.json in ${files}`);
    const stored = JSON.parse(readFileSync(join(state, 'evaluations', `${r.evaluationId}.json`), 'utf8'));
    assert.equal(stored.format, 'kd-evaluation/1');
    assert.equal(stored.report.evaluationId, r.evaluationId);
    assert.equal(stored.evaluation_done_published, true);
  }
  assert.ok(!files.some((n) => n.includes('.tmp')), 'no temp files left');
  const best = JSON.parse(readFileSync(join(state, 'jobs', job, 'best.json'), 'utf8'));
  assert.equal(best.evaluation_id, low.evaluationId);
  assert.equal(best.best_model, student);
  assert.equal(best.step, 5);
  assert.equal(best.mean_ap, low.meanAp);
  await waitFor('two EvaluationDone', () => done.filter((e) => e.job === job).length === 2);
  const events = done.filter((e) => e.job === job).map((e) => e.payload as EvaluationDone);
  const ofLow = events.find((e) => e.evaluationId === low.evaluationId)!;
  assert.equal(ofLow.meanAp, low.meanAp);
  assert.equal(ofLow.checkpointPath, student);
  assert.equal(ofLow.step, 5);
  assert.deepEqual(ofLow.perClassAp, low.perClassAp);
  const m = await fetchMetrics(server.metricsPort);
  assert.equal(m.get(EVALUATOR_METRIC_NAMES.bestMap)?.find((s) => s.labels.job_id === job)?.value, low.meanAp);
  assert.ok(m.get(EVALUATOR_METRIC_NAMES.map)?.some((s) => s.labels.job_id === job));
});

test('an evaluation id is idempotent: the same input returns the stored report, another input is ALREADY_EXISTS', async () => {
  const evaluationId = `same_${id}`;
  const f = await detectionFiles();
  const first = await evaluate(c, { evaluationId, detections: { detectionsPath: f.dets, groundTruthPath: f.gt } });
  const started = () => server.logs().filter((l) => l.msg === 'evaluation started' && l.evaluationId === evaluationId).length;
  assert.equal(started(), 1);
  assert.deepEqual(await evaluate(c, { evaluationId, detections: { detectionsPath: f.dets, groundTruthPath: f.gt } }), first);
  assert.equal(started(), 1, 'not evaluated again');
  await assert.rejects(evaluate(c, { evaluationId, checkpoint: { path: tiny, dataset: '', split: '' } }), expectStatus(status.ALREADY_EXISTS, /already names the evaluation of/));
});

type HealthClient = Client & { check(req: { service: string }, cb: (err: ServiceError | null, res: { status: string }) => void): void };
const HealthClient = makeClientConstructor(healthService as never, 'grpc.health.v1.Health') as unknown as new (
  address: string, creds: ReturnType<typeof credentials.createInsecure>) => HealthClient;

test('gRPC stays responsive during an evaluation; health, /healthz and every metric name are served', async () => {
  const evaluationId = `busy_${id}`;
  const running = evaluate(c, { evaluationId, checkpoint: { path: student, dataset: '', split: '' } });
  const t = performance.now();
  await waitFor('the report in progress', () => server.logs().some((l) => l.msg === 'evaluation queued' && l.evaluationId === evaluationId));
  const inProgress = await getReport(c, { evaluationId });
  assert.ok([EvaluationState.EVALUATION_STATE_PENDING, EvaluationState.EVALUATION_STATE_RUNNING].includes(inProgress.state as 1 | 2), `state ${inProgress.state}`);
  const h = new HealthClient(server.address, credentials.createInsecure());
  const check = (service: string) => new Promise<string>((resolve, reject) => h.check({ service }, (err, res) => (err ? reject(err) : resolve(res.status))));
  assert.equal(await check('kd.v1.EvaluatorService'), 'SERVING');
  assert.ok(performance.now() - t < 2000, 'answered while the evaluation thread works');
  h.close();
  assert.equal((await running).state, EvaluationState.EVALUATION_STATE_DONE);
  const healthz = await fetch(`http://127.0.0.1:${server.metricsPort}/healthz`);
  assert.equal(healthz.status, 200);
  const m = await fetchMetrics(server.metricsPort);
  for (const name of Object.values(EVALUATOR_METRIC_NAMES)) {
    assert.ok([...m.keys()].some((k) => k === name || k.startsWith(`${name}_`)), `${name} is exported`);
  }
  assert.ok(m.get(EVALUATOR_METRIC_NAMES.evaluations)!.some((s) => s.labels.source === 'grpc' && s.labels.input === 'checkpoint' && s.labels.state === 'done' && s.value >= 3));
  assert.ok(m.get(EVALUATOR_METRIC_NAMES.requests)!.some((s) => s.labels.method === 'Evaluate' && s.labels.code === 'INVALID_ARGUMENT' && s.value >= 5));
  assert.ok(m.get(EVALUATOR_METRIC_NAMES.images)![0].value >= 12);
});

test('SIGTERM: the running evaluation finishes and is answered, then the process exits 0 within 10 s', async () => {
  const evaluationId = `last_${id}`;
  const running = evaluate(c, { evaluationId, checkpoint: { path: student, dataset: '', split: '' } });
  await waitFor('the evaluation to start', () => server.logs().some((l) => l.msg === 'evaluation started' && l.evaluationId === evaluationId));
  const t = performance.now();
  server.kill('SIGTERM');
  const report = await running;
  assert.equal(report.state, EvaluationState.EVALUATION_STATE_DONE);
  assert.equal(await server.exited, 0);
  assert.ok(performance.now() - t < 10_000, `exited after ${performance.now() - t} ms`);
  assert.ok(existsSync(join(state, 'evaluations', `${evaluationId}.json`)));
  await assert.rejects(evaluate(c, { evaluationId: `after_${id}`, checkpoint: { path: student, dataset: '', split: '' } }), (e: ServiceError) => e.code === status.UNAVAILABLE);
});
