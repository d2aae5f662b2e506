import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { parseConfig } from '@kd/config';
import { initBackend } from '@kd/engine';
import { inferenceContext } from './layers.ts';
import { createYoloV3 } from './yolov3.ts';

await initBackend('wasm');

const config = (backbone: Record<string, unknown>, head: Record<string, unknown> = {}) => parseConfig({
  num_classes: 3, max_iters: 1, backbone, yolo_head: { width: 0.125, ...head }, dataset: { dir: 'unused' },
});

test('both backbones give three maps at strides 32, 16, 8 with A*(5+C) channels', () => {
  for (const backbone of [{ name: 'MobileNetV1', width: 0.25 }, { name: 'ResNet', depth: 18, width: 0.125 }, { name: 'ResNet', depth: 34, width: 0.125 }]) {
    const model = createYoloV3(config(backbone));
    const shapes = tf.tidy(() => model.forward(tf.zeros([2, 96, 96, 3]) as tf.Tensor4D, inferenceContext()).map((o) => o.shape));
    assert.deepEqual(shapes, [[2, 3, 3, 24], [2, 6, 6, 24], [2, 12, 12, 24]], JSON.stringify(backbone));
    model.store.dispose();
  }
});

test('ResNet34 has more blocks than ResNet18, and width multiplies parameters about quadratically', () => {
  const count = (backbone: Record<string, unknown>) => {
    const model = createYoloV3(config(backbone));
    const n = model.store.countTrainable();
    model.store.dispose();
    return n;
  };
  assert.ok(count({ name: 'ResNet', depth: 34, width: 0.25 }) > count({ name: 'ResNet', depth: 18, width: 0.25 }));
  const ratio = count({ name: 'MobileNetV1', width: 0.5 }) / count({ name: 'MobileNetV1', width: 0.25 });
  assert.ok(ratio > 1.5 && ratio < 4.5, `ratio ${ratio}`);
});

test('obj_bias_init sets only the objectness channels of the output biases', () => {
  const model = createYoloV3(config({ name: 'MobileNetV1', width: 0.25 }, { obj_bias_init: -4.6 }));
  const bias = model.store.get('head.scale1.output.bias').dataSync();
  const expected = Array.from({ length: 24 }, (_, c) => (c % 8 === 4 ? Math.fround(-4.6) : 0));
  assert.deepEqual([...bias], expected);
  model.store.dispose();
});
