import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Classification KD through the real bin: kd train a tiny classifier teacher on the crops of a
// tiny built-in dataset, then kd distill a student from it with soft_kl.
const kd = fileURLToPath(new URL('../../bin/kd.js', import.meta.url));
const configs = fileURLToPath(new URL('../../../../configs/', import.meta.url));
const student = join(configs, 'classifier_mobilenet_v1_shapes.yml');
const teacher = join(configs, 'classifier_r18_shapes.yml');
const run = (...args: string[]) => spawnSync(process.execPath, [kd, ...args], { encoding: 'utf8', env: { ...process.env, KD_BACKEND: 'wasm' } });
const tmp = mkdtempSync(join(tmpdir(), 'kd-classifier-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const data = join(tmp, 'shapes');
const tiny = (saveDir: string) => [
  '-o', `dataset.dir=${data}`, '-o', `save_dir=${saveDir}`, '-o', 'max_iters=3', '-o', 'snapshot_iter=2', '-o', 'log_iter=1',
  '-o', 'reader.batch_size=8', '-o', 'backbone.width=0.125',
];

test('kd train a classifier teacher, then kd distill a student with soft_kl; a mismatched teacher exits 2', () => {
  assert.equal(run('make-dataset', 'shapes', '--out', data, '--train', '8', '--test', '4', '--unlabeled', '0', '--size', '96', '--seed', '1').status, 0);
  const teacherDir = join(tmp, 'teacher');
  const trained = run('train', '-c', teacher, ...tiny(teacherDir));
  assert.equal(trained.status, 0, trained.stderr);
  assert.match(trained.stderr, /train: \d+ crops of 32x32 from 8 images/);
  assert.match(trained.stderr, /ResNet classifier, [\d.]+M parameters, 8 classes/);
  assert.match(trained.stderr, /step 1 lr 0\.000000, loss [\d.]+, ce [\d.]+, eta: \d:\d\d:\d\d, batch_cost: [\d.]+ sec/);
  assert.doesNotMatch(trained.stderr, /distill_loss/);
  assert.match(trained.stderr, /top-1 accuracy = \d+\.\d\d% on \d+ crops/);
  for (const dir of ['2', 'model_final', 'best_model']) assert.ok(existsSync(join(teacherDir, dir, 'model.json')), dir);
  const teacherSummary = JSON.parse(readFileSync(join(teacherDir, 'train_summary.json'), 'utf8'));
  assert.equal(teacherSummary.steps, 3);
  assert.ok(teacherSummary.top1_accuracy >= 0 && teacherSummary.top1_accuracy <= 1);
  // the teacher config must be the one it was trained with (the checkpoint holds it; YAML reads JSON)
  const manifest = JSON.parse(readFileSync(join(teacherDir, 'model_final', 'model.json'), 'utf8'));
  assert.equal(manifest.config.architecture, 'Classifier');
  const teacherConfig = join(tmp, 'teacher.yml');
  writeFileSync(teacherConfig, JSON.stringify(manifest.config));

  const out = join(tmp, 'student');
  const distilled = run('distill', '-c', student, '-t', teacherConfig, '--teacher-pretrained', join(teacherDir, 'model_final'), ...tiny(out),
    '-o', 'distill.method=soft_kl', '-o', 'distill.temperature=4');
  assert.equal(distilled.status, 0, distilled.stderr);
  assert.match(distilled.stderr, /teacher ResNet classifier from .*model_final \(step 3, [0-9a-f]{12}\), method soft_kl, temperature 4/);
  assert.match(distilled.stderr, /step 3 lr [\d.]+, loss [\d.]+, ce [\d.]+, distill_loss [\d.]+, eta: \d:\d\d:\d\d/);
  assert.match(distilled.stderr, /top-1 accuracy = \d+\.\d\d% on \d+ crops/);
  assert.ok(existsSync(join(out, 'model_final', 'model.json')));
  const summary = JSON.parse(readFileSync(join(out, 'train_summary.json'), 'utf8'));
  assert.deepEqual([summary.command, summary.method, summary.temperature, summary.steps], ['distill', 'soft_kl', 4, 3]);
  assert.equal(summary.teacher_hash, manifest.content_hash);

  // a teacher over 5 classes cannot teach an 8-class student: exit 2 before any training
  const five = join(tmp, 'teacher5.yml');
  writeFileSync(five, JSON.stringify({ ...manifest.config, num_classes: 5 }));
  const mismatched = run('distill', '-c', student, '-t', five, '--teacher-pretrained', join(teacherDir, 'model_final'), ...tiny(join(tmp, 'x')));
  assert.equal(mismatched.status, 2);
  assert.match(mismatched.stderr, /kd distill: teacher .*teacher5\.yml: num_classes 5, the student's .* is 8/);
  const detector = run('distill', '-c', student, '-t', join(configs, 'yolov3_r34_shapes.yml'), '--teacher-pretrained', join(teacherDir, 'model_final'), ...tiny(join(tmp, 'y')));
  assert.equal(detector.status, 2);
  assert.match(detector.stderr, /is not a Classifier config: a classifier student needs a classifier teacher/);
  const badKey = run('train', '-c', student, ...tiny(join(tmp, 'z')), '-o', 'distill.method=l2');
  assert.equal(badKey.status, 2);
  assert.match(badKey.stderr, /classifier_mobilenet_v1_shapes\.yml: -o distill\.method=l2: distill\.method: Invalid option/);
});
