import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoTable } from './demo.ts';

const kd = fileURLToPath(new URL('../../bin/kd.js', import.meta.url));
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'kd-demo-test-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('the closing table: one aligned row per model, mAP in percent, "-" where a model was not trained', () => {
  const table = demoTable([
    { model: 'teacher (ResNet)', params_m: 6.657, map_11point: 0.4321, eval_images_per_s: 12.34 },
    { model: 'student, l2', params_m: 1.5, map_11point: 0.05, train_images_per_s: 9.87, eval_images_per_s: 25 },
  ]).split('\n');
  assert.equal(table.length, 4);
  assert.match(table[2], /^teacher \(ResNet\)\s+6\.66M\s+43\.21%\s+-\s+12\.3$/);
  assert.match(table[3], /^student, l2\s+1\.50M\s+5\.00%\s+9\.9\s+25\.0$/);
  assert.equal(new Set(table.map((l) => l.length)).size, 1, 'columns are aligned');
});

test('kd demo --quick: the shipped teacher, a baseline and a distilled student, and the table', () => {
  const work = join(tmp, 'work');
  const r = spawnSync(process.execPath, [kd, 'demo', '--quick', '--work', work], { cwd: root, encoding: 'utf8', env: { ...process.env, KD_BACKEND: 'wasm' } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /teacher \(ResNet\)\s+6\.66M\s+\d+\.\d\d%\s+-/);
  assert.match(r.stdout, /student, baseline .*%\s+\d+\.\d\s+\d+\.\d/);
  assert.match(r.stdout, /student, l2 .*%\s+\d+\.\d\s+\d+\.\d/);
  assert.match(r.stderr, /distill_loss/);
  const result = JSON.parse(readFileSync(join(work, 'demo.json'), 'utf8'));
  assert.equal(result.steps, 3);
  assert.deepEqual(result.rows.map((row: { model: string }) => row.model), ['teacher (ResNet)', 'student, baseline', 'student, l2']);
  assert.equal(result.init, null, '--quick starts from random weights');
  assert.equal(result.backbone, null, '--quick: no pretrained backbone (its width is not the tiny students\')');
  assert.match(r.stderr, /both students start from random weights/);
  assert.equal(result.eval_size, 64, '--quick: the tiny config\'s eval size');
  assert.equal(result.weight, 1, 'l2 gets the student config\'s weight, not PaddleDetection\'s 100');
  assert.match(r.stderr, /distilled student \(l2, weight 1\): 3 steps/);
  // the table ends with what it shows; the teacher's step is its last run's, not its whole training
  assert.match(r.stdout, /\nThe distilled student \(l2, weight 1\) ends .* after 3 steps on the same batches\. One seed \(0\), so a difference this size may be noise: over \d+ seeds/);
  assert.equal(result.verdict, /\nThe distilled student .*/.exec(r.stdout)![0].slice(1));
  assert.match(r.stderr, /teacher ResNet from .* \(saved at step \d+ of its last training run; models\/README\.md: its whole schedule\)/);
  assert.match(r.stderr, /kd demo: evaluating the teacher: test images 4\/4 \(100%\) done/);

  // --init: both students start from a checkpoint of the student config (here the baseline just trained);
  // without --work, in a temp folder removed at exit: nothing where it ran, nothing left in TMPDIR
  const init = join(work, 'baseline', 'model_final');
  const cwd = join(tmp, 'fresh-cwd');
  const temp = join(tmp, 'TMPDIR');
  mkdirSync(cwd);
  mkdirSync(temp);
  const again = spawnSync(process.execPath, [kd, 'demo', '--quick', '--init', init, '--method', 'fine_grained', '--weight', '0',
    '--teacher', join(root, 'models/yolov3_r34_shapes'), '--student', join(root, 'configs/yolov3_mobilenet_v1_shapes.yml')],
  { cwd, encoding: 'utf8', env: { ...process.env, KD_BACKEND: 'wasm', TMPDIR: temp } });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /kd-demo-\w+.demo\.json \(a temp folder, removed now: give --work to keep it\)/);
  assert.deepEqual(readdirSync(cwd), [], 'no output/ where it ran');
  assert.deepEqual(readdirSync(temp).filter((f) => f.startsWith('kd-')), [], 'its temp folder is gone');
  assert.match(again.stderr, /both students start from .*baseline.model_final/);
  assert.match(again.stdout, /student, start\s+0\.\d\dM\s+\d+\.\d\d%\s+-/);
  assert.match(again.stdout, /"student, start" is .*model_final, the weights both students start from\. The distilled student \(fine_grained, weight 0\)/);
  assert.match(again.stdout, /student, fine_grained /);
  assert.match(again.stderr, /distill_loss 0\.000000/, '--weight reaches the loss');
});

test('kd demo --quick --backbone: both students start from the pretrained backbone, scored at --eval-size', () => {
  const work = join(tmp, 'backbone');
  const r = spawnSync(process.execPath, [kd, 'demo', '--quick', '--backbone', 'models/classifier_mobilenet_v1_shapes', '--eval-size', '96', '--work', work],
    { cwd: root, encoding: 'utf8', env: { ...process.env, KD_BACKEND: 'wasm' } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /both students start from the backbone of .*classifier_mobilenet_v1_shapes \(the detection head fresh\)/);
  assert.equal([...r.stderr.matchAll(/backbone from .*classifier_mobilenet_v1_shapes \(Classifier, \d+ tensors, \w+\); neck and head start fresh/g)].length, 2, 'both students load it');
  const result = JSON.parse(readFileSync(join(work, 'demo.json'), 'utf8'));
  assert.match(result.backbone, /models[/\\]classifier_mobilenet_v1_shapes$/);
  assert.equal(result.init, null);
  assert.equal(result.eval_size, 96);
  assert.deepEqual(result.rows.map((row: { model: string }) => row.model), ['teacher (ResNet)', 'student, baseline', 'student, l2'], 'no start row: the head is fresh');
  const missing = spawnSync(process.execPath, [kd, 'demo', '--quick', '--backbone', join(tmp, 'nowhere')], { cwd: root, encoding: 'utf8' });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--backbone .*nowhere: no model\.json there \(a classifier checkpoint/);
  const badSize = spawnSync(process.execPath, [kd, 'demo', '--quick', '--eval-size', '100'], { cwd: root, encoding: 'utf8' });
  assert.equal(badSize.status, 2);
  assert.match(badSize.stderr, /--eval-size.*expected a multiple of 32, got "100"/);
});

test('kd demo --quick over a previous demo\'s --work: refused before any work, its demo.json untouched', () => {
  const previous = join(tmp, 'previous');
  mkdirSync(previous);
  const result = join(previous, 'demo.json');
  writeFileSync(result, '{"rows": []}\n');
  const over = spawnSync(process.execPath, [kd, 'demo', '--quick', '--work', previous], { cwd: root, encoding: 'utf8' });
  assert.equal(over.status, 2);
  assert.match(over.stderr, /--work .*previous: holds a previous demo \(demo\.json\); give another --work/);
  assert.equal(readFileSync(result, 'utf8'), '{"rows": []}\n');
});

test('kd demo --quick stopped by Ctrl-C: exit 130, and its temp folder is removed all the same', async () => {
  const temp = join(tmp, 'TMPDIR-sigint');
  mkdirSync(temp);
  const child = spawn(process.execPath, [kd, 'demo', '--quick', '--steps', '50'], { cwd: root, env: { ...process.env, KD_BACKEND: 'wasm', TMPDIR: temp } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (/evaluating it on the test split/.test(stderr)) child.kill('SIGINT'); // the temp folder holds the tiny dataset by now
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 130, stderr);
  assert.deepEqual(readdirSync(temp).filter((f) => f.startsWith('kd-')), [], 'its temp folder is gone');
});

test('kd demo: an unknown method, a missing teacher, a bad seed or weight is exit 2 with the option named, before any training', () => {
  const bad = spawnSync(process.execPath, [kd, 'demo', '--quick', '--method', 'l3', '--work', join(tmp, 'bad')], { cwd: root, encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--method l3: not one of l2, fine_grained, fine_grained_paper/);
  const suffix = spawnSync(process.execPath, [kd, 'demo', '--quick', '--method', 'l2+typo', '--work', join(tmp, 'bad')], { cwd: root, encoding: 'utf8' });
  assert.equal(suffix.status, 2);
  assert.match(suffix.stderr, /--method l2\+typo: not one of/);
  const missing = spawnSync(process.execPath, [kd, 'demo', '--quick', '--teacher', join(tmp, 'nowhere'), '--work', join(tmp, 'bad')], { cwd: root, encoding: 'utf8' });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--teacher .*nowhere: no model\.json there/);
  assert.doesNotMatch(missing.stderr, /step 1 /);
  const seed = spawnSync(process.execPath, [kd, 'demo', '--quick', '--seed', '-1', '--work', join(tmp, 'bad')], { cwd: root, encoding: 'utf8' });
  assert.equal(seed.status, 2);
  assert.match(seed.stderr, /--seed.*expected an integer >= 0, got "-1"/);
  const weight = spawnSync(process.execPath, [kd, 'demo', '--quick', '--weight', 'heavy', '--work', join(tmp, 'bad')], { cwd: root, encoding: 'utf8' });
  assert.equal(weight.status, 2);
  assert.match(weight.stderr, /--weight.*expected a number >= 0, got "heavy"/);
});
