import * as tf from '@tensorflow/tfjs-core';
import { upsampleNearest2x } from '@kd/engine';
import { convBn, convBias, scaleChannels, type ForwardContext } from './layers.ts';
import type { ParamStore } from './params.ts';

/** Per-scale block channels before the width multiplier, coarsest first (the 3x3 convs use 2x). */
const HEAD_CHANNELS = [512, 256, 128];

/**
 * YOLOv3Head as PaddleDetection builds it: per scale two (1x1, 3x3) conv blocks, a route 1x1,
 * a 3x3 tip and a 1x1 output conv with anchorsPerScale*(5+C) channels; between scales a 1x1
 * transition, nearest 2x upsample and concat [route, backbone map]. LeakyReLU 0.1, BN on all
 * but the output convs. Returns raw outputs [N,H,W,A*(5+C)], strides 32, 16, 8.
 */
export function yoloV3Head(
  store: ParamStore, inChannels: [number, number, number], numClasses: number, anchorsPerScale: number[], width: number,
  objBiasInit = 0,
) {
  const scales = HEAD_CHANNELS.map((base, s) => {
    const ch = scaleChannels(base, width);
    const inC = s === 0 ? inChannels[0] : inChannels[s] + scaleChannels(HEAD_CHANNELS[s - 1] / 2, width);
    const p = `head.scale${s}`;
    const block = [
      convBn(store, `${p}.conv0`, inC, { out: ch, kernel: 1, act: 'leaky' }),
      convBn(store, `${p}.conv1`, ch, { out: ch * 2, kernel: 3, act: 'leaky' }),
      convBn(store, `${p}.conv2`, ch * 2, { out: ch, kernel: 1, act: 'leaky' }),
      convBn(store, `${p}.conv3`, ch, { out: ch * 2, kernel: 3, act: 'leaky' }),
    ];
    const route = convBn(store, `${p}.route`, ch * 2, { out: ch, kernel: 1, act: 'leaky' });
    const tip = convBn(store, `${p}.tip`, ch, { out: ch * 2, kernel: 3, act: 'leaky' });
    const outputBias = new Float32Array(anchorsPerScale[s] * (5 + numClasses));
    for (let a = 0; a < anchorsPerScale[s]; a++) outputBias[a * (5 + numClasses) + 4] = objBiasInit;
    const output = convBias(store, `${p}.output`, ch * 2, outputBias.length, outputBias);
    const transition = s < 2
      ? convBn(store, `${p}.transition`, ch, { out: scaleChannels(base / 2, width), kernel: 1, act: 'leaky' })
      : undefined;
    return { block, route, tip, output, transition };
  });

  return (features: [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D], ctx: ForwardContext): tf.Tensor4D[] => {
    const outputs: tf.Tensor4D[] = [];
    let carried: tf.Tensor4D | undefined;
    scales.forEach((scale, s) => {
      let h = carried ? tf.concat([carried, features[s]], 3) : features[s];
      for (const conv of scale.block) h = conv(h, ctx);
      const route = scale.route(h, ctx);
      outputs.push(scale.output(scale.tip(route, ctx)));
      if (scale.transition) carried = upsampleNearest2x(scale.transition(route, ctx));
    });
    return outputs;
  };
}
