import * as tf from '@tensorflow/tfjs-core';

/**
 * Identity with a zero gradient: the teacher is frozen (PaddleDetection marks its variables
 * stop_gradient) and tfjs has no stop_gradient op. When the teacher's outputs are plain
 * tensors (the usual case: they come from the teacher service) this node is not on the
 * gradient path at all and costs nothing in the backward pass.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const detach = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as T;
    return { value: tf.clone(input), gradFunc: (dy: T) => tf.zerosLike(dy) };
  });
  return detach(x) as T;
}
