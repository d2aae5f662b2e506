import type * as tf from '@tensorflow/tfjs-core';
import type { KdConfig } from '@kd/config';
import { createBackbone } from './backbone.ts';
import type { ForwardContext } from './layers.ts';
import { ParamStore } from './params.ts';
import { yoloV3Head } from './yolov3_head.ts';

/** Geometry the loss, decoder and distillation need: strides, anchors (input pixels), masks. */
export interface HeadSpec {
  numClasses: number;
  strides: [number, number, number];
  anchors: Array<[number, number]>;
  anchorMasks: number[][];
}

export interface YoloV3 {
  store: ParamStore;
  spec: HeadSpec;
  /** [N,S,S,3] normalised image -> raw head outputs [N,S/s,S/s,A*(5+C)] for s = 32, 16, 8. */
  forward(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D[];
}

/** The parts of a config that define the model's tensors (a checkpoint must match them). */
export function modelDefinition(config: KdConfig) {
  return {
    architecture: config.architecture,
    num_classes: config.num_classes,
    backbone: config.backbone,
    yolo_head: { width: config.yolo_head.width, anchors: config.yolo_head.anchors, anchor_masks: config.yolo_head.anchor_masks },
  };
}

/** Builds YOLOv3 from a config with seeded initial weights. */
export function createYoloV3(config: KdConfig, seed = config.seed): YoloV3 {
  const store = new ParamStore(seed);
  const backbone = createBackbone(store, config.backbone);
  const masks = config.yolo_head.anchor_masks;
  const head = yoloV3Head(
    store, backbone.outChannels, config.num_classes, masks.map((m) => m.length), config.yolo_head.width, config.yolo_head.obj_bias_init,
  );
  return {
    store,
    spec: {
      numClasses: config.num_classes,
      strides: [32, 16, 8],
      anchors: config.yolo_head.anchors.map(([w, h]) => [w, h]),
      anchorMasks: masks.map((m) => [...m]),
    },
    forward: (x, ctx) => head(backbone.forward(x, ctx), ctx),
  };
}
