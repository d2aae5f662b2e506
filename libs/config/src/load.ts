import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './errors.ts';
import { applyOverrides, deepMerge, isMapping } from './overrides.ts';
import { classifierConfigSchema, type ClassifierConfig } from './classifier_schema.ts';
import { configSchema, type KdConfig } from './schema.ts';
import { keysAt, nearestKey } from './suggest.ts';

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

/** The `-o key=value` items that set `key` or a key inside it. */
function overridesOf(key: string, overrides: readonly string[]): string[] {
  return overrides.filter((o) => {
    const k = o.slice(0, o.indexOf('=')).trim();
    return k === key || k.startsWith(`${key}.`) || key.startsWith(`${k}.`);
  });
}

/** One problem, blamed on the `-o` override that set the key when one did, with the nearest known key for a misspelt one. */
function describeIssue(schema: z.ZodType, issue: z.core.$ZodIssue, source: string, overrides: readonly string[]): string {
  const at = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => {
      const key = at ? `${at}.${k}` : k;
      const nearest = nearestKey(k, keysAt(schema, issue.path));
      const hint = nearest ? ` (did you mean ${at ? `${at}.` : ''}${nearest}?)` : '';
      const blamed = overridesOf(key, overrides);
      return `${source}: ${blamed.length ? `${blamed.map((o) => `-o ${o}`).join(', ')}: ` : ''}unknown key ${key}${hint}`;
    }).join('; ');
  }
  const blamed = at ? overridesOf(at, overrides) : [];
  return `${source}: ${blamed.length ? `${blamed.map((o) => `-o ${o}`).join(', ')}: ` : ''}${at || '(top level)'}: ${issue.message}`;
}

/** Runs a schema over a config tree; a failure lists every bad key, each blamed on the file (`source`) or the -o override that set it. */
function validate<S extends z.ZodType>(schema: S, tree: unknown, source: string, overrides: readonly string[] = []): z.infer<S> {
  const result = schema.safeParse(tree);
  if (!result.success) throw new ConfigError(result.error.issues.map((i) => describeIssue(schema, i, source, overrides)).join('; '));
  return result.data;
}

/** Validates a config tree; `source` names it in errors (a file, or "config"). */
export function parseConfig(tree: unknown, source = 'config', overrides: readonly string[] = []): KdConfig {
  if (isMapping(tree) && tree.architecture === 'Classifier') {
    throw new ConfigError(`${source}: architecture: Classifier configs are for kd train / kd distill; this command needs a YOLOv3 config`);
  }
  const config = validate(configSchema, tree, source, overrides);
  for (const [i, mask] of config.yolo_head.anchor_masks.entries()) {
    if (new Set(mask).size !== mask.length) throw new ConfigError(`${source}: yolo_head.anchor_masks.${i}: repeated anchor index`);
  }
  if (config.weights && config.pretrain_backbone) {
    throw new ConfigError(`${source}: weights and pretrain_backbone are both set; weights already sets the backbone (keep one)`);
  }
  return config;
}

/** Loads a YAML config (with `_BASE_` files), applies `-o` overrides, validates it. */
export function loadConfig(path: string, overrides: readonly string[] = []): KdConfig {
  return parseConfig(applyOverrides(readTree(path), overrides), path, overrides);
}

/** Validates a classifier config tree (`architecture: Classifier`); `source` names it in errors. */
export function parseClassifierConfig(tree: unknown, source = 'config', overrides: readonly string[] = []): ClassifierConfig {
  return validate(classifierConfigSchema, tree, source, overrides);
}

/** Loads a classifier config as loadConfig does a YOLOv3 one (`_BASE_`, `-o` overrides). */
export function loadClassifierConfig(path: string, overrides: readonly string[] = []): ClassifierConfig {
  return parseClassifierConfig(applyOverrides(readTree(path), overrides), path, overrides);
}

export const ARCHITECTURES = ['YOLOv3', 'Classifier'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

/**
 * The architecture a config file (after `_BASE_` and `-o`) declares, so a command can pick the
 * loader; YOLOv3 when absent (as configSchema's default). Unknown values are a ConfigError.
 */
export function configArchitecture(path: string, overrides: readonly string[] = []): Architecture {
  const value = applyOverrides(readTree(path), overrides).architecture ?? 'YOLOv3';
  if (!(ARCHITECTURES as readonly unknown[]).includes(value)) {
    throw new ConfigError(`${path}: architecture: ${JSON.stringify(value)} is not one of ${ARCHITECTURES.join(', ')}`);
  }
  return value as Architecture;
}
