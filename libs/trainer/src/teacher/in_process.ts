import * as tf from '@tensorflow/tfjs-core';
import { inferenceContext, type YoloV3 } from '@kd/detection';
import type { TeacherSpec } from '@kd/proto';
import type { ImageBatch, TeacherSource } from './source.ts';

/** A frozen teacher model in the training process (inference-mode BN, never optimised). */
export class InProcessTeacher implements TeacherSource {
  constructor(readonly model: YoloV3, private readonly teacherSpec: TeacherSpec, private readonly label = teacherSpec.modelName) {}

  async spec(): Promise<TeacherSpec> {
    return this.teacherSpec;
  }

  async infer(batch: ImageBatch): Promise<tf.Tensor4D[]> {
    return tf.tidy(() => this.model.forward(tf.tensor4d(batch.images, batch.shape), inferenceContext()));
  }

  describe(): string {
    return `${this.label} in-process`;
  }

  async close(): Promise<void> {}
}
