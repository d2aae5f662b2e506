import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../backend.ts';
import { relativeError, runOnBoth, seededValues } from '../testing.ts';
import { simdConv2DFilterGrad } from '../conv2d_backprop_filter.ts';
import { simdDepthwiseFilterGrad } from '../depthwise_conv2d_backprop_filter.ts';
import { simdDepthwiseInputGrad } from '../depthwise_conv2d_backprop_input.ts';
import { simdKernels } from './simd_kernels.ts';

const DIR = fileURLToPath(new URL('.', import.meta.url));
const builder = fileURLToPath(new URL('../../../../../scripts/build-wasm-kernels.mjs', import.meta.url));

await useBackend('wasm');

test('the committed kernel bytes are those of their .wat sources (scripts/build-wasm-kernels.mjs)', async () => {
  const { assemble, moduleText } = await import(builder) as {
    assemble(name: string, source: string): Promise<Buffer>; moduleText(name: string, bytes: Buffer): string;
  };
  const sources = readdirSync(DIR).filter((f) => f.endsWith('.wat'));
  assert.ok(sources.length > 0);
  for (const file of sources) {
    const bytes = await assemble(file, readFileSync(join(DIR, file), 'utf8'));
    assert.equal(readFileSync(join(DIR, file.replace(/\.wat$/, '.wasm.ts')), 'utf8'), moduleText(file, bytes), `${file}: run node scripts/build-wasm-kernels.mjs`);
  }
});

test('the SIMD kernels load on the wasm backend\'s memory', () => {
  assert.ok(simdKernels(tf.backend()), 'WebAssembly SIMD and the backend memory are available here');
  assert.equal(simdKernels({}), undefined, 'not on another backend');
});

test('SIMD depthwise filter and input gradients match the cpu backend at MobileNet\'s shapes, strides and padding', async () => {
  // [batch, size, channels, kernel, stride, pad]: the student's depthwise layers at 224
  // (a batch of 8 at 112x112x8: float32 sums over 100352 positions), a wide one, odd sizes
  const cases: Array<[number, number, number, number, number, 'same' | 'valid']> = [
    [8, 112, 8, 3, 1, 'same'], [8, 56, 32, 3, 2, 'same'], [4, 14, 256, 3, 1, 'same'], [2, 15, 12, 3, 2, 'valid'], [3, 9, 4, 5, 1, 'same'],
  ];
  const d = 1;
  for (const [batch, size, channels, k, s, pad] of cases) {
    const xShape: [number, number, number, number] = [batch, size, size, channels];
    const fShape: [number, number, number, number] = [k, k, channels, 1];
    const out = pad === 'same' ? Math.ceil(size / s) : Math.ceil((size - (k - 1) * d) / s);
    const dyShape: [number, number, number, number] = [batch, out, out, channels];
    const x = seededValues(xShape, 11);
    const dy = seededValues(dyShape, 12);
    const dw = await runOnBoth(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter',
      { x: tf.tensor4d(x, xShape), dy: tf.tensor4d(dy, dyShape) }, { strides: [s, s], dilations: [d, d], pad, filterShape: fShape }) as tf.Tensor);
    const label = JSON.stringify({ batch, size, channels, k, s, pad });
    // the kernel took the SIMD path here (else the comparison below would test the composed one)
    const probe = { x: tf.tensor4d(x, xShape), dy: tf.tensor4d(dy, dyShape), filter: tf.zeros(fShape) };
    const backend = tf.backend();
    const viaSimd = [
      simdDepthwiseFilterGrad({ inputs: probe, backend, attrs: { strides: [s, s], dilations: [d, d], pad, filterShape: fShape } } as never),
      simdDepthwiseInputGrad({ inputs: probe, backend, attrs: { strides: [s, s], dilations: [d, d], pad, inputShape: xShape } } as never),
    ];
    assert.ok(viaSimd.every((t) => t !== undefined), `SIMD path ${label}`);
    for (const t of viaSimd) backend.disposeData(t!.dataId);
    tf.dispose(Object.values(probe));
    assert.ok(relativeError(dw.cpu, dw.wasm) <= 1e-4, `dw ${label}: rel err ${relativeError(dw.cpu, dw.wasm)}`);
    const filter = seededValues(fShape, 13);
    const dx = await runOnBoth(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput',
      { dy: tf.tensor4d(dy, dyShape), filter: tf.tensor4d(filter, fShape) }, { strides: [s, s], dilations: [d, d], pad, inputShape: xShape }) as tf.Tensor);
    assert.ok(relativeError(dx.cpu, dx.wasm) <= 1e-4, `dx ${label}: rel err ${relativeError(dx.cpu, dx.wasm)}`);
  }
});

test('SIMD convolution filter gradient matches the cpu backend: stems, 1x1 layers, channel tails, strides, padding', async () => {
  // [batch, size, in channels, out channels, kernel, stride, pad]: the benchmark model's stem
  // and first 1x1 layer (51200 positions each), a wide 1x1 layer, input channels not in fours
  // and output channels not in eights, a strided 1x1, 1x1 layers whose positions 128 does not divide
  const cases: Array<[number, number, number, number, number, number, 'same' | 'valid']> = [
    [8, 160, 3, 16, 3, 2, 'same'], [8, 80, 16, 32, 1, 1, 'same'], [2, 10, 256, 256, 1, 1, 'same'],
    [2, 9, 5, 20, 5, 2, 'same'], [2, 7, 6, 12, 3, 1, 'valid'], [3, 8, 8, 12, 1, 2, 'same'], [1, 7, 8, 8, 1, 1, 'same'], [1, 13, 4, 8, 1, 1, 'valid'],
  ];
  for (const [batch, size, inC, outC, k, s, pad] of cases) {
    const xShape: [number, number, number, number] = [batch, size, size, inC];
    const fShape: [number, number, number, number] = [k, k, inC, outC];
    const out = pad === 'same' ? Math.ceil(size / s) : Math.ceil((size - k + 1) / s);
    const dyShape: [number, number, number, number] = [batch, out, out, outC];
    const x = seededValues(xShape, 21);
    const dy = seededValues(dyShape, 22);
    const attrs = { strides: [s, s], pad, dataFormat: 'NHWC', filterShape: fShape };
    const label = JSON.stringify({ batch, size, inC, outC, k, s, pad });
    const probe = { x: tf.tensor4d(x, xShape), dy: tf.tensor4d(dy, dyShape) };
    const viaSimd = simdConv2DFilterGrad({ inputs: probe, backend: tf.backend(), attrs } as never);
    assert.ok(viaSimd, `SIMD path ${label}`);
    tf.backend().disposeData(viaSimd.dataId);
    tf.dispose(Object.values(probe));
    const dw = await runOnBoth(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(x, xShape), dy: tf.tensor4d(dy, dyShape) }, attrs) as tf.Tensor);
    assert.ok(relativeError(dw.cpu, dw.wasm) <= 1e-4, `dw ${label}: rel err ${relativeError(dw.cpu, dw.wasm)}`);
  }
  assert.equal(simdConv2DFilterGrad({
    inputs: { x: tf.zeros([1, 4, 4, 4]), dy: tf.zeros([1, 4, 4, 75]) }, backend: tf.backend(),
    attrs: { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [1, 1, 4, 75] },
  } as never), undefined, 'output channels not in fours: the composed kernel');
});

test('SIMD gradients leave nothing on the heap', () => {
  const x = tf.tensor4d(seededValues([2, 8, 8, 8], 1), [2, 8, 8, 8]);
  const dy = tf.tensor4d(seededValues([2, 8, 8, 8], 2), [2, 8, 8, 8]);
  const tensors = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    (tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: [1, 1], dilations: [1, 1], pad: 'same', filterShape: [3, 3, 8, 1] }) as tf.Tensor).dispose();
    const filter = tf.ones([3, 3, 8, 1]);
    (tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { strides: [1, 1], dilations: [1, 1], pad: 'same', inputShape: [2, 8, 8, 8] }) as tf.Tensor).dispose();
    (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 8, 8] }) as tf.Tensor).dispose();
    filter.dispose();
  }
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal((tf.backend() as unknown as { dataIdMap: { numDataIds(): number } }).dataIdMap.numDataIds(), tensors, 'the scratch buffer is freed');
  x.dispose();
  dy.dispose();
});
