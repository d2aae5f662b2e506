import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// kd distill through the real bin: a tiny teacher trained for 2 steps teaches a tiny student.
const kd = fileURLToPath(new URL('../../bin/kd.js', import.meta.url));
const configs = fileURLToPath(new URL('../../../../configs/', import.meta.url));
const student = join(configs, 'yolov3_mobilenet_v1_shapes.yml');
const teacher = join(configs, 'yolov3_r34_shapes.yml');
const run = (...args: string[]) => spawnSync(process.execPath, [kd, ...args], { encoding: 'utf8', env: { ...process.env, KD_BACKEND: 'wasm' } });
const tmp = mkdtempSync(join(tmpdir(), 'kd-distill-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const data = join(tmp, 'shapes');
const tiny = (saveDir: string) => [
  '-o', `dataset.dir=${data}`, '-o', `save_dir=${saveDir}`, '-o', 'max_iters=2', '-o', 'snapshot_iter=100', '-o', 'log_iter=1',
  '-o', 'train_reader.batch_size=2', '-o', 'train_reader.sizes=[64]', '-o', 'train_reader.workers=0',
  '-o', 'backbone.width=0.125', '-o', 'yolo_head.width=0.0625',
];

test('kd distill: l2, fine_grained and the paper loss train next to a frozen teacher; a mismatched teacher exits 2', () => {
  assert.equal(run('make-dataset', 'shapes', '--out', data, '--train', '4', '--test', '2', '--unlabeled', '2', '--size', '96', '--seed', '5').status, 0);
  const teacherDir = join(tmp, 'teacher');
  const trained = run('train', '-c', teacher, ...tiny(teacherDir));
  assert.equal(trained.status, 0, trained.stderr);
  // the teacher config must be the one it was trained with: its checkpoint holds it, and YAML
  // reads JSON, so the saved config is a config file as it is
  const teacherConfig = join(tmp, 'teacher.yml');
  writeFileSync(teacherConfig, JSON.stringify(JSON.parse(readFileSync(join(teacherDir, 'model_final', 'model.json'), 'utf8')).config));

  for (const [method, parts] of [['l2', /distill_l2/], ['fine_grained', /distill_reg [\d.]+, distill_cls [\d.]+, distill_obj/], ['fine_grained_paper', /distill_reg/]] as const) {
    const out = join(tmp, method);
    const r = run('distill', '-c', student, '-t', teacherConfig, '--teacher-pretrained', join(teacherDir, 'model_final'), ...tiny(out), '-o', `distill.method=${method}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`method ${method}`));
    assert.match(r.stderr, /step 2 lr [\d.]+, loss [\d.]+, .*distill_loss [\d.]+, .*teacher_loss [\d.]+/);
    assert.match(r.stderr, parts);
    const summary = JSON.parse(readFileSync(join(out, 'train_summary.json'), 'utf8'));
    assert.equal(summary.method, method);
    assert.equal(summary.steps, 2);
  }
  // teacher.cache_dir: a second run on the same batches reads every answer the first computed,
  // and trains exactly as it did
  const cache = ['-o', `teacher.cache_dir=${join(tmp, 'answers')}`];
  const cachedRuns = ['c1', 'c2'].map((name) => run('distill', '-c', student, '-t', teacherConfig, '--teacher-pretrained', join(teacherDir, 'model_final'),
    ...tiny(join(tmp, name)), '-o', 'distill.method=l2', ...cache));
  for (const r of cachedRuns) assert.equal(r.status, 0, r.stderr);
  const computed = cachedRuns.map((r) => r.stderr.match(/teacher answers: (\d+) computed, (\d+) read from /)?.slice(1).map(Number));
  assert.ok(computed[0] && computed[0][0] >= 2 && computed[0][1] === 0, cachedRuns[0].stderr);
  assert.deepEqual(computed[1], [0, computed[0][0]]);
  const losses = (r: { stderr: string }) => r.stderr.match(/step \d+ lr .*/g);
  const uncached = JSON.parse(readFileSync(join(tmp, 'l2', 'train_summary.json'), 'utf8')).final_loss;
  assert.deepEqual(losses(cachedRuns[1])?.map((l) => l.replace(/, (eta|batch_cost|ips|data_wait).*/, '')), losses(cachedRuns[0])?.map((l) => l.replace(/, (eta|batch_cost|ips|data_wait).*/, '')));
  assert.equal(JSON.parse(readFileSync(join(tmp, 'c2', 'train_summary.json'), 'utf8')).final_loss, uncached);

  // unlabeled images take half of every batch and get only the distillation terms
  const unlabeled = ['-o', `train_reader.unlabeled.dir=${join(data, 'unlabeled')}`, '-o', 'train_reader.unlabeled.ratio=0.5'];
  const withUnlabeled = run('distill', '-c', student, '-t', teacherConfig, '--teacher-pretrained', join(teacherDir, 'model_final'), ...tiny(join(tmp, 'u')),
    '-o', 'distill.method=fine_grained_paper', ...unlabeled);
  assert.equal(withUnlabeled.status, 0, withUnlabeled.stderr);
  assert.match(withUnlabeled.stderr, /unlabeled: 2 images from .*, 1 per batch of 2/);
  const plain = run('train', '-c', student, ...tiny(join(tmp, 'p')), ...unlabeled);
  assert.equal(plain.status, 0, plain.stderr);
  assert.match(plain.stderr, /warning: train_reader\.unlabeled is ignored/);

  // PaddleDetection's switch picks the fine-grained loss
  const fg = run('distill', '-c', student, '-t', teacherConfig, '--teacher-pretrained', join(teacherDir, 'model_final'), ...tiny(join(tmp, 'fg')), '-o', 'use_fine_grained_loss=true');
  assert.equal(fg.status, 0, fg.stderr);
  assert.match(fg.stderr, /method fine_grained\n/);

  const badMethod = run('distill', '-c', student, '-t', teacherConfig, '--teacher-pretrained', join(teacherDir, 'model_final'), ...tiny(join(tmp, 'x')), '-o', 'distill.method=l3');
  assert.equal(badMethod.status, 2);
  assert.match(badMethod.stderr, /distill\.method: "l3" is not one of l2, fine_grained, fine_grained_paper/);
  const badAnchors = run('distill', '-c', student, '-t', teacherConfig, '--teacher-pretrained', join(teacherDir, 'model_final'), ...tiny(join(tmp, 'y')),
    '-o', 'yolo_head.anchor_masks=[[0,1,2],[3,4,5],[6,7,8]]');
  assert.equal(badAnchors.status, 2);
  assert.match(badAnchors.stderr, /student\/teacher heads do not pair: stride 32/);
  const replicated = run('distill', '-c', student, '-t', teacherConfig, '--teacher-pretrained', join(teacherDir, 'model_final'), ...tiny(join(tmp, 'z')), '-o', 'replicas=2');
  assert.equal(replicated.status, 2);
  assert.match(replicated.stderr, /replicas: 2: data-parallel replicas train the detection loss only \(kd train\); kd distill runs with replicas: 1/);
});
