import * as tf from '@tensorflow/tfjs-core';
import type { KdConfig } from '@kd/config';
import type { EvalBatch, VocRecord } from '@kd/data';
import { evaluateVoc, type Detection, type GroundTruthImage } from '@kd/metrics';
import { inferenceContext } from '../model/layers.ts';
import type { YoloV3 } from '../model/yolov3.ts';
import { nmsOptions, postprocess } from '../postprocess/decode.ts';

export interface DetectorEvaluation {
  /** VOC mAP at IoU 0.5 with the config's map_type, 0..1. */
  mAP: number;
  perClass: Record<string, number>;
  detections: Detection[];
  images: number;
  /** Wall time of forward + decode + NMS (not data loading), seconds. */
  inferenceSeconds: number;
}

/** VOC ground truth of dataset records, difficult flags kept. */
export function groundTruthOf(records: VocRecord[]): GroundTruthImage[] {
  return records.map((r) => ({ id: r.id, objects: r.objects.map((o) => ({ class: o.name, bbox: o.bbox, difficult: o.difficult })) }));
}

/** Runs the detector over evaluation batches and returns its detections in original pixels. */
export async function detect(
  model: YoloV3, batches: AsyncIterable<EvalBatch>, config: KdConfig, classes: string[],
  onBatch?: (done: number) => void,
): Promise<{ detections: Detection[]; images: number; inferenceSeconds: number }> {
  const detections: Detection[] = [];
  let images = 0;
  let seconds = 0;
  const nms = nmsOptions(config.nms);
  for await (const batch of batches) {
    const start = performance.now();
    const n = batch.ids.length;
    const outputs = tf.tidy(() => model.forward(tf.tensor4d(batch.images, [n, batch.size, batch.size, 3]), inferenceContext()));
    const sizes = Array.from({ length: n }, (_, i) => ({ width: batch.origWidth[i], height: batch.origHeight[i] }));
    const perImage = await postprocess(outputs, model.spec, batch.size, sizes, nms);
    tf.dispose(outputs);
    seconds += (performance.now() - start) / 1000;
    perImage.forEach((boxes, i) => {
      for (const d of boxes) detections.push({ image_id: batch.ids[i], class: classes[d.classId], score: d.score, bbox: d.bbox });
    });
    images += n;
    onBatch?.(images);
  }
  return { detections, images, inferenceSeconds: seconds };
}

/** Detects on every record and scores VOC mAP against their annotations. */
export async function evaluateDetector(
  model: YoloV3, batches: AsyncIterable<EvalBatch>, records: VocRecord[], config: KdConfig, classes: string[],
  onBatch?: (done: number) => void,
): Promise<DetectorEvaluation> {
  const result = await detect(model, batches, config, classes, onBatch);
  const scores = evaluateVoc(groundTruthOf(records), result.detections, classes, config.map_type);
  return { mAP: scores.mAP, perClass: scores.perClass, ...result };
}
