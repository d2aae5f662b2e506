import type { HeadSpec } from '../model/yolov3.ts';

/** Dense per-scale targets, each [N, H, W, A] (tcls: [N, H, W, A, C]), NHWC like the head. */
export interface ScaleTargets {
  height: number;
  width: number;
  anchors: number;
  /** 1 at positives. */
  positive: Float32Array;
  /** Positive weight: the GT's score (1, or its mixup ratio). */
  weight: Float32Array;
  /** Box-term weight: (2 - gw*gh) * score. */
  boxScale: Float32Array;
  tx: Float32Array;
  ty: Float32Array;
  tw: Float32Array;
  th: Float32Array;
  tcls: Float32Array;
}

export interface GroundTruthBatch {
  batch: number;
  maxBoxes: number;
  /** [N, maxBoxes, 4] normalised (cx, cy, w, h); rows with w or h <= 0 are padding. */
  gtBox: Float32Array;
  gtClass: Int32Array;
  gtScore: Float32Array;
  /** [N]: 0 marks an unlabeled image (no detection loss at all); absent means all labeled. */
  labeled?: Uint8Array;
}

/** IoU of two boxes that share a centre (anchor matching compares shapes only). */
function shapeIou(w1: number, h1: number, w2: number, h2: number): number {
  const inter = Math.min(w1, w2) * Math.min(h1, h2);
  return inter / (w1 * h1 + w2 * h2 - inter);
}

/**
 * YOLOv3 target assignment: each GT goes to the best of all anchors by shape IoU, on the
 * scale whose mask holds that anchor, in cell (floor(gx*W), floor(gy*H)); a later GT in the
 * same cell and anchor overwrites an earlier one. Label smoothing (optional) uses
 * delta = min(1/C, 1/40): positives 1 - delta, negatives delta.
 */
export function buildTargets(gt: GroundTruthBatch, inputSize: number, spec: HeadSpec, labelSmooth: boolean): ScaleTargets[] {
  const C = spec.numClasses;
  const delta = labelSmooth ? Math.min(1 / C, 1 / 40) : 0;
  const targets = spec.anchorMasks.map((mask, s): ScaleTargets => {
    const H = inputSize / spec.strides[s];
    const n = gt.batch * H * H * mask.length;
    return {
      height: H, width: H, anchors: mask.length,
      positive: new Float32Array(n), weight: new Float32Array(n), boxScale: new Float32Array(n),
      tx: new Float32Array(n), ty: new Float32Array(n), tw: new Float32Array(n), th: new Float32Array(n),
      tcls: new Float32Array(n * C).fill(delta),
    };
  });
  for (let b = 0; b < gt.batch; b++) {
    for (let k = 0; k < gt.maxBoxes; k++) {
      const row = b * gt.maxBoxes + k;
      const [gx, gy, gw, gh] = gt.gtBox.subarray(row * 4, row * 4 + 4);
      if (!(gw > 0 && gh > 0)) continue;
      let best = 0;
      let bestIou = -1;
      spec.anchors.forEach(([aw, ah], a) => {
        const iou = shapeIou(gw * inputSize, gh * inputSize, aw, ah);
        if (iou > bestIou) { bestIou = iou; best = a; }
      });
      const s = spec.anchorMasks.findIndex((mask) => mask.includes(best));
      if (s < 0) continue; // the best anchor is used by no scale
      const t = targets[s];
      const m = spec.anchorMasks[s].indexOf(best);
      const gi = Math.min(Math.floor(gx * t.width), t.width - 1);
      const gj = Math.min(Math.floor(gy * t.height), t.height - 1);
      const i = ((b * t.height + gj) * t.width + gi) * t.anchors + m;
      const score = gt.gtScore[row];
      const [aw, ah] = spec.anchors[best];
      t.positive[i] = 1;
      t.weight[i] = score;
      t.boxScale[i] = (2 - gw * gh) * score;
      t.tx[i] = gx * t.width - gi;
      t.ty[i] = gy * t.height - gj;
      t.tw[i] = Math.log((gw * inputSize) / aw);
      t.th[i] = Math.log((gh * inputSize) / ah);
      const cls = t.tcls.subarray(i * C, i * C + C);
      cls.fill(delta);
      cls[gt.gtClass[row]] = 1 - delta;
    }
  }
  return targets;
}
