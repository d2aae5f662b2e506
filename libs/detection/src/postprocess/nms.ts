/** A detection in original-image pixels. */
export interface DetectedBox {
  classId: number;
  score: number;
  /** [x1, y1, x2, y2] pixels. */
  bbox: [number, number, number, number];
}

export interface NmsOptions {
  scoreThreshold: number;
  nmsTopK: number;
  keepTopK: number;
  nmsThreshold: number;
  /** false: pixel boxes, areas with the +1 convention (PaddleDetection's YOLOv3 setting). */
  normalized: boolean;
}

function iou(a: Float32Array | number[], ai: number, b: Float32Array | number[], bi: number, plus: number): number {
  const iw = Math.min(a[ai + 2], b[bi + 2]) - Math.max(a[ai], b[bi]) + plus;
  const ih = Math.min(a[ai + 3], b[bi + 3]) - Math.max(a[ai + 1], b[bi + 1]) + plus;
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const areaA = (a[ai + 2] - a[ai] + plus) * (a[ai + 3] - a[ai + 1] + plus);
  const areaB = (b[bi + 2] - b[bi] + plus) * (b[bi + 3] - b[bi + 1] + plus);
  return inter / (areaA + areaB - inter);
}

/**
 * Multiclass NMS as PaddleDetection's multiclass_nms: per class, candidates with score >
 * scoreThreshold, the nmsTopK best, greedy suppression of IoU > nmsThreshold; then the
 * keepTopK best over all classes. boxes: [M, 4] corners; scores: [M, C]. Sorted by score.
 */
export function multiclassNms(boxes: Float32Array, scores: Float32Array, numClasses: number, options: NmsOptions): DetectedBox[] {
  const plus = options.normalized ? 0 : 1;
  const count = boxes.length / 4;
  const kept: DetectedBox[] = [];
  for (let c = 0; c < numClasses; c++) {
    const candidates: number[] = [];
    for (let m = 0; m < count; m++) if (scores[m * numClasses + c] > options.scoreThreshold) candidates.push(m);
    // stable sort: equal scores keep their index order, so results do not depend on the engine
    candidates.sort((x, y) => scores[y * numClasses + c] - scores[x * numClasses + c]);
    candidates.length = Math.min(candidates.length, options.nmsTopK);
    const selected: number[] = [];
    for (const m of candidates) {
      if (selected.every((s) => iou(boxes, m * 4, boxes, s * 4, plus) <= options.nmsThreshold)) selected.push(m);
    }
    for (const m of selected) {
      kept.push({ classId: c, score: scores[m * numClasses + c], bbox: [boxes[m * 4], boxes[m * 4 + 1], boxes[m * 4 + 2], boxes[m * 4 + 3]] });
    }
  }
  kept.sort((a, b) => b.score - a.score);
  return kept.slice(0, options.keepTopK);
}
