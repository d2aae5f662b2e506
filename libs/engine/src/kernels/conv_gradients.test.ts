import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../backend.ts';
import { relativeError, runOnBoth, seededValues } from './testing.ts';

// Each case runs one gradient kernel on the cpu backend (the oracle) and on wasm with our
// kernels, on the same seeded data, and requires max|diff| / max|cpu| <= 1e-4.
const kernels = [1, 3, 5];
const strides = [1, 2];
const pads = ['same', 'valid'] as const;
const sizes = [7, 8];
const batches = [1, 4];

interface Case { k: number; s: number; pad: 'same' | 'valid'; size: number; batch: number }
const cases: Case[] = [];
for (const k of kernels) for (const s of strides) for (const pad of pads) for (const size of sizes) for (const batch of batches) {
  cases.push({ k, s, pad, size, batch });
}

function convOutShape(c: Case, outC: number): [number, number, number, number] {
  const out = c.pad === 'same' ? Math.ceil(c.size / c.s) : Math.ceil((c.size - c.k + 1) / c.s);
  return [c.batch, out, out, outC];
}

await useBackend('wasm');

test('Conv2DBackpropFilter and Conv2DBackpropInput match the cpu backend', async () => {
  const inC = 3;
  const outC = 5;
  for (const c of cases) {
    const xShape: [number, number, number, number] = [c.batch, c.size, c.size, inC];
    const fShape: [number, number, number, number] = [c.k, c.k, inC, outC];
    const dyShape = convOutShape(c, outC);
    const x = seededValues(xShape, 1);
    const f = seededValues(fShape, 2);
    const dy = seededValues(dyShape, 3);
    const attrs = { strides: [c.s, c.s], pad: c.pad, dataFormat: 'NHWC' };
    const dw = await runOnBoth(() => tf.engine().runKernel('Conv2DBackpropFilter',
      { x: tf.tensor4d(x, xShape), dy: tf.tensor4d(dy, dyShape) }, { ...attrs, filterShape: fShape }) as tf.Tensor);
    assert.ok(relativeError(dw.cpu, dw.wasm) <= 1e-4, `dW ${JSON.stringify(c)}: rel err ${relativeError(dw.cpu, dw.wasm)}`);
    const dx = await runOnBoth(() => tf.engine().runKernel('Conv2DBackpropInput',
      { dy: tf.tensor4d(dy, dyShape), filter: tf.tensor4d(f, fShape) }, { ...attrs, inputShape: xShape }) as tf.Tensor);
    assert.ok(relativeError(dx.cpu, dx.wasm) <= 1e-4, `dx ${JSON.stringify(c)}: rel err ${relativeError(dx.cpu, dx.wasm)}`);
  }
});

test('depthwise gradients match the cpu backend for channel multiplier 1 and 2', async () => {
  const channels = 4;
  for (const mult of [1, 2]) {
    for (const c of cases) {
      const xShape: [number, number, number, number] = [c.batch, c.size, c.size, channels];
      const fShape: [number, number, number, number] = [c.k, c.k, channels, mult];
      const dyShape = convOutShape(c, channels * mult);
      const x = seededValues(xShape, 4);
      const f = seededValues(fShape, 5);
      const dy = seededValues(dyShape, 6);
      const attrs = { strides: [c.s, c.s], dilations: [1, 1], pad: c.pad };
      const label = JSON.stringify({ ...c, mult });
      const dw = await runOnBoth(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter',
        { x: tf.tensor4d(x, xShape), dy: tf.tensor4d(dy, dyShape) }, { ...attrs, filterShape: fShape }) as tf.Tensor);
      assert.ok(relativeError(dw.cpu, dw.wasm) <= 1e-4, `dW ${label}: rel err ${relativeError(dw.cpu, dw.wasm)}`);
      const dx = await runOnBoth(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput',
        { dy: tf.tensor4d(dy, dyShape), filter: tf.tensor4d(f, fShape) }, { ...attrs, inputShape: xShape }) as tf.Tensor);
      assert.ok(relativeError(dx.cpu, dx.wasm) <= 1e-4, `dx ${label}: rel err ${relativeError(dx.cpu, dx.wasm)}`);
    }
  }
});

test('gradients through tf.grads of conv2d and depthwiseConv2d agree across backends', async () => {
  const xShape: [number, number, number, number] = [2, 9, 9, 3];
  const x = seededValues(xShape, 7);
  const f1 = seededValues([3, 3, 3, 6], 8);
  const f2 = seededValues([3, 3, 6, 1], 9);
  const grads = await runOnBoth(() => {
    const [gx, g1, g2] = tf.grads((xi: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => {
      const h = tf.relu(tf.conv2d(xi as tf.Tensor4D, a as tf.Tensor4D, 2, 'same'));
      return tf.sum(tf.square(tf.depthwiseConv2d(h, b as tf.Tensor4D, 1, 'same')));
    })([tf.tensor4d(x, xShape), tf.tensor4d(f1, [3, 3, 3, 6]), tf.tensor4d(f2, [3, 3, 6, 1])]);
    return tf.concat([gx.flatten(), g1.flatten(), g2.flatten()]);
  });
  assert.ok(relativeError(grads.cpu, grads.wasm) <= 1e-4, `rel err ${relativeError(grads.cpu, grads.wasm)}`);
});

// The 1x1 filter gradient orders its matmul by which side is narrower (conv2d_backprop_filter.ts):
// both orders, with more and with fewer output than input channels.
test('Conv2DBackpropFilter of a 1x1 convolution matches the cpu backend, widening and narrowing', async () => {
  for (const [inC, outC] of [[4, 7], [7, 4]]) {
    const xShape: [number, number, number, number] = [2, 5, 6, inC];
    const dyShape: [number, number, number, number] = [2, 5, 6, outC];
    const x = seededValues(xShape, 10);
    const dy = seededValues(dyShape, 11);
    const dw = await runOnBoth(() => tf.engine().runKernel('Conv2DBackpropFilter',
      { x: tf.tensor4d(x, xShape), dy: tf.tensor4d(dy, dyShape) },
      { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [1, 1, inC, outC] }) as tf.Tensor);
    assert.ok(relativeError(dw.cpu, dw.wasm) <= 1e-4, `dW ${inC}->${outC}: rel err ${relativeError(dw.cpu, dw.wasm)}`);
  }
});
