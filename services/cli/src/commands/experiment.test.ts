import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLValidator } from 'fast-xml-parser';
import { mean, std } from '../experiment/stats.ts';
import { parseMethod } from '@kd/trainer';
import { lineChart, niceAxis } from '../experiment/svg_charts.ts';
import { methodOverrides } from '../experiment/record.ts';
import { EXPERIMENT_METHODS } from './experiment.ts';

const kd = fileURLToPath(new URL('../../bin/kd.js', import.meta.url));
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'kd-experiment-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('mean and sample std, checked by hand', () => {
  assert.equal(mean([1, 2, 3, 6]), 3);
  assert.ok(Math.abs(std([1, 2, 3, 6]) - Math.sqrt(14 / 3)) < 1e-12);
  assert.equal(std([5]), 0);
});

test('-o overrides: unscoped ones reach every method, METHOD: ones that method and its +unlabeled variant', () => {
  const opts = ['max_iters=5', 'l2:distill.weight=10', 'fine_grained_paper:distill.lambda_D=2'];
  assert.deepEqual(methodOverrides(opts, 'baseline', EXPERIMENT_METHODS), ['max_iters=5']);
  assert.deepEqual(methodOverrides(opts, 'l2', EXPERIMENT_METHODS), ['max_iters=5', 'distill.weight=10']);
  assert.deepEqual(methodOverrides(opts, 'fine_grained', EXPERIMENT_METHODS), ['max_iters=5']);
  assert.deepEqual(methodOverrides(opts, 'fine_grained_paper+unlabeled', EXPERIMENT_METHODS), ['max_iters=5', 'distill.lambda_D=2']);
  assert.throws(() => methodOverrides(['l3:distill.weight=1'], 'l2', EXPERIMENT_METHODS), /-o l3:distill\.weight=1: unknown method l3/);
});

test('kd experiment --quick: a teacher, every method over two seeds, the JSON, the table and three charts; --report redoes the last two', () => {
  const out = join(tmp, 'results');
  const r = spawnSync(process.execPath, [kd, 'experiment', '--quick', '--seeds', '2', '--out', out, '--work', join(tmp, 'work')],
    { cwd: root, encoding: 'utf8', env: { ...process.env, KD_BACKEND: 'wasm' } });
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(readFileSync(join(out, 'experiment.json'), 'utf8'));
  assert.equal(result.runs.length, 10);
  // seed by seed: seed 0's shared answers are gone before seed 1's first run starts
  const removed = r.stderr.indexOf('seed 0: its runs ended, their shared teacher answers removed');
  assert.ok(removed > r.stderr.indexOf('fine_grained_paper+unlabeled, seed 0: 3 steps'), r.stderr);
  assert.ok(removed < r.stderr.indexOf('baseline, seed 1: 3 steps'), r.stderr);
  assert.match(r.stderr, /seed 1: its runs ended, their shared teacher answers removed/);
  const methods = ['baseline', 'l2', 'fine_grained', 'fine_grained_paper', 'fine_grained_paper+unlabeled'];
  assert.deepEqual([...new Set(result.runs.map((x: { method: string }) => x.method))], methods);
  for (const run of result.runs) {
    assert.deepEqual(Object.keys(run).sort(), ['curve', 'map_11point', 'map_area', 'method', 'seed', 'steps', 'wall_s']);
    assert.equal(run.steps, 3);
    assert.ok(run.map_11point >= 0 && run.map_11point <= 1 && run.wall_s > 0);
    assert.equal(run.curve.step.length, 3);
    assert.equal(run.curve.distill_loss.length, run.method === 'baseline' ? 0 : 3);
  }
  assert.ok(result.teacher.map_11point >= 0);
  const md = readFileSync(join(out, 'experiment.md'), 'utf8');
  for (const m of methods) assert.match(md, new RegExp(`\\| ${m.replace('+', '\\+')} \\| 2 \\| \\d+\\.\\d\\d \\+- \\d+\\.\\d\\d \\|`));
  assert.match(md, /\| teacher \(/);
  assert.match(md, /608: 76\.2 -> 79\.0 \(\+2\.8\), teacher 82\.6/);
  for (const chart of ['experiment-map.svg', 'experiment-loss.svg', 'experiment-distill-loss.svg']) {
    const svg = readFileSync(join(out, chart), 'utf8');
    assert.equal(XMLValidator.validate(svg), true, chart);
    assert.match(svg, /fine_grained_paper\+unlabeled/);
  }
  // a dot per run behind the bars
  assert.equal(readFileSync(join(out, 'experiment-map.svg'), 'utf8').match(/<circle /g)?.length, result.runs.length);

  // --report rewrites the table and charts from experiment.json alone
  rmSync(join(out, 'experiment.md'));
  const report = spawnSync(process.execPath, [kd, 'experiment', '--report', '--out', out], { cwd: root, encoding: 'utf8' });
  assert.equal(report.status, 0, report.stderr);
  assert.equal(readFileSync(join(out, 'experiment.md'), 'utf8'), md);
  const none = spawnSync(process.execPath, [kd, 'experiment', '--report', '--out', join(tmp, 'nothing')], { cwd: root, encoding: 'utf8' });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /--report: no .*nothing.experiment\.json/);
  const init = spawnSync(process.execPath, [kd, 'experiment', '--quick', '--init', join(tmp, 'nowhere'), '--out', join(tmp, 'nothing')], { cwd: root, encoding: 'utf8' });
  assert.equal(init.status, 2);
  assert.match(init.stderr, /--init .*nowhere: no model\.json there/);
});

test('kd experiment --quick --jobs 2: runs in child processes, each with its log (under OUT/runs without --work), records in task order; --eval-every draws mAP curves', () => {
  const out = join(tmp, 'results-jobs');
  const work = join(out, 'runs');
  const args = [kd, 'experiment', '--quick', '--seeds', '1', '--methods', 'baseline,l2', '--jobs', '2', '--eval-every', '2', '--out', out, '-o', 'l2:distill.weight=0'];
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, KD_BACKEND: 'wasm' } });
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(readFileSync(join(out, 'experiment.json'), 'utf8'));
  assert.deepEqual(result.runs.map((x: { method: string; seed: number }) => `${x.method}:${x.seed}`), ['baseline:0', 'l2:0']);
  for (const run of result.runs) assert.equal(run.curve.step.length, 3);
  // --eval-every 2 reached the children: scored at the step-2 snapshot and at the end (step 3)
  for (const run of result.runs) {
    assert.deepEqual(run.curve.map_step, [2, 3]);
    assert.equal(run.curve.map[1], run.map_11point);
  }
  assert.equal(result.protocol.eval_every, 2);
  assert.equal(XMLValidator.validate(readFileSync(join(out, 'experiment-map-curve.svg'), 'utf8')), true);
  assert.match(readFileSync(join(out, 'experiment.md'), 'utf8'), /experiment-map-curve\.svg/);
  assert.match(readFileSync(join(work, 'l2', 'seed0', 'log.txt'), 'utf8'), /distill_loss/);
  assert.match(r.stderr, /l2, seed 0: started \(log /);
  // the method-scoped -o reached the child: zero weight, zero distill_loss
  assert.deepEqual(result.runs[1].curve.distill_loss, [0, 0, 0]);

  // the same --out again: refused before any work, the first run's records untouched
  const record = readFileSync(join(out, 'experiment.json'), 'utf8');
  const again = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  assert.equal(again.status, 2);
  assert.match(again.stderr, /--out .*results-jobs: .*experiment\.json is a previous experiment's; give another --out/);
  assert.equal(readFileSync(join(out, 'experiment.json'), 'utf8'), record);
  // a previous run's checkpoints in --work are refused too (its trained teacher given, the students' runs)
  const rerun = spawnSync(process.execPath, [...args.slice(0, -4), '--out', join(tmp, 'results-jobs-2'), '--work', work, '--teacher', join(work, 'teacher', 'model_final')],
    { cwd: root, encoding: 'utf8' });
  assert.equal(rerun.status, 2);
  assert.match(rerun.stderr, /--work .*runs: .*baseline.seed0 holds a previous run; give another --work/);
});

// Paired runs train on the same batches: the teacher answers each batch once for all of them
// (two processes here, asking at the same time), and the students train exactly as when each
// run computes its own answers.
test('kd experiment --jobs 2: the runs of a seed share the teacher\'s answers, one forward per batch, and train exactly as without', () => {
  const out = join(tmp, 'results-cache');
  const args = [kd, 'experiment', '--quick', '--seeds', '1', '--methods', 'l2,fine_grained', '--jobs', '2'];
  const cached = spawnSync(process.execPath, [...args, '--out', out], { cwd: root, encoding: 'utf8', env: { ...process.env, KD_BACKEND: 'wasm' } });
  assert.equal(cached.status, 0, cached.stderr);
  const counts = ['l2', 'fine_grained'].map((m) => {
    const line = readFileSync(join(out, 'runs', m, 'seed0', 'log.txt'), 'utf8').match(/teacher answers: (\d+) computed, (\d+) from the shared cache/);
    assert.ok(line, `${m}: no teacher answers line`);
    return [Number(line[1]), Number(line[2])];
  });
  // both runs asked for the same batches; each batch was computed once, by one of them
  const asked = counts[0][0] + counts[0][1];
  assert.ok(asked >= 3 && counts[1][0] + counts[1][1] === asked, JSON.stringify(counts));
  assert.deepEqual([counts[0][0] + counts[1][0], counts[0][1] + counts[1][1]], [asked, asked], JSON.stringify(counts));
  assert.equal(existsSync(join(out, 'runs', 'teacher-cache')), false, 'the answers are removed at the end');

  const own = join(tmp, 'results-no-cache');
  const teacher = join(out, 'runs', 'teacher', 'model_final');
  const uncached = spawnSync(process.execPath, [...args, '--no-teacher-cache', '--teacher', teacher, '--out', own], { cwd: root, encoding: 'utf8', env: { ...process.env, KD_BACKEND: 'wasm' } });
  assert.equal(uncached.status, 0, uncached.stderr);
  assert.doesNotMatch(readFileSync(join(own, 'runs', 'l2', 'seed0', 'log.txt'), 'utf8'), /teacher answers/);
  const runs = (dir: string) => JSON.parse(readFileSync(join(dir, 'experiment.json'), 'utf8')).runs.map((r: { curve: object; map_11point: number }) => [r.curve, r.map_11point]);
  assert.deepEqual(runs(own), runs(out));
});

// An interrupted experiment keeps the runs that ended; --resume redoes only the others (from
// their start: an interrupted run's checkpoints go) and must be given the same settings.
test('kd experiment --resume: the runs the record holds stay, the missing ones run, other settings or another teacher are refused', () => {
  const out = join(tmp, 'results-resume');
  const args = [kd, 'experiment', '--quick', '--seeds', '1', '--methods', 'baseline,l2', '--out', out];
  const env = { ...process.env, KD_BACKEND: 'wasm' };
  const first = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env });
  assert.equal(first.status, 0, first.stderr);
  const file = join(out, 'experiment.json');
  const complete = JSON.parse(readFileSync(file, 'utf8'));
  // as if stopped during l2: its record missing, a checkpoint of it left behind
  writeFileSync(file, JSON.stringify({ ...complete, runs: complete.runs.slice(0, 1) }));
  const stale = join(out, 'runs', 'l2', 'seed0', 'stale-checkpoint');
  mkdirSync(stale, { recursive: true });
  const other = spawnSync(process.execPath, [...args, '--resume', '--seeds', '2'], { cwd: root, encoding: 'utf8', env });
  assert.equal(other.status, 2);
  assert.match(other.stderr, /--resume: .*experiment\.json was made with other settings: seeds \[0\], now \[0,1\]/);
  const otherTeacher = spawnSync(process.execPath, [...args, '--resume', '--teacher', 'models/yolov3_r34_shapes'], { cwd: root, encoding: 'utf8', env });
  assert.equal(otherTeacher.status, 2);
  assert.match(otherTeacher.stderr, /--resume: --teacher models\/yolov3_r34_shapes, but .*experiment\.json was made with the teacher .*teacher.model_final/);
  const resumed = spawnSync(process.execPath, [...args, '--resume'], { cwd: root, encoding: 'utf8', env });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /--resume: 1 runs done, 1 to run/);
  assert.doesNotMatch(resumed.stderr, /baseline, seed 0: 3 steps/);
  assert.equal(existsSync(stale), false, 'the interrupted run started over');
  const after = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(after.command, complete.command);
  assert.deepEqual(after.runs.map((r: { method: string; curve: object; map_11point: number }) => [r.method, r.curve, r.map_11point]),
    complete.runs.map((r: { method: string; curve: object; map_11point: number }) => [r.method, r.curve, r.map_11point]));
  const none = spawnSync(process.execPath, [kd, 'experiment', '--resume', '--out', join(tmp, 'never')], { cwd: root, encoding: 'utf8' });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /--resume: no .*never.experiment\.json/);
});

test('kd experiment --quick without --out: everything in a temp folder, removed at exit; nothing in the working directory', () => {
  const cwd = join(tmp, 'fresh-cwd');
  const temp = join(tmp, 'TMPDIR');
  mkdirSync(cwd);
  mkdirSync(temp);
  const r = spawnSync(process.execPath, [kd, 'experiment', '--quick', '--seeds', '1', '--methods', 'baseline',
    '--student', join(root, 'configs/yolov3_mobilenet_v1_shapes.yml'), '--teacher-config', join(root, 'configs/yolov3_r34_shapes.yml')],
  { cwd, encoding: 'utf8', env: { ...process.env, KD_BACKEND: 'wasm', TMPDIR: temp } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /kd-experiment-\w+ is a temp folder, removed now: give --out to keep the records/);
  assert.deepEqual(readdirSync(cwd), [], 'no results/ or output/ where it ran');
  assert.deepEqual(readdirSync(temp).filter((f) => f.startsWith('kd-')), [], 'its temp folder is gone');
});

test('chart axes: ticks of 1, 2, 2.5 or 5 x 10^k, at most 6, up to the first tick at or above the value', () => {
  assert.deepEqual(niceAxis(18.6), { max: 20, step: 5 }); // 18.6 / 6 = 3.1 -> 5
  assert.deepEqual(niceAxis(9.3), { max: 10, step: 2 });
  assert.deepEqual(niceAxis(137), { max: 150, step: 25 });
  assert.deepEqual(niceAxis(0.012), { max: 0.012, step: 0.002 });
  assert.deepEqual(niceAxis(6), { max: 6, step: 1 });
  // an empty chart (--methods baseline has no distill_loss curve) still draws finite coordinates
  for (const v of [-Infinity, 0]) assert.ok(Number.isFinite(niceAxis(v).max) && niceAxis(v).max > 0, String(v));
  assert.doesNotMatch(lineChart('distill_loss', 'step', 'distill_loss', []), /NaN|Infinity/);
});

test('a run method splits into its loss and whether unlabeled images join', () => {
  assert.deepEqual(parseMethod('baseline'), { loss: 'baseline', unlabeled: false });
  assert.deepEqual(parseMethod('fine_grained_paper+unlabeled'), { loss: 'fine_grained_paper', unlabeled: true });
  assert.deepEqual(parseMethod('l2+typo'), { loss: 'l2', unlabeled: false });
});

test('kd experiment --split validation --first-seed: students train without the carved images and are scored on them; the record says so; --merge joins seeds run apart', () => {
  const out = join(tmp, 'validation');
  const work = join(tmp, 'validation-work');
  const r = spawnSync(process.execPath, [kd, 'experiment', '--quick', '--seeds', '2', '--first-seed', '4', '--methods', 'baseline,l2', '--split', 'validation', '--jobs', '2', '--out', out, '--work', work],
    { cwd: root, encoding: 'utf8', env: { ...process.env, KD_BACKEND: 'wasm' } });
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(readFileSync(join(out, 'experiment.json'), 'utf8'));
  assert.equal(result.split, 'validation');
  assert.deepEqual(result.runs.map((x: { method: string; seed: number }) => `${x.method}:${x.seed}`), ['baseline:4', 'baseline:5', 'l2:4', 'l2:5']);
  assert.deepEqual(result.protocol.seeds, [4, 5]);
  assert.deepEqual([result.protocol.split, result.protocol.steps, result.protocol.methods], ['validation', 3, ['baseline', 'l2']]);
  const { train_images: trainImages, validation_images: validationImages } = result.protocol.validation;
  const train = readFileSync(join(work, 'validation-split', 'train.txt'), 'utf8').trim().split('\n');
  const val = readFileSync(join(work, 'validation-split', 'val.txt'), 'utf8').trim().split('\n');
  assert.deepEqual([train.length, val.length], [trainImages, validationImages]);
  assert.ok(validationImages > 0 && val.every((line) => !train.includes(line)), 'disjoint');
  assert.match(readFileSync(join(out, 'experiment.md'), 'utf8'), /on the validation split \(carved from the training images; not the test split\)/);

  // a further seed run on its own (same teacher, same dataset and split in the same --work), and --merge: one record of both
  const more = join(tmp, 'validation-seed6');
  const r6 = spawnSync(process.execPath, [kd, 'experiment', '--quick', '--seeds', '1', '--first-seed', '6', '--methods', 'baseline,l2', '--split', 'validation',
    '--teacher', join(work, 'teacher', 'model_final'), '--out', more, '--work', work],
  { cwd: root, encoding: 'utf8', env: { ...process.env, KD_BACKEND: 'wasm' } });
  assert.equal(r6.status, 0, r6.stderr);
  const merged = join(tmp, 'validation-merged');
  const m = spawnSync(process.execPath, [kd, 'experiment', '--merge', `${out},${more}`, '--out', merged], { cwd: root, encoding: 'utf8' });
  assert.equal(m.status, 0, m.stderr);
  const record = JSON.parse(readFileSync(join(merged, 'experiment.json'), 'utf8'));
  assert.deepEqual(record.runs.map((x: { method: string; seed: number }) => `${x.method}:${x.seed}`), ['baseline:4', 'baseline:5', 'baseline:6', 'l2:4', 'l2:5', 'l2:6']);
  assert.deepEqual(record.protocol.seeds, [4, 5, 6]);
  assert.match(readFileSync(join(merged, 'experiment.md'), 'utf8'), /\| l2 \| 3 \| \d+\.\d\d \+- \d+\.\d\d \|/);
  const twice = spawnSync(process.execPath, [kd, 'experiment', '--merge', `${out},${merged}`, '--out', join(tmp, 'twice')], { cwd: root, encoding: 'utf8' });
  assert.equal(twice.status, 2);
  assert.match(twice.stderr, /--merge: baseline, seed 4 is in both .*validation and .*validation-merged/);
  const refused = spawnSync(process.execPath, [kd, 'experiment', '--quick', '--split', 'nope', '--out', join(tmp, 'nope')], { cwd: root, encoding: 'utf8' });
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /--split.*nope.*test, validation/);
});
