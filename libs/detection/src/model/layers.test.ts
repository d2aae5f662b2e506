import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@kd/engine';
import { convBn, inferenceContext, type Activation } from './layers.ts';
import { ParamStore } from './params.ts';

await initBackend('wasm');

/** Inference conv + BN + activation as written in the textbook: three ops, running statistics. */
function composed(x: tf.Tensor4D, store: ParamStore, name: string, stride: number, depthwise: boolean, act: Activation): tf.Tensor4D {
  const w = store.get(`${name}.weight`) as tf.Tensor4D;
  const conv = depthwise ? tf.depthwiseConv2d(x, w, stride, 'same') : tf.conv2d(x, w, stride, 'same');
  const y = tf.batchNorm4d(conv, store.get(`${name}.bn.mean`) as tf.Tensor1D, store.get(`${name}.bn.variance`) as tf.Tensor1D,
    store.get(`${name}.bn.offset`) as tf.Tensor1D, store.get(`${name}.bn.scale`) as tf.Tensor1D, 1e-5);
  return act === 'relu' ? tf.relu(y) : act === 'leaky' ? tf.leakyRelu(y, 0.1) : y;
}

// The folded path (BN into the filter and a bias, one fused conv) must be the same function:
// BN statistics far from 0 and 1 so that a wrong axis or sign in the fold shows.
test('inference convBn (BN folded into a fused conv) equals conv, batch norm and activation', () => {
  for (const depthwise of [false, true]) {
    for (const stride of [1, 2]) {
      for (const act of ['relu', 'leaky', 'none'] as const) {
        const store = new ParamStore(3);
        const channels = 8;
        const block = convBn(store, 'b', channels, { out: channels, kernel: 3, stride, act, depthwise });
        store.get('b.bn.scale').assign(tf.randomUniform([channels], 0.5, 2, 'float32', 1));
        store.get('b.bn.offset').assign(tf.randomUniform([channels], -1, 1, 'float32', 2));
        store.get('b.bn.mean').assign(tf.randomUniform([channels], -0.5, 0.5, 'float32', 3));
        store.get('b.bn.variance').assign(tf.randomUniform([channels], 0.2, 3, 'float32', 4));
        const x = tf.randomNormal([2, 9, 9, channels], 0, 1, 'float32', 5) as tf.Tensor4D;
        const [got, want] = tf.tidy(() => [block(x, inferenceContext()), composed(x, store, 'b', stride, depthwise, act)].map((t) => t.dataSync()));
        const scale = Math.max(...want.map(Math.abs));
        const err = Math.max(...got.map((v, i) => Math.abs(v - want[i]))) / scale;
        assert.ok(err < 1e-5, `depthwise ${depthwise}, stride ${stride}, ${act}: max rel err ${err}`);
        assert.ok(want.some((v) => v < 0) === (act !== 'relu'), 'the activation was exercised on both signs');
        x.dispose();
        store.dispose();
      }
    }
  }
});
