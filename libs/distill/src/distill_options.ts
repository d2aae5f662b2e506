import type { DistillConfig } from '@kd/config';
import { DistillConfigError, distillLossNames, getDistillLoss, resolveDistillOptions } from './registry.ts';

const isSection = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The options of the chosen loss from a `distill` config section. A config can hold defaults per
 * method under a key named after it (`distill.l2.weight: 2`, `distill.fine_grained.weight: 300`),
 * so that choosing a method (e.g. `-o distill.method=fine_grained`) also picks the weight that
 * suits it; flat keys (`distill.weight`, typically from -o) apply to the chosen method and win.
 * Every per-method section is checked against its loss, chosen or not, so a misspelt method or
 * option is an error rather than silently unused.
 */
export function distillOptions(distill: DistillConfig, method: string): Record<string, unknown> {
  const { method: _method, ...rest } = distill;
  const flat: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (!isSection(value)) {
      flat[key] = value;
      continue;
    }
    if (!distillLossNames().includes(key)) {
      throw new DistillConfigError(`distill.${key}: a section of options for a method, but ${key} is not one (known: ${distillLossNames().join(', ')})`);
    }
    resolveDistillOptions(getDistillLoss(key), value, `distill.${key}`);
  }
  const own = rest[method];
  return { ...(isSection(own) ? own : {}), ...flat };
}
