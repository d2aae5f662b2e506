import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, configArchitecture, loadClassifierConfig, loadConfig } from './index.ts';

const configs = fileURLToPath(new URL('../../../configs/', import.meta.url));
const student = join(configs, 'classifier_mobilenet_v1_shapes.yml');
const teacher = join(configs, 'classifier_r18_shapes.yml');

test('the classifier configs: the r18 teacher inherits all but the backbone and save_dir', () => {
  const s = loadClassifierConfig(student);
  const t = loadClassifierConfig(teacher);
  assert.equal(s.architecture, 'Classifier');
  assert.deepEqual(s.backbone, { name: 'MobileNetV1', width: 0.25 });
  assert.deepEqual(t.backbone, { name: 'ResNet', depth: 18, width: 0.5 });
  assert.equal(t.save_dir, 'output/classifier_r18_shapes');
  assert.deepEqual({ ...t, backbone: s.backbone, save_dir: s.save_dir }, s);
  assert.deepEqual(s.distill, { method: 'soft_kl', weight: 0.1, temperature: 4 });
  assert.equal(s.reader.size, 32);
  const o = loadClassifierConfig(student, ['distill.method=logit_l2', 'reader.size=48', 'reader.flip=false']);
  assert.deepEqual([o.distill.method, o.reader.size, o.reader.flip], ['logit_l2', 48, false]);
});

test('configArchitecture dispatches (YOLOv3 when absent); each loader refuses the other kind', () => {
  assert.equal(configArchitecture(student), 'Classifier');
  assert.equal(configArchitecture(teacher), 'Classifier', 'through _BASE_');
  assert.equal(configArchitecture(join(configs, 'yolov3_mobilenet_v1_shapes.yml')), 'YOLOv3');
  assert.equal(configArchitecture(join(configs, 'yolov3_mobilenet_v1_shapes.yml'), ['architecture=Classifier']), 'Classifier');
  assert.throws(() => configArchitecture(student, ['architecture=RetinaNet']), (e: Error) =>
    e instanceof ConfigError && e.message.includes(student) && /architecture: "RetinaNet" is not one of YOLOv3, Classifier/.test(e.message));
  assert.throws(() => loadConfig(student), (e: Error) => e instanceof ConfigError && e.message.includes(student) && /architecture: Classifier configs are for kd train/.test(e.message));
  assert.throws(() => loadClassifierConfig(join(configs, 'yolov3_mobilenet_v1_shapes.yml')), /architecture: Invalid input: expected "Classifier"/);
});

test('classifier config errors name the file and the key', (t) => {
  assert.throws(() => loadClassifierConfig(student, ['reader.sizes=[32]']), (e: Error) =>
    e instanceof ConfigError && e.message.startsWith(`${student}: `) && e.message.includes('unknown key reader.sizes'));
  assert.throws(() => loadClassifierConfig(student, ['distill.method=l2']), /distill\.method: Invalid option: expected one of "logit_l2"\|"soft_kl"/);
  assert.throws(() => loadClassifierConfig(student, ['distill.temperature=0']), /distill\.temperature: Too small/);
  assert.throws(() => loadClassifierConfig(student, ['reader.size=16']), /reader\.size: Too small/);
  assert.throws(() => loadClassifierConfig(student, ['yolo_head.width=1']), /unknown key yolo_head/);
  assert.throws(() => loadClassifierConfig(student, ['max_iters']), /-o max_iters: expected key=value/);
  const dir = mkdtempSync(join(tmpdir(), 'kd-cls-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'c.yml'), `_BASE_: ${student}\nnum_classes: 0\n`);
  assert.throws(() => loadClassifierConfig(join(dir, 'c.yml')), /c\.yml: num_classes: Too small/);
});
