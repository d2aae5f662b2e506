import type { OptimizerConfig } from '@kd/config';

/**
 * PaddleDetection's LearningRate: PiecewiseDecay (x gamma at each boundary) under a
 * LinearWarmup from base * warmup_start_factor to base over warmup_steps.
 */
export function learningRate(step: number, c: OptimizerConfig): number {
  const decays = c.boundaries.filter((b) => step >= b).length;
  const lr = c.base_lr * c.gamma ** decays;
  if (step >= c.warmup_steps) return lr;
  const start = c.base_lr * c.warmup_start_factor;
  return start + (lr - start) * (step / c.warmup_steps);
}
