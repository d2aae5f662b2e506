import type * as tf from '@tensorflow/tfjs-core';
import type { BackboneConfig } from '@kd/config';
import type { ForwardContext } from './layers.ts';
import { mobileNetV1 } from './mobilenet_v1.ts';
import type { ParamStore } from './params.ts';
import { resNet } from './resnet.ts';

/** A backbone: image [N,H,W,3] -> feature maps at strides 32, 16, 8 (coarsest first). */
export interface Backbone {
  /** Channels of the three maps, coarsest first. */
  outChannels: [number, number, number];
  forward(x: tf.Tensor4D, ctx: ForwardContext): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
}

/** Backbone builders by config name (a registry, so a new backbone is one entry). */
const BACKBONES: Record<BackboneConfig['name'], (store: ParamStore, config: BackboneConfig) => Backbone> = {
  MobileNetV1: (store, c) => mobileNetV1(store, c.width),
  ResNet: (store, c) => resNet(store, (c as Extract<BackboneConfig, { name: 'ResNet' }>).depth, c.width),
};

/** Builds the configured backbone's parameters (named `backbone.*`) in `store`. */
export function createBackbone(store: ParamStore, config: BackboneConfig): Backbone {
  return BACKBONES[config.name](store, config);
}
