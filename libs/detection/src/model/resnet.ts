import * as tf from '@tensorflow/tfjs-core';
import { convBn, scaleChannels, type ForwardContext } from './layers.ts';
import type { ParamStore } from './params.ts';
import type { Backbone } from './backbone.ts';

const STAGE_BLOCKS: Record<18 | 34, number[]> = { 18: [2, 2, 2, 2], 34: [3, 4, 6, 3] };
const STAGE_CHANNELS = [64, 128, 256, 512];

/** A basic block: two 3x3 conv-BN, a 1x1 conv-BN shortcut when the shape changes, ReLU after the sum. */
function basicBlock(store: ParamStore, name: string, inC: number, outC: number, stride: number) {
  const conv1 = convBn(store, `${name}.conv1`, inC, { out: outC, kernel: 3, stride, act: 'relu' });
  const conv2 = convBn(store, `${name}.conv2`, outC, { out: outC, kernel: 3, act: 'none' });
  const shortcut = stride !== 1 || inC !== outC
    ? convBn(store, `${name}.shortcut`, inC, { out: outC, kernel: 1, stride, act: 'none' })
    : undefined;
  return (x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D =>
    tf.relu(tf.add(conv2(conv1(x, ctx), ctx), shortcut ? shortcut(x, ctx) : x)) as tf.Tensor4D;
}

/** ResNet18/34 (basic blocks) returning the outputs of stages 5, 4, 3 (strides 32, 16, 8). */
export function resNet(store: ParamStore, depth: 18 | 34, width: number): Backbone {
  const stemOut = scaleChannels(64, width);
  const stem = convBn(store, 'backbone.stem', 3, { out: stemOut, kernel: 7, stride: 2, act: 'relu' });
  let channels = stemOut;
  const stages = STAGE_BLOCKS[depth].map((count, s) => {
    const outC = scaleChannels(STAGE_CHANNELS[s], width);
    const blocks = Array.from({ length: count }, (_, b) => {
      const block = basicBlock(store, `backbone.stage${s + 2}.block${b}`, channels, outC, b === 0 && s > 0 ? 2 : 1);
      channels = outC;
      return block;
    });
    return (x: tf.Tensor4D, ctx: ForwardContext) => blocks.reduce((h, block) => block(h, ctx), x);
  });
  const c = STAGE_CHANNELS.map((ch) => scaleChannels(ch, width));
  return {
    outChannels: [c[3], c[2], c[1]],
    forward(x, ctx) {
      const h = tf.maxPool(stem(x, ctx), 3, 2, 'same');
      const c2 = stages[0](h, ctx);
      const c3 = stages[1](c2, ctx);
      const c4 = stages[2](c3, ctx);
      const c5 = stages[3](c4, ctx);
      return [c5, c4, c3];
    },
  };
}
