import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findNatsServer } from './nats.ts';
import { barLine, ProgressBoard, progressLine, shortDuration, withHeartbeat } from './progress.ts';
import { checkpointModel, clusterTable, histogramMean, verdict } from './report.ts';
import { metricsFromLog } from './services.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kd-cluster-report-test-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('the closing table: aligned, "-" where a column does not apply, teacher wait with its share of the wall time', () => {
  const table = clusterTable([
    { model: 'teacher (ResNet)', params_m: 6.655, map_11point: 0.7319, eval_images_per_s: 8.44, checkpoint: 't', evaluation_id: 'a' },
    { model: 'student, l2', params_m: 1.54, map_11point: 0.5963, train_images_per_s: 5.51, teacher_wait_s: 41.23, teacher_wait_fraction: 0.234, teacher_batch_mean: 3.25, eval_images_per_s: 20.2, checkpoint: 's', evaluation_id: 'b' },
  ]).split('\n');
  assert.equal(table.length, 4);
  assert.match(table[0], /^model\s+params\s+mAP\(0\.50, 11point\)\s+train img\/s\s+teacher wait\s+teacher batch\s+eval img\/s$/);
  assert.match(table[2], /^teacher \(ResNet\)\s+6\.66M\s+73\.19%\s+-\s+-\s+-\s+8\.4$/);
  assert.match(table[3], /^student, l2\s+1\.54M\s+59\.63%\s+5\.5\s+41\.2s \(23%\)\s+3\.3\s+20\.2$/);
  assert.equal(new Set(table.map((l) => l.length)).size, 1, 'columns are aligned');
});

test('verdict: the difference in points, which way, the start, one seed', () => {
  assert.equal(
    verdict({ baseline: 0.5877, distilled: 0.5963, start: 0.6421, method: 'l2', weight: 1, steps: 120, seed: 0 }),
    'The distilled student (l2, weight 1) ends 0.86 points above the baseline (59.63% vs 58.77% mAP) after 120 steps on the same batches; '
      + 'both end below their start (64.21%). One seed (0), so a difference this size may be noise: kd experiment runs several.',
  );
  assert.match(verdict({ baseline: 0.6, distilled: 0.5, method: 'fine_grained', steps: 3, seed: 2 }), /\(fine_grained\) ends 10\.00 points below the baseline .*3 steps on the same batches\. One seed \(2\)/);
  assert.match(verdict({ baseline: 0.5, distilled: 0.5, start: 0.4, method: 'l2', steps: 3, seed: 0 }), /ends level with the baseline .*both end above their start/);
  const evidence = { file: 'results/x/experiment.json', method: 'l2', seeds: 5, steps: 800, mean: 2.345, se: 0.5 };
  assert.match(
    verdict({ baseline: 0.5, distilled: 0.51, method: 'l2', steps: 3, seed: 0, evidence }),
    /One seed \(0\), so a difference this size may be noise: over 5 seeds of 800 steps, kd experiment measured l2 at \+2\.35 \+- 0\.50 points over the baseline \(paired by seed, \+- standard error; results\/x\/experiment\.json\)\.$/,
  );
});

test('checkpointModel: backbone and trainable parameters from model.json (BN running statistics left out)', () => {
  assert.deepEqual(checkpointModel('models/yolov3_r34_shapes'), { backbone: 'ResNet', params: 6_655_189 });
  assert.equal(checkpointModel('models/yolov3_mobilenet_v1_shapes').params, 1_540_485);
});

test('histogramMean: sum over count across label sets; undefined without samples', () => {
  const text = [
    '# HELP kd_teacher_batch_size_images Images per network run.',
    'kd_teacher_batch_size_images_bucket{le="1"} 2',
    'kd_teacher_batch_size_images_sum 30',
    'kd_teacher_batch_size_images_count 10',
    'kd_teacher_batch_size_images_sum{replica="b"} 6',
    'kd_teacher_batch_size_images_count{replica="b"} 2',
  ].join('\n');
  assert.equal(histogramMean(text, 'kd_teacher_batch_size_images'), 3);
  assert.equal(histogramMean('kd_teacher_batch_size_images_count 0\n', 'kd_teacher_batch_size_images'), undefined);
});

test('metricsFromLog: the port of the "metrics listening" JSON line', () => {
  const log = '{"level":"info","msg":"kd: tfjs backend wasm"}\n{"level":"info","host":"127.0.0.1","port":4321,"msg":"metrics listening"}\n';
  assert.equal(metricsFromLog(log), 'http://127.0.0.1:4321/metrics');
  assert.equal(metricsFromLog('{"level":"info","port":43'), undefined);
});

test('findNatsServer: KD_NATS_SERVER, then the fixed paths, then PATH; "none" is none', () => {
  const bin = join(tmp, 'bin');
  const fake = join(tmp, 'nats-server');
  writeFileSync(fake, '#!/bin/sh\n');
  chmodSync(fake, 0o755);
  assert.equal(findNatsServer([join(tmp, 'missing')], `${bin}:${tmp}`, undefined), fake);
  assert.equal(findNatsServer([fake], '', undefined), fake);
  assert.equal(findNatsServer([join(tmp, 'missing')], bin, undefined), undefined);
  assert.equal(findNatsServer([fake], tmp, 'none'), undefined);
  assert.equal(findNatsServer([], '', fake), fake);
});

test('progress: plain lines at most every few seconds (the last step always), bars redrawn in place on a terminal', () => {
  const p = { step: 40, totalSteps: 120, loss: 3.2141, distillLoss: 0.4123, imagesPerSecond: 9.84, etaSeconds: 80 };
  assert.equal(progressLine('distilled', p), 'distilled: step 40/120 (33%), loss 3.214 (distill 0.412), 9.8 img/s, eta 1m20s');
  assert.equal(shortDuration(3700), '1h01m');
  assert.equal(barLine('baseline', 9, { ...p, distillLoss: undefined }, undefined, 12), 'baseline  [####--------] 40/120 loss 3.214, 9.8 img/s, eta 1m20s');

  let now = 0;
  let plain = '';
  const board = new ProgressBoard(['baseline', 'distilled'], { out: { write: (t: string) => (plain += t) }, tty: false, everyMs: 5000, prefix: 'kd cluster: ', now: () => now });
  board.update('baseline', { ...p, step: 5 });
  now = 1000;
  board.update('baseline', { ...p, step: 10 }); // within 5 s: not printed
  board.update('distilled', { ...p, step: 5 });
  now = 2000;
  board.update('baseline', { ...p, step: 120 }); // the last step always prints
  board.log('evaluator: done');
  assert.deepEqual(plain.split('\n').filter(Boolean).map((l) => l.replace(/,.*/, '')), [
    'kd cluster: baseline: step 5/120 (4%)', 'kd cluster: distilled: step 5/120 (4%)', 'kd cluster: baseline: step 120/120 (100%)', 'kd cluster: evaluator: done',
  ]);

  let tty = '';
  const bars = new ProgressBoard(['baseline', 'distilled'], { out: { write: (t: string) => (tty += t) }, tty: true, prefix: 'kd cluster: ' });
  bars.log('before any progress');
  bars.update('baseline', p);
  bars.log('a log line');
  bars.note('distilled', 'waiting for the evaluator');
  assert.equal(tty.split('\x1b[2F\x1b[J').length, 3, 'the two bar lines are cleared before each redraw');
  assert.match(tty, /^kd cluster: before any progress\nbaseline  \[#{10}-{20}\] 40\/120 .*\x1b\[K\ndistilled \[-{30}\] starting\x1b\[K\n/);
  assert.match(tty, /\x1b\[2F\x1b\[Jkd cluster: a log line\nbaseline .*\n.*starting.*\n/);
  assert.match(tty, /distilled \[-{30}\] waiting for the evaluator\x1b\[K\n$/);

  let narrow = '';
  new ProgressBoard(['baseline'], { out: { write: (t: string) => (narrow += t), columns: 30 }, tty: true }).update('baseline', p);
  assert.equal(narrow, 'baseline [##########---------\x1b[K\n', 'a bar never wraps (the redraw moves up one line per bar)');
});

test('withHeartbeat: a line every interval while the work runs, none after it settles; the result or error passes through', async () => {
  const lines: string[] = [];
  const slow = new Promise<number>((resolve) => setTimeout(() => resolve(7), 130));
  assert.equal(await withHeartbeat(slow, 'scoring the teacher', (l) => lines.push(l), 40), 7);
  assert.ok(lines.length >= 2 && lines.length <= 3, lines.join('\n'));
  assert.match(lines[0], /^still scoring the teacher \(\d+s\)$/);
  const after = lines.length;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(lines.length, after, 'silent once settled');
  await assert.rejects(withHeartbeat(Promise.reject(new Error('boom')), 'x', () => {}, 40), /boom/);
});
