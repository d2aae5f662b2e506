import * as tf from '@tensorflow/tfjs-core';
import { convBn, scaleChannels, type ForwardContext } from './layers.ts';
import type { ParamStore } from './params.ts';
import type { Backbone } from './backbone.ts';

/** Depthwise-separable blocks after the stem: [out channels, stride]. */
const BLOCKS: ReadonlyArray<readonly [number, number]> = [
  [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2],
  [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
];
/** Indices of the blocks whose outputs feed the head: strides 8, 16, 32. */
const TAPS = [4, 10, 12];

/** MobileNetV1 (conv-BN-ReLU, depthwise separable) returning the stride 32, 16, 8 maps. */
export function mobileNetV1(store: ParamStore, width: number): Backbone {
  const stemOut = scaleChannels(32, width);
  const stem = convBn(store, 'backbone.stem', 3, { out: stemOut, kernel: 3, stride: 2, act: 'relu' });
  let channels = stemOut;
  const blocks = BLOCKS.map(([out, stride], i) => {
    const outC = scaleChannels(out, width);
    const dw = convBn(store, `backbone.block${i}.dw`, channels, { out: channels, kernel: 3, stride, act: 'relu', depthwise: true });
    const pw = convBn(store, `backbone.block${i}.pw`, channels, { out: outC, kernel: 1, act: 'relu' });
    channels = outC;
    return (x: tf.Tensor4D, ctx: ForwardContext) => pw(dw(x, ctx), ctx);
  });
  const outChannels = TAPS.map((i) => scaleChannels(BLOCKS[i][0], width)).reverse() as [number, number, number];
  return {
    outChannels,
    forward(x, ctx) {
      let h = stem(x, ctx);
      const taps: tf.Tensor4D[] = [];
      blocks.forEach((block, i) => {
        h = block(h, ctx);
        if (TAPS.includes(i)) taps.push(h);
      });
      return [taps[2], taps[1], taps[0]];
    },
  };
}
