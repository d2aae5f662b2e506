import type * as tf from '@tensorflow/tfjs-core';
import type { ClassifierConfig, ClassifierDistillConfig } from '@kd/config';
import { logitL2, softKl, type DistillLossResult } from '@kd/distill';
import type { Classifier } from './model.ts';

/** A teacher that cannot teach this student (other classes); the message names both sides. */
export class TeacherMismatchError extends Error {
  override name = 'TeacherMismatchError';
}

type LogitLoss = (student: tf.Tensor2D, teacher: tf.Tensor2D) => DistillLossResult;

/** Classification KD losses by distill.method (libs/distill holds the loss functions). */
export const CLASSIFIER_DISTILL_LOSSES: Record<ClassifierDistillConfig['method'], { doc: string; create(c: ClassifierDistillConfig): LogitLoss }> = {
  logit_l2: { doc: 'weight * mean((s - t)^2) on the logits', create: (c) => (s, t) => logitL2(s, t, c.weight) },
  soft_kl: { doc: 'weight * T^2 * KL(softmax(t/T) || softmax(s/T))', create: (c) => (s, t) => softKl(s, t, c.temperature, c.weight) },
};

/** A frozen teacher and the loss between its logits and the student's. */
export interface ClassifierDistill {
  method: ClassifierDistillConfig['method'];
  teacher: Classifier;
  loss: LogitLoss;
}

export interface TeacherInfo {
  /** Names the teacher in errors (its config file or checkpoint). */
  source: string;
  config: ClassifierConfig;
  /** Class names the teacher was trained on (its checkpoint's), when known. */
  classes?: readonly string[];
}

/**
 * Binds the student's distill section to a teacher after checking that the teacher's logits
 * mean the student's classes: same num_classes and, when both are known, the same class names.
 */
export function classifierDistillation(student: ClassifierConfig, teacher: Classifier, info: TeacherInfo, studentClasses?: readonly string[]): ClassifierDistill {
  if (info.config.num_classes !== student.num_classes || teacher.numClasses !== student.num_classes) {
    throw new TeacherMismatchError(
      `teacher ${info.source}: num_classes ${info.config.num_classes}, the student's is ${student.num_classes}: the teacher's logits must be over the student's classes`);
  }
  if (info.classes && studentClasses && info.classes.join('\n') !== studentClasses.join('\n')) {
    throw new TeacherMismatchError(`teacher ${info.source}: classes [${info.classes.join(', ')}], the student's are [${studentClasses.join(', ')}]`);
  }
  return { method: student.distill.method, teacher, loss: CLASSIFIER_DISTILL_LOSSES[student.distill.method].create(student.distill) };
}
