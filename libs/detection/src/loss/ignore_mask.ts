import type { GroundTruthBatch } from './targets.ts';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * 1 where a prediction's decoded box overlaps some GT of its image with IoU > ignoreThresh
 * (those non-positives get no objectness loss). Computed in plain JS on the output's values:
 * only a handful of GT boxes per image are real, so this is far cheaper than a broadcast
 * [N, HWA, maxBoxes] IoU on the engine, and no gradient can leak through it.
 * raw: one scale's output values, [N, H, W, A*(5+C)]; anchors in input pixels. Returns [N, H, W, A].
 */
export function ignoreMask(
  raw: Float32Array, shape: [number, number, number, number], numClasses: number,
  gt: GroundTruthBatch, anchors: Array<[number, number]>, inputSize: number, ignoreThresh: number,
): Float32Array {
  const [N, H, W] = shape;
  const A = anchors.length;
  const K = 5 + numClasses;
  const mask = new Float32Array(N * H * W * A);
  for (let n = 0; n < N; n++) {
    const boxes: number[] = []; // corners of this image's real GT boxes
    for (let k = 0; k < gt.maxBoxes; k++) {
      const r = (n * gt.maxBoxes + k) * 4;
      const [cx, cy, w, h] = [gt.gtBox[r], gt.gtBox[r + 1], gt.gtBox[r + 2], gt.gtBox[r + 3]];
      if (w > 0 && h > 0) boxes.push(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2);
    }
    if (boxes.length === 0) continue;
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        for (let a = 0; a < A; a++) {
          const cell = ((n * H + i) * W + j) * A + a;
          const o = cell * K;
          const bx = (j + sigmoid(raw[o])) / W;
          const by = (i + sigmoid(raw[o + 1])) / H;
          const bw = (Math.exp(raw[o + 2]) * anchors[a][0]) / inputSize;
          const bh = (Math.exp(raw[o + 3]) * anchors[a][1]) / inputSize;
          const [x1, y1, x2, y2] = [bx - bw / 2, by - bh / 2, bx + bw / 2, by + bh / 2];
          for (let g = 0; g < boxes.length; g += 4) {
            const iw = Math.min(x2, boxes[g + 2]) - Math.max(x1, boxes[g]);
            const ih = Math.min(y2, boxes[g + 3]) - Math.max(y1, boxes[g + 1]);
            if (iw <= 0 || ih <= 0) continue;
            const inter = iw * ih;
            const union = bw * bh + (boxes[g + 2] - boxes[g]) * (boxes[g + 3] - boxes[g + 1]) - inter;
            if (inter / union > ignoreThresh) {
              mask[cell] = 1;
              break;
            }
          }
        }
      }
    }
  }
  return mask;
}
