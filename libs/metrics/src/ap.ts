/** How average precision summarises a precision/recall curve (see voc_ap's doc). */
export const ApMetric = { elevenPoint: '11point', area: 'area', integral: 'integral' } as const;
export type ApMetric = (typeof ApMetric)[keyof typeof ApMetric];

/**
 * Average precision of one class from cumulative precision/recall at each ranked detection.
 * - `11point`: mean over t in {0, .1, ..., 1} of the max precision at recall >= t (VOC2007).
 * - `area`: area under the monotone (max-to-the-right) precision envelope (VOC2010+ devkit).
 * - `integral`: sum of p_i * (r_i - r_{i-1}) without the envelope (PaddleDetection's).
 */
export function averagePrecision(recall: number[], precision: number[], metric: ApMetric): number {
  if (metric === ApMetric.elevenPoint) {
    let sum = 0;
    for (let k = 0; k <= 10; k++) {
      const t = k / 10;
      let best = 0;
      for (let i = 0; i < recall.length; i++) if (recall[i] >= t && precision[i] > best) best = precision[i];
      sum += best;
    }
    return sum / 11;
  }
  if (metric === ApMetric.integral) {
    let ap = 0;
    let previousRecall = 0;
    for (let i = 0; i < recall.length; i++) {
      ap += precision[i] * (recall[i] - previousRecall);
      previousRecall = recall[i];
    }
    return ap;
  }
  const mrec = [0, ...recall, 1];
  const mpre = [0, ...precision, 0];
  for (let i = mpre.length - 2; i >= 0; i--) mpre[i] = Math.max(mpre[i], mpre[i + 1]);
  let ap = 0;
  for (let i = 1; i < mrec.length; i++) {
    if (mrec[i] !== mrec[i - 1]) ap += (mrec[i] - mrec[i - 1]) * mpre[i];
  }
  return ap;
}
