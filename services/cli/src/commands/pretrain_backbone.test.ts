import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QUICK_OVERRIDES } from '@kd/trainer';

// A detector whose backbone starts from a classifier of the dataset's crops, through the real
// bin: kd train a tiny classifier, kd export it (a classifier checkpoint), kd train a detector
// with -o pretrain_backbone=.
const kd = fileURLToPath(new URL('../../bin/kd.js', import.meta.url));
const configs = fileURLToPath(new URL('../../../../configs/', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [kd, ...args], { encoding: 'utf8', env: { ...process.env, KD_BACKEND: 'wasm' } });
const tmp = mkdtempSync(join(tmpdir(), 'kd-pretrain-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const o = (list: string[]) => list.flatMap((x) => ['-o', x]);

test('kd train -o pretrain_backbone=CLASSIFIER: the backbone comes from the (exported) classifier; another width exits 2 naming both', () => {
  const data = join(tmp, 'shapes');
  assert.equal(run('make-dataset', 'shapes', '--out', data, '--train', '8', '--test', '2', '--unlabeled', '0', '--size', '96', '--seed', '1').status, 0);
  const classifier = run('train', '-c', join(configs, 'classifier_mobilenet_v1_shapes.yml'), ...o([
    `dataset.dir=${data}`, `save_dir=${join(tmp, 'classifier')}`, 'max_iters=2', 'snapshot_iter=100', 'log_iter=1', 'reader.batch_size=8', 'backbone.width=0.125',
  ]));
  assert.equal(classifier.status, 0, classifier.stderr);
  const exported = join(tmp, 'classifier-fp16');
  const exportRun = run('export', '-w', join(tmp, 'classifier', 'model_final'), '--out', exported, '--fp16');
  assert.equal(exportRun.status, 0, exportRun.stderr);
  assert.equal(JSON.parse(readFileSync(join(exported, 'model.json'), 'utf8')).config.architecture, 'Classifier');

  const detector = (width: string, saveDir: string) => run('train', '-c', join(configs, 'yolov3_mobilenet_v1_shapes.yml'), ...o([
    ...QUICK_OVERRIDES, `backbone.width=${width}`, `dataset.dir=${data}`, `save_dir=${saveDir}`, 'max_iters=2', `pretrain_backbone=${exported}`,
  ]));
  const trained = detector('0.125', join(tmp, 'detector'));
  assert.equal(trained.status, 0, trained.stderr);
  assert.match(trained.stderr, /backbone from .*classifier-fp16 \(Classifier, \d+ tensors, [0-9a-f]{12}\); neck and head start fresh/);
  assert.ok(existsSync(join(tmp, 'detector', 'model_final', 'model.json')));

  const wider = detector('0.25', join(tmp, 'wider'));
  assert.equal(wider.status, 2, wider.stderr);
  assert.match(wider.stderr, /classifier-fp16: its backbone is \{"name":"MobileNetV1","width":0\.125\}, the model's \{"name":"MobileNetV1","width":0\.25\}/);
});
