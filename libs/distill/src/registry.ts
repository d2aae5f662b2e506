import type * as tf from '@tensorflow/tfjs-core';
import type { HeadSpec } from '@kd/detection';
import type { DistillLossResult } from './types.ts';

/** A distillation config that names an unknown loss or a bad option; the message names the key. */
export class DistillConfigError extends Error {
  override name = 'DistillConfigError';
}

/**
 * What a loss can read: the student's and teacher's raw head outputs [N,H,W,A*(5+C)] per
 * scale (teacher already aligned to the student's scale order) and the student's head spec.
 */
export interface DistillInputs {
  student: tf.Tensor4D[];
  teacher: tf.Tensor4D[];
  spec?: HeadSpec;
}
export type DistillInputName = keyof DistillInputs;

/** A distillation loss bound to its options. */
export type DistillLossFn = (inputs: DistillInputs) => DistillLossResult;

export type DistillOptionSpec =
  | { type: 'number'; default: number; min?: number; doc: string }
  | { type: 'enum'; values: readonly string[]; default: string; doc: string };

export type DistillOptionValues = Record<string, number | string>;

/** A registry entry: the inputs a loss reads, its options with defaults, and how to build it. */
export interface DistillLossDefinition {
  name: string;
  doc: string;
  inputs: readonly DistillInputName[];
  options: Record<string, DistillOptionSpec>;
  create(options: DistillOptionValues): DistillLossFn;
}

const registry = new Map<string, DistillLossDefinition>();

/** Adds (or replaces) a loss under its name. */
export function registerDistillLoss(definition: DistillLossDefinition): void {
  registry.set(definition.name, definition);
}

/** Registered loss names, in registration order. */
export function distillLossNames(): string[] {
  return [...registry.keys()];
}

/** The definition registered under `name`; the error names `key` (the config key that held it). */
export function getDistillLoss(name: string, key = 'distill.method'): DistillLossDefinition {
  const definition = registry.get(name);
  if (definition === undefined) {
    throw new DistillConfigError(`${key}: ${JSON.stringify(name)} is not one of ${distillLossNames().join(', ')}`);
  }
  return definition;
}

/** Fills defaults and checks every given option against the loss's declared ones. */
export function resolveDistillOptions(definition: DistillLossDefinition, given: Record<string, unknown>, prefix = 'distill'): DistillOptionValues {
  const declared = Object.keys(definition.options);
  for (const key of Object.keys(given)) {
    if (!(key in definition.options)) {
      const known = declared.length > 0 ? `options: ${declared.join(', ')}` : 'it takes no options';
      throw new DistillConfigError(`${prefix}.${key}: not an option of ${definition.name} (${known})`);
    }
  }
  const resolved: DistillOptionValues = {};
  for (const [key, spec] of Object.entries(definition.options)) {
    const value = given[key] ?? spec.default;
    const where = `${prefix}.${key}`;
    if (spec.type === 'number') {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new DistillConfigError(`${where}: ${JSON.stringify(value)} is not a finite number`);
      if (spec.min !== undefined && value < spec.min) throw new DistillConfigError(`${where}: ${value} is below the minimum ${spec.min}`);
    } else if (typeof value !== 'string' || !spec.values.includes(value)) {
      throw new DistillConfigError(`${where}: ${JSON.stringify(value)} is not one of ${spec.values.join(', ')}`);
    }
    resolved[key] = value as number | string;
  }
  return resolved;
}

/**
 * Builds the loss registered as `name` with `options` (defaults filled in). The returned
 * function checks that the inputs the loss declares are present. Errors name the config key
 * under `prefix` (e.g. `distill.method`, `distill.weight`).
 */
export function createDistillLoss(name: string, options: Record<string, unknown> = {}, prefix = 'distill'): DistillLossFn {
  const definition = getDistillLoss(name, `${prefix}.method`);
  const loss = definition.create(resolveDistillOptions(definition, options, prefix));
  return (inputs) => {
    for (const input of definition.inputs) {
      if (inputs[input] === undefined) throw new DistillConfigError(`${prefix}.method: ${name} needs input "${input}", which was not given`);
    }
    return loss(inputs);
  };
}
