import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './errors.ts';
import { applyOverrides, deepMerge, isMapping } from './overrides.ts';
import { configSchema, type KdConfig } from './schema.ts';

/** Reads a YAML file and the `_BASE_` files it names (paths relative to it), bases first. */
function readTree(path: string, seen: string[] = []): Record<string, unknown> {
  const file = resolve(path);
  if (seen.includes(file)) throw new ConfigError(`${file}: _BASE_ cycle (${[...seen, file].join(' -> ')})`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${path}: cannot read config (${(error as NodeJS.ErrnoException).code ?? error})`, { cause: error });
  }
  let tree: unknown;
  try {
    tree = YAML.parse(text) ?? {};
  } catch (error) {
    throw new ConfigError(`${path}: invalid YAML: ${(error as Error).message}`, { cause: error });
  }
  if (!isMapping(tree)) throw new ConfigError(`${path}: expected a YAML mapping at the top level`);
  const { _BASE_: bases, ...own } = tree;
  const baseList = bases === undefined ? [] : Array.isArray(bases) ? bases : [bases];
  let merged: Record<string, unknown> = {};
  for (const base of baseList) {
    if (typeof base !== 'string') throw new ConfigError(`${path}: _BASE_ must be a file name or a list of them`);
    merged = deepMerge(merged, readTree(resolve(dirname(file), base), [...seen, file]));
  }
  return deepMerge(merged, own);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const at = issue.path.length ? issue.path.join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (issue.path.length ? `${at}.${k}` : k));
    return `unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
  }
  return `${at}: ${issue.message}`;
}

/** Validates a config tree; `source` names it in errors (a file, or "config"). */
export function parseConfig(tree: unknown, source = 'config'): KdConfig {
  const result = configSchema.safeParse(tree);
  if (!result.success) {
    const lines = result.error.issues.map(describeIssue);
    throw new ConfigError(`${source}: ${lines.join('; ')}`);
  }
  const config = result.data;
  for (const [i, mask] of config.yolo_head.anchor_masks.entries()) {
    if (new Set(mask).size !== mask.length) throw new ConfigError(`${source}: yolo_head.anchor_masks.${i}: repeated anchor index`);
  }
  return config;
}

/** Loads a YAML config (with `_BASE_` files), applies `-o` overrides, validates it. */
export function loadConfig(path: string, overrides: readonly string[] = []): KdConfig {
  return parseConfig(applyOverrides(readTree(path), overrides), path);
}
