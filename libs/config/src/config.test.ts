import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, applyOverrides, loadConfig } from './index.ts';

const configs = fileURLToPath(new URL('../../../configs/', import.meta.url));

test('the VOC configs carry PaddleDetection settings; r34 inherits all but the backbone', () => {
  const student = loadConfig(join(configs, 'yolov3_mobilenet_v1_voc.yml'));
  const teacher = loadConfig(join(configs, 'yolov3_r34_voc.yml'));
  assert.deepEqual(student.backbone, { name: 'MobileNetV1', width: 1 });
  assert.deepEqual(teacher.backbone, { name: 'ResNet', depth: 34, width: 1 });
  assert.equal(teacher.max_iters, 70000);
  assert.deepEqual(teacher.optimizer.boundaries, [55000, 62000]);
  assert.deepEqual(teacher.yolo_head.anchor_masks, [[6, 7, 8], [3, 4, 5], [0, 1, 2]]);
  assert.equal(teacher.nms.nms_threshold, 0.45);
  assert.equal(teacher.save_dir, 'output/yolov3_r34_voc');
  assert.equal(student.use_fine_grained_loss, false);
});

test('-o overrides are typed as YAML and reach nested keys', () => {
  const config = loadConfig(join(configs, 'yolov3_mobilenet_v1_voc.yml'), [
    'max_iters=100', 'use_fine_grained_loss=true', 'train_reader.sizes=[128, 160]', 'backbone.width=0.25',
  ]);
  assert.equal(config.max_iters, 100);
  assert.equal(config.use_fine_grained_loss, true);
  assert.deepEqual(config.train_reader.sizes, [128, 160]);
  assert.equal(config.backbone.width, 0.25);
  assert.deepEqual(applyOverrides({ a: { b: 1, c: 2 } }, ['a.b=x']), { a: { b: 'x', c: 2 } });
});

test('errors name the file and the bad key', (t) => {
  const path = join(configs, 'yolov3_mobilenet_v1_voc.yml');
  assert.throws(() => loadConfig(path, ['yolo_head.ignore_thres=0.5']), (e: Error) =>
    e instanceof ConfigError && e.message.includes(path) && e.message.includes('unknown key yolo_head.ignore_thres'));
  // a key an override misspelt is blamed on the override, with the nearest key
  assert.throws(() => loadConfig(path, ['max_iter=5']), (e: Error) =>
    e.message === `${path}: -o max_iter=5: unknown key max_iter (did you mean max_iters?)`);
  assert.throws(() => loadConfig(path, ['yolo_head.ignore_thres=0.5']), /-o yolo_head\.ignore_thres=0\.5: unknown key yolo_head\.ignore_thres \(did you mean yolo_head\.ignore_thresh\?\)/);
  assert.throws(() => loadConfig(path, ['max_iters=-1']), /-o max_iters=-1: max_iters: Too small/);
  assert.throws(() => loadConfig(path, ['max_iters=many']), /max_iters: Invalid input: expected number, received string/);
  assert.throws(() => loadConfig(path, ['train_reader.sizes=[100]']), /train_reader\.sizes\.0: must be a multiple of 32/);
  assert.throws(() => loadConfig(path, ['backbone.depth=50']), /backbone/);
  assert.throws(() => loadConfig(path, ['max_iters']), /-o max_iters: expected key=value/);
  assert.throws(() => loadConfig('/no/such/config.yml'), /\/no\/such\/config.yml: cannot read config \(ENOENT\)/);
  const dir = mkdtempSync(join(tmpdir(), 'kd-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'bad.yml'), 'num_classes: [1\n');
  assert.throws(() => loadConfig(join(dir, 'bad.yml')), /bad.yml: invalid YAML/);
  writeFileSync(join(dir, 'a.yml'), '_BASE_: b.yml\n');
  writeFileSync(join(dir, 'b.yml'), '_BASE_: a.yml\n');
  assert.throws(() => loadConfig(join(dir, 'a.yml')), /_BASE_ cycle/);
});
