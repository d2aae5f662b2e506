import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// End to end through the real bin: a tiny built-in dataset, a tiny student, a few steps.
const kd = fileURLToPath(new URL('../../bin/kd.js', import.meta.url));
const config = fileURLToPath(new URL('../../../../configs/yolov3_mobilenet_v1_shapes.yml', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [kd, ...args], { encoding: 'utf8', env: { ...process.env, KD_BACKEND: 'wasm' } });
const tmp = mkdtempSync(join(tmpdir(), 'kd-train-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const data = join(tmp, 'shapes');
const out = join(tmp, 'out');
const tiny = [
  '-o', `dataset.dir=${data}`, '-o', `save_dir=${out}`, '-o', 'max_iters=4', '-o', 'snapshot_iter=2', '-o', 'log_iter=1',
  '-o', 'train_reader.batch_size=2', '-o', 'train_reader.sizes=[64]', '-o', 'train_reader.workers=1',
  '-o', 'eval_reader.size=64', '-o', 'eval_reader.batch_size=4', '-o', 'backbone.width=0.125', '-o', 'yolo_head.width=0.0625',
];

test('kd train -> eval -> infer on a tiny built-in dataset; resume continues the step count', () => {
  const made = run('make-dataset', 'shapes', '--out', data, '--train', '6', '--test', '4', '--unlabeled', '0', '--size', '96', '--seed', '3');
  assert.equal(made.status, 0, made.stderr);

  const trained = run('train', '-c', config, ...tiny, '--eval');
  assert.equal(trained.status, 0, trained.stderr);
  // PaddleDetection-style log lines, the total first, then its parts
  assert.match(trained.stderr, /step 1 lr 0\.000000, loss [\d.]+, loss_xy [\d.]+, loss_wh [\d.]+, loss_obj [\d.]+, loss_cls [\d.]+, eta: \d:\d\d:\d\d, batch_cost: [\d.]+ sec, ips: [\d.]+ images\/sec/);
  assert.match(trained.stderr, /mAP\(0\.50, 11point\) = [\d.]+% on 4 images/);
  assert.match(trained.stderr, /Best test box ap: [\d.]+, in step: \d/);
  for (const dir of ['2', 'model_final', 'best_model']) assert.ok(existsSync(join(out, dir, 'model.json')), dir);
  const summary = JSON.parse(readFileSync(join(out, 'train_summary.json'), 'utf8'));
  assert.equal(summary.steps, 4);
  assert.ok(summary.train_images_per_s > 0 && summary.data_wait_s >= 0);

  const evaluated = run('eval', '-w', join(out, 'model_final'), '--json');
  assert.equal(evaluated.status, 0, evaluated.stderr);
  const result = JSON.parse(evaluated.stdout);
  assert.ok(result.mAP >= 0 && result.mAP <= 1);
  assert.deepEqual(Object.keys(result.per_class).length > 0, true);
  assert.equal(result.images, 4);
  assert.equal(result.step, 4);
  assert.match(evaluated.stderr, /kd eval: images 4\/4 \(100%\) done/, 'progress, as a line when stderr is not a TTY');

  const infer = join(tmp, 'infer');
  const inferred = run('infer', '-w', join(out, 'model_final'), '--images', join(data, 'VOCdevkit/VOC2012/JPEGImages'), '--out', infer, '--draw-threshold', '0');
  assert.equal(inferred.status, 0, inferred.stderr);
  const dets = JSON.parse(readFileSync(join(infer, 'detections.json'), 'utf8'));
  assert.ok(Array.isArray(dets));
  for (const d of dets.slice(0, 5)) {
    assert.deepEqual(Object.keys(d).sort(), ['bbox', 'class', 'image_id', 'score']);
    assert.match(d.class, /^(red|blue|green|yellow)_/); // names saved in the checkpoint
  }
  assert.equal(readdirSync(infer).filter((f) => f.endsWith('.jpg')).length, 10);
  assert.match(inferred.stderr, /kd infer: detecting 10\/10 \(100%\) done/);
  assert.match(inferred.stderr, /kd infer: drawing 10\/10 \(100%\) done/);

  // an undecodable file is skipped: every good image is detected and drawn, the bad one listed at the end; --strict exits 1
  const mixed = join(tmp, 'mixed');
  mkdirSync(mixed);
  for (const id of ['test_000000', 'train_000000']) copyFileSync(join(data, 'VOCdevkit/VOC2012/JPEGImages', `${id}.jpg`), join(mixed, `${id}.jpg`));
  writeFileSync(join(mixed, 'test_broken.jpg'), 'not a jpeg'); // sorts between the good ones
  for (const strict of [false, true]) {
    const dir = join(tmp, strict ? 'mixed-strict-out' : 'mixed-out');
    const r = run('infer', '-w', join(out, 'model_final'), '--images', mixed, '--out', dir, '--draw-threshold', '0', ...(strict ? ['--strict'] : []));
    assert.equal(r.status, strict ? 1 : 0, r.stderr);
    assert.deepEqual(readdirSync(dir).sort(), ['detections.json', 'test_000000.jpg', 'train_000000.jpg']);
    const ids = new Set(JSON.parse(readFileSync(join(dir, 'detections.json'), 'utf8')).map((d: { image_id: string }) => d.image_id));
    assert.deepEqual([...ids].sort(), ['test_000000', 'train_000000']);
    assert.match(r.stderr, /kd infer: 1 of 3 images skipped.*:\n {2}\S*test_broken\.jpg: cannot decode image/);
    assert.doesNotMatch(r.stderr, /\nkd: /);
  }
  // an --out that is a file is refused before any inference, naming it
  const outFile = join(infer, 'detections.json');
  const refused = run('infer', '-w', join(out, 'model_final'), '--images', join(data, 'VOCdevkit/VOC2012/JPEGImages'), '--out', outFile);
  assert.equal(refused.status, 2, refused.stderr);
  assert.equal(refused.stderr, `kd infer: --out ${outFile}: exists and is not a folder\n`);

  const exported = run('export', '-w', join(out, 'model_final'), '--out', join(tmp, 'fp16'), '--fp16');
  assert.equal(exported.status, 0, exported.stderr);
  // half the bytes, no optimizer state, and it still loads and evaluates at the same step
  const bytes = (dir: string) => readFileSync(join(dir, 'weights.bin')).length;
  assert.equal(bytes(join(tmp, 'fp16')) * 2, bytes(join(out, 'model_final')));
  assert.ok(!existsSync(join(tmp, 'fp16', 'optimizer.bin')));
  const fp16 = JSON.parse(run('eval', '-w', join(tmp, 'fp16'), '--json').stdout);
  assert.equal(fp16.step, 4);
  assert.notEqual(fp16.content_hash, result.content_hash);

  // resumed data-parallel: the batch of 2 split over this thread and a worker thread
  const resumed = run('train', '-c', config, ...tiny, '-o', 'max_iters=6', '-o', 'replicas=2', '-r', join(out, 'model_final'));
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /resumed from .* at step 4/);
  assert.match(resumed.stderr, /data-parallel: 2 replicas \(this thread and 1 worker thread\)/);
  assert.equal(JSON.parse(readFileSync(join(out, 'train_summary.json'), 'utf8')).replicas, 2);
  assert.match(resumed.stderr, /step 5 lr/);
  assert.doesNotMatch(resumed.stderr, /step 1 lr/);
  assert.equal(JSON.parse(readFileSync(join(out, 'model_final', 'model.json'), 'utf8')).step, 6);

  // -o weights=: starts from a checkpoint's weights at step 1 (fresh schedule), so the first loss is not the random init's
  const fromWeights = run('train', '-c', config, ...tiny, '-o', 'max_iters=1', '-o', `save_dir=${join(tmp, 'finetune')}`, '-o', `weights=${join(out, 'model_final')}`);
  assert.equal(fromWeights.status, 0, fromWeights.stderr);
  assert.match(fromWeights.stderr, /starting from the weights of .*model_final \(step 6, [0-9a-f]{12}\)/);
  const firstLoss = (stderr: string) => /step 1 lr [\d.]+, loss ([\d.]+)/.exec(stderr)?.[1];
  assert.ok(firstLoss(fromWeights.stderr) !== undefined);
  assert.notEqual(firstLoss(fromWeights.stderr), firstLoss(trained.stderr));
  const mismatched = run('train', '-c', config, ...tiny, '-o', 'backbone.width=0.25', '-o', `weights=${join(out, 'model_final')}`);
  assert.equal(mismatched.status, 2);
  assert.match(mismatched.stderr, /model_final was saved for a different model: backbone\.width: 0\.125 in the checkpoint, 0\.25 in the config/);

  // an unreadable test image: a warning line of kd's log, not Node's "(node:PID) DataWarning ... --trace-warnings"
  writeFileSync(join(data, 'VOCdevkit/VOC2012/JPEGImages/test_000000.jpg'), 'not a jpeg');
  const warned = run('eval', '-w', join(out, 'model_final'));
  assert.equal(warned.status, 0, warned.stderr);
  assert.match(warned.stderr, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - WARN - \S*test_000000\.jpg: cannot decode image: .* \(skipped\)$/m);
  assert.doesNotMatch(warned.stderr, /\(node:\d+\)|trace-warnings/);
  assert.match(warned.stderr, /kd eval: images 4\/4 \(100%\) done/, 'the skipped image counts as done');
});

test('bad configs, overrides and checkpoints exit 2 naming the key or file', () => {
  const badKey = run('train', '-c', config, '-o', 'yolo_head.ignore_thres=0.5');
  assert.equal(badKey.status, 2);
  assert.match(badKey.stderr, /unknown key yolo_head\.ignore_thres/);
  const tooManyReplicas = run('train', '-c', config, '-o', 'replicas=9');
  assert.equal(tooManyReplicas.status, 2);
  assert.match(tooManyReplicas.stderr, /replicas: 9 is more than train_reader\.batch_size: 8/);
  const noConfig = run('train', '-c', join(tmp, 'missing.yml'));
  assert.equal(noConfig.status, 2);
  assert.match(noConfig.stderr, /missing\.yml: cannot read config/);
  const noWeights = run('eval', '-c', config, '-w', join(tmp, 'nowhere'));
  assert.equal(noWeights.status, 2);
  assert.match(noWeights.stderr, /nowhere: not a checkpoint/);
});
