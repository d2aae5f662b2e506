import type * as tf from '@tensorflow/tfjs-core';
import type { TeacherSpec } from '@kd/proto';

/** A preprocessed image batch [N, H, W, 3] (NHWC, normalised RGB), as the student trains on it. */
export interface ImageBatch {
  images: Float32Array;
  shape: [number, number, number, number];
}

/**
 * Where a student's soft targets come from: a teacher model in this process, or teacher
 * replicas behind gRPC. `infer` returns the raw head outputs [N, H/s, W/s, A*(5+C)] per
 * scale, in the spec's stride order; the caller owns (and disposes) the tensors.
 */
export interface TeacherSource {
  /** The served model's spec (the student checks its head against it before any step). */
  spec(): Promise<TeacherSpec>;
  infer(batch: ImageBatch): Promise<tf.Tensor4D[]>;
  /** One line for logs: the model and where it runs. */
  describe(): string;
  close(): Promise<void>;
}
