import * as tf from '@tensorflow/tfjs-core';
import type { ClassifierConfig } from '@kd/config';
import { convBias, createBackbone, ParamStore, type ForwardContext } from '@kd/detection';

/** A crop classifier: the detector's backbone, global average pooling, one dense layer. */
export interface Classifier {
  store: ParamStore;
  numClasses: number;
  /** [N,S,S,3] normalised crops -> logits [N, num_classes]. */
  forward(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D;
}

/**
 * Builds a classifier from a config with seeded initial weights. Its parameters live in a
 * ParamStore like YOLOv3's (`backbone.*`, `head.fc.*`), so the detection checkpoints hold it.
 */
export function createClassifier(config: ClassifierConfig, seed = config.seed): Classifier {
  const store = new ParamStore(seed);
  const backbone = createBackbone(store, config.backbone);
  // the dense layer as a 1x1 conv on the pooled [N,1,1,C] map (same init and decay as the convs)
  const fc = convBias(store, 'head.fc', backbone.outChannels[0], config.num_classes);
  // He init gives logits of several units at the start (first cross-entropy ~3.5 for 8
  // classes, ln 8 = 2.1); a tenth of it starts near uniform, as the usual small dense init does
  const fcWeight = store.get('head.fc.weight');
  tf.tidy(() => fcWeight.assign(tf.mul(fcWeight, 0.1)));
  return {
    store,
    numClasses: config.num_classes,
    forward(x, ctx) {
      const [c5] = backbone.forward(x, ctx);
      const pooled = tf.mean(c5, [1, 2], true) as tf.Tensor4D;
      return tf.reshape(fc(pooled), [-1, config.num_classes]) as tf.Tensor2D;
    },
  };
}
