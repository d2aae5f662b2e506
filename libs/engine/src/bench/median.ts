import type { ReplicaStepPhases } from './replicated_bench_step.ts';

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Each phase's median over several replicated steps. */
export function medianPhases(phases: ReplicaStepPhases[]): ReplicaStepPhases {
  return {
    share_ms: median(phases.map((p) => p.share_ms)),
    own_gradients_ms: median(phases.map((p) => p.own_gradients_ms)),
    wait_ms: median(phases.map((p) => p.wait_ms)),
    update_ms: median(phases.map((p) => p.update_ms)),
  };
}
