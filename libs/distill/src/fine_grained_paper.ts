import * as tf from '@tensorflow/tfjs-core';
import { fmNmsKeep } from './fm_nms.ts';
import { anchorRows, channelScale, objectnessColumn, splitParts, splitTermSums } from './head_terms.ts';
import { checkOutputShapes } from './pairing.ts';
import { stopGradient } from './stop_gradient.ts';
import type { DistillLossResult } from './types.ts';

/** How the per-anchor terms are reduced: see fineGrainedPaperDistill. */
export const PaperReduction = { image: 'image', element: 'element' } as const;
export type PaperReduction = (typeof PaperReduction)[keyof typeof PaperReduction];

/** What FM-NMS does to a suppressed teacher candidate: see fineGrainedPaperDistill. */
export const SuppressedCandidates = { background: 'background', ignored: 'ignored' } as const;
export type SuppressedCandidates = (typeof SuppressedCandidates)[keyof typeof SuppressedCandidates];

export interface PaperDistillOptions {
  /** lambda_D, the weight of the teacher objectness term (paper: 1). */
  lambdaD?: number;
  /** Multiplies all terms. */
  weight?: number;
  /**
   * 'image' (default): summed over cells, anchors (and classes) per image, then averaged over
   * the batch, like the YOLOv3 detection loss, so lambda_D = 1 weighs the teacher as much as
   * the ground truth, as in the paper. 'element': means over n,a,i,j (and k), like split_distill.
   */
  reduction?: PaperReduction;
  /**
   * 'ignored' (default): a candidate FM-NMS suppresses gets no term at all (neither objectness
   * nor, as o = 0 already says, box and class): the student learns from the candidates the
   * teacher keeps, and the ground truth alone speaks elsewhere. 'background': it keeps the
   * objectness term with a target of 0, teaching the student that nothing is there, on most
   * cells and on about a fifth of the anchors the ground truth makes responsible for an object
   * (results/accuracy/fm-nms-targets-*.json); from a pretrained backbone that student scored
   * 2.05% where 'ignored' scored 10.05% and the baseline 3.70% (results/README.md).
   */
  suppressed?: SuppressedCandidates;
}

/**
 * The distillation terms of Mehta & Ozturk 2018 on raw head outputs [N,H,W,A*(5+C)] per scale;
 * o = sig(t_obj) after FM-NMS on the teacher (0 for suppressed candidates):
 *   obj = lambda_D * BCE(s_obj, o)          on the kept candidates (all with suppressed 'background')
 *   reg = (BCE(s_x,sig t_x) + BCE(s_y,sig t_y) + |s_w-t_w| + |s_h-t_h|) * o
 *   cls = sum_k BCE(s_cls_k, sig t_cls_k) * o
 * reduced per `reduction`, summed over scales, times weight. Only the teacher part: the
 * ground-truth part f(gt) is the trainer's detection loss.
 */
export function fineGrainedPaperDistill(
  student: tf.Tensor4D[],
  teacher: tf.Tensor4D[],
  numClasses: number,
  { lambdaD = 1, weight = 1, reduction = 'image', suppressed = 'ignored' }: PaperDistillOptions = {},
): DistillLossResult {
  checkOutputShapes(student, teacher);
  return tf.tidy(() => {
    const weighted = student.map((output, i) => {
      const t4 = stopGradient(teacher[i]);
      const s = anchorRows(output, numClasses);
      const t = anchorRows(t4, numClasses);
      const keep = tf.reshape(fmNmsKeep(teacher[i], numClasses), [-1, 1]) as tf.Tensor2D; // a constant: no gradient
      const o = tf.mul(tf.sigmoid(objectnessColumn(t)), keep) as tf.Tensor2D;
      const sums = splitTermSums(s, t, o, o, suppressed === 'ignored' ? keep : undefined);
      const rows = s.shape[0];
      const box = reduction === 'image' ? weight / output.shape[0] : weight / rows;
      const cls = reduction === 'image' ? box : weight / (rows * numClasses);
      return tf.mul(sums, channelScale(numClasses, { box, obj: box * lambdaD, cls }));
    });
    return splitParts(tf.addN(weighted) as tf.Tensor1D, numClasses);
  });
}
