import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, parseClassifierConfig, parseConfig } from '@kd/config';
import { initBackend } from '@kd/engine';
import { createClassifier } from '@kd/classification';
import { CheckpointError, createYoloV3, loadBackboneWeights, saveCheckpoint } from '@kd/detection';

await initBackend('cpu');

const dir = mkdtempSync(join(tmpdir(), 'kd-backbone-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const detector = (backbone: Record<string, unknown> = { name: 'MobileNetV1', width: 0.25 }, extra: Record<string, unknown> = {}) => parseConfig({
  num_classes: 3, max_iters: 10, backbone, yolo_head: { width: 0.125 }, dataset: { dir: 'unused' }, ...extra,
});
const classifier = parseClassifierConfig({
  architecture: 'Classifier', num_classes: 5, max_iters: 10, backbone: { name: 'MobileNetV1', width: 0.25 }, reader: { size: 32 }, dataset: { dir: 'unused' },
});

const values = (store: { params: Map<string, { variable: tf.Variable }> }, name: string) => Array.from(store.params.get(name)!.variable.dataSync());

test('pretrain_backbone: a classifier\'s backbone tensors (weights and BN statistics) go into the detector; neck and head keep theirs', async () => {
  const cls = createClassifier(classifier, 7);
  cls.store.get('backbone.stem.bn.mean').assign(tf.fill(cls.store.get('backbone.stem.bn.mean').shape, 0.25));
  const ckpt = join(dir, 'classifier');
  await saveCheckpoint(ckpt, cls.store, classifier, 300);

  const det = createYoloV3(detector(), 1);
  const before = createYoloV3(detector(), 1); // the same fresh initialisation, to compare the rest against
  const backboneNames = [...det.store.params.keys()].filter((n) => n.startsWith('backbone.'));
  const rest = [...det.store.params.keys()].filter((n) => !n.startsWith('backbone.'));
  const loaded = loadBackboneWeights(ckpt, det.store, detector().backbone);
  assert.equal(loaded.tensors, backboneNames.length);
  assert.equal(loaded.architecture, 'Classifier');
  for (const n of backboneNames) assert.deepEqual(values(det.store, n), values(cls.store, n), n);
  assert.deepEqual(values(det.store, 'backbone.stem.bn.mean'), new Array(8).fill(0.25));
  for (const n of rest) assert.deepEqual(values(det.store, n), values(before.store, n), `${n} keeps its initialisation`);
});

test('pretrain_backbone: another backbone, a corrupt file or weights set too are clear errors; nothing is assigned', async () => {
  const ckpt = join(dir, 'classifier');
  const det = createYoloV3(detector({ name: 'MobileNetV1', width: 0.5 }), 1);
  const stem = values(det.store, 'backbone.stem.weight');
  assert.throws(() => loadBackboneWeights(ckpt, det.store, detector({ name: 'MobileNetV1', width: 0.5 }).backbone),
    (e: Error) => e instanceof CheckpointError && /classifier: its backbone is \{"name":"MobileNetV1","width":0\.25\}, the model's \{"name":"MobileNetV1","width":0\.5\}/.test(e.message));
  assert.deepEqual(values(det.store, 'backbone.stem.weight'), stem);
  assert.throws(() => loadBackboneWeights(join(dir, 'nowhere'), det.store, detector().backbone), /nowhere: not a checkpoint \(no model\.json\)/);
  assert.throws(() => detector(undefined, { weights: 'a', pretrain_backbone: 'b' }), (e: Error) => e instanceof ConfigError && /weights and pretrain_backbone are both set/.test(e.message));
});
