import * as tf from '@tensorflow/tfjs-core';
import type { HeadSpec } from '../model/yolov3.ts';
import { decodeBoxes } from '../loss/decode_boxes.ts';
import { multiclassNms, type DetectedBox, type NmsOptions } from './nms.ts';

/** Original size of each image of a batch, to map boxes back to its pixels. */
export interface ImageSize { width: number; height: number }

/**
 * Decodes raw head outputs like PaddleDetection's yolo_box: objectness below the score
 * threshold drops a prediction, class scores are sig(obj) * sig(cls), boxes go to the
 * original image's pixels clipped to [0, size - 1]; then multiclass NMS per image.
 */
export async function postprocess(
  outputs: tf.Tensor4D[], spec: HeadSpec, inputSize: number, sizes: ImageSize[], nms: NmsOptions,
): Promise<DetectedBox[][]> {
  const C = spec.numClasses;
  const perScale = tf.tidy(() => outputs.map((output, s) => {
    const [N, H, W] = output.shape;
    const A = spec.anchorMasks[s].length;
    const raw = tf.reshape(output, [N, H, W, A, 5 + C]);
    const [xy, wh, obj, cls] = tf.split(raw, [2, 2, 1, C], 4);
    const anchors = spec.anchorMasks[s].map((a) => spec.anchors[a]);
    return {
      boxes: tf.reshape(decodeBoxes(xy, wh, anchors, inputSize), [N, -1, 4]),
      obj: tf.reshape(tf.sigmoid(obj), [N, -1]),
      cls: tf.reshape(tf.sigmoid(cls), [N, -1, C]),
    };
  }));
  const data = await Promise.all(perScale.map(async (p) => ({
    boxes: await p.boxes.data() as Float32Array, obj: await p.obj.data() as Float32Array, cls: await p.cls.data() as Float32Array,
    count: p.obj.shape[1] as number,
  })));
  tf.dispose(perScale.flatMap((p) => [p.boxes, p.obj, p.cls]));

  return sizes.map(({ width, height }, n) => {
    const boxes: number[] = [];
    const scores: number[] = [];
    for (const d of data) {
      for (let m = 0; m < d.count; m++) {
        const o = d.obj[n * d.count + m];
        if (o < nms.scoreThreshold) continue;
        const b = (n * d.count + m) * 4;
        const [cx, cy, w, h] = [d.boxes[b], d.boxes[b + 1], d.boxes[b + 2], d.boxes[b + 3]];
        boxes.push(
          Math.min(Math.max((cx - w / 2) * width, 0), width - 1), Math.min(Math.max((cy - h / 2) * height, 0), height - 1),
          Math.min(Math.max((cx + w / 2) * width, 0), width - 1), Math.min(Math.max((cy + h / 2) * height, 0), height - 1),
        );
        for (let c = 0; c < C; c++) scores.push(o * d.cls[(n * d.count + m) * C + c]);
      }
    }
    return multiclassNms(Float32Array.from(boxes), Float32Array.from(scores), C, nms);
  });
}

/** NMS settings from a config's `nms` section (pixel boxes, +1 areas). */
export function nmsOptions(nms: { score_threshold: number; nms_top_k: number; keep_top_k: number; nms_threshold: number }): NmsOptions {
  return {
    scoreThreshold: nms.score_threshold, nmsTopK: nms.nms_top_k, keepTopK: nms.keep_top_k,
    nmsThreshold: nms.nms_threshold, normalized: false,
  };
}
