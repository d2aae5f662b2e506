import YAML from 'yaml';
import { ConfigError } from './errors.ts';

type Tree = Record<string, unknown>;

/** True for plain objects (YAML mappings), false for arrays and scalars. */
export function isMapping(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep merge: mappings merge key by key, anything else in `over` replaces `base`. */
export function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    out[key] = isMapping(value) && isMapping(out[key]) ? deepMerge(out[key] as Tree, value) : value;
  }
  return out;
}

/**
 * Applies `-o key.path=value` overrides; values are read as YAML, so `-o max_iters=100`,
 * `-o use_fine_grained_loss=true` and `-o train_reader.sizes=[128,160]` all get their types.
 */
export function applyOverrides(tree: Tree, overrides: readonly string[]): Tree {
  let out = tree;
  for (const item of overrides) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ConfigError(`-o ${item}: expected key=value (e.g. -o max_iters=100)`);
    const path = item.slice(0, eq).trim().split('.');
    if (path.some((p) => p === '')) throw new ConfigError(`-o ${item}: empty key segment`);
    let value: unknown;
    try {
      value = YAML.parse(item.slice(eq + 1));
    } catch (error) {
      throw new ConfigError(`-o ${item}: value is not valid YAML`, { cause: error });
    }
    const patch: Tree = {};
    let cursor = patch;
    path.slice(0, -1).forEach((key) => { cursor = (cursor[key] = {}) as Tree; });
    cursor[path[path.length - 1]] = value ?? null;
    out = deepMerge(out, patch);
  }
  return out;
}
