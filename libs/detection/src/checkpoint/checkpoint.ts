import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { parseClassifierConfig, parseConfig, type ClassifierConfig, type KdConfig } from '@kd/config';
import { float32ToFloat16 } from '@kd/engine';
import type { ParamStore } from '../model/params.ts';
import { modelDefinition } from '../model/yolov3.ts';
import type { MomentumOptimizer } from '../train/momentum.ts';

export const CHECKPOINT_FORMAT = 'kd-checkpoint/1';

/** The configs a checkpoint can hold: a YOLOv3 detector or a crop classifier. */
export type ModelConfig = KdConfig | ClassifierConfig;

/** The parts of a config that define the model's tensors (a checkpoint must match them). */
function definitionOf(config: ModelConfig) {
  if (config.architecture === 'YOLOv3') return modelDefinition(config);
  return { architecture: config.architecture, num_classes: config.num_classes, backbone: config.backbone };
}

/** A checkpoint that is missing, corrupt or made for another model; the message names the file. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** model.json: tfjs' weights-manifest layout plus the config, step and a content hash. */
export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  step: number;
  /** sha256 of weights.bin; also identifies the model to teachers' clients. */
  content_hash: string;
  model_definition: ReturnType<typeof definitionOf>;
  config: ModelConfig;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  /** content_hash: sha256 of optimizer.bin (absent in checkpoints written before it was added). */
  optimizer?: { type: 'momentum'; paths: string[]; weights: tf.io.WeightsManifestEntry[]; content_hash?: string };
  /** Anything the trainer wants back on resume (e.g. best mAP so far). */
  extra?: Record<string, unknown>;
}

export interface LoadedCheckpoint<C extends ModelConfig = KdConfig> {
  dir: string;
  step: number;
  contentHash: string;
  config: C;
  extra: Record<string, unknown>;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every model tensor (weights and BN statistics) by parameter name. */
function namedParams(store: ParamStore): tf.NamedTensorMap {
  return Object.fromEntries([...store.params.values()].map((p) => [p.name, p.variable]));
}

/**
 * tfjs' weights format with float16 quantization (half the bytes; tf.io.decodeWeights turns
 * them back into float32): for shipping checkpoints, not for resuming (no optimizer state).
 */
async function encodeWeightsFloat16(tensors: tf.NamedTensorMap): Promise<{ data: ArrayBuffer; specs: tf.io.WeightsManifestEntry[] }> {
  const parts: Uint16Array[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    parts.push(float32ToFloat16(await t.data() as Float32Array));
    specs.push({ name, shape: t.shape, dtype: 'float32', quantization: { dtype: 'float16' } });
  }
  const out = new Uint16Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return { data: out.buffer, specs };
}

/**
 * Saves weights (and optimizer state) in tfjs' weights format under `dir`, atomically: it is
 * written beside as `dir.tmp` and renamed over, so a crash never leaves a half checkpoint.
 */
export async function saveCheckpoint(
  dir: string, store: ParamStore, config: ModelConfig, step: number,
  options: { optimizer?: MomentumOptimizer; extra?: Record<string, unknown>; weightsDtype?: 'float32' | 'float16' } = {},
): Promise<string> {
  const target = resolve(dir);
  const tmp = `${target}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const weights = options.weightsDtype === 'float16'
    ? await encodeWeightsFloat16(namedParams(store))
    : await tf.io.encodeWeights(namedParams(store));
  const weightBytes = new Uint8Array(weights.data as ArrayBuffer);
  writeFileSync(join(tmp, 'weights.bin'), weightBytes);
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    step,
    content_hash: sha256(weightBytes),
    model_definition: definitionOf(config),
    config,
    weightsManifest: [{ paths: ['weights.bin'], weights: weights.specs }],
    extra: options.extra,
  };
  if (options.optimizer && options.optimizer.velocities.size > 0) {
    const state = await tf.io.encodeWeights(Object.fromEntries(options.optimizer.velocities));
    const stateBytes = new Uint8Array(state.data as ArrayBuffer);
    writeFileSync(join(tmp, 'optimizer.bin'), stateBytes);
    manifest.optimizer = { type: 'momentum', paths: ['optimizer.bin'], weights: state.specs, content_hash: sha256(stateBytes) };
  }
  writeFileSync(join(tmp, 'model.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  const old = `${target}.old`;
  if (existsSync(target)) renameSync(target, old);
  mkdirSync(dirname(target), { recursive: true });
  renameSync(tmp, target);
  rmSync(old, { recursive: true, force: true });
  return manifest.content_hash;
}

/** Lists the model-definition keys on which two definitions differ ("backbone.depth: 34 vs 18"). */
function definitionDiff(a: unknown, b: unknown, path = ''): string[] {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => definitionDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [`${path}: ${JSON.stringify(a)} in the checkpoint, ${JSON.stringify(b)} in the config`];
}

/** model.json of a checkpoint folder, checked to be kd's format. */
export function readManifest(dir: string): CheckpointManifest {
  const file = join(dir, 'model.json');
  if (!existsSync(file)) throw new CheckpointError(`${dir}: not a checkpoint (no model.json)`);
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CheckpointError(`${file}: unreadable (${(error as Error).message})`, { cause: error });
  }
  if (manifest.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`${file}: format ${JSON.stringify(manifest.format)}, expected ${CHECKPOINT_FORMAT}`);
  return manifest;
}

/** The tensors of weights.bin by name, after checking its sha256 against model.json. */
export function readVerifiedWeights(root: string, manifest: CheckpointManifest): tf.NamedTensorMap {
  const weightsFile = join(root, manifest.weightsManifest[0].paths[0]);
  if (!existsSync(weightsFile)) throw new CheckpointError(`${root}: no ${manifest.weightsManifest[0].paths[0]} (model.json lists it); the checkpoint is incomplete`);
  const bytes = readFileSync(weightsFile);
  const hash = sha256(bytes);
  if (hash !== manifest.content_hash) throw new CheckpointError(`${weightsFile}: content hash ${hash.slice(0, 12)} does not match model.json (${manifest.content_hash.slice(0, 12)}); the file is corrupt`);
  return tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), manifest.weightsManifest[0].weights);
}

/** The config a checkpoint was trained with, a detector's or a classifier's (by its architecture). */
export function readCheckpointModelConfig(dir: string): ModelConfig {
  const config = readManifest(resolve(dir)).config as { architecture?: string };
  const source = join(dir, 'model.json');
  return config.architecture === 'Classifier' ? parseClassifierConfig(config, source) : parseConfig(config, source);
}

/** Reads the config a checkpoint was trained with (for `kd eval -w` without a config). */
export function readCheckpointConfig(dir: string): KdConfig {
  return parseConfig(readManifest(resolve(dir)).config, join(dir, 'model.json'));
}

/**
 * Loads a checkpoint into a model built from `config`, after checking the content hash and
 * that the checkpoint was made for the same model definition (architecture, backbone, head, classes).
 */
export function loadCheckpoint<C extends ModelConfig = KdConfig>(
  dir: string, store: ParamStore, config: C, optimizer?: MomentumOptimizer,
): LoadedCheckpoint<C> {
  const root = resolve(dir);
  const manifest = readManifest(root);
  const diff = definitionDiff(manifest.model_definition, definitionOf(config));
  if (diff.length > 0) throw new CheckpointError(`${root} was saved for a different model: ${diff.join('; ')}`);
  const tensors = readVerifiedWeights(root, manifest);
  try {
    for (const p of store.params.values()) {
      const t = tensors[p.name];
      if (t == null) throw new CheckpointError(`${root}: no tensor ${p.name}`);
      if (!tf.util.arraysEqual(t.shape, p.variable.shape)) throw new CheckpointError(`${root}: ${p.name} has shape [${t.shape}], the model [${p.variable.shape}]`);
    }
    for (const p of store.params.values()) p.variable.assign(tensors[p.name]);
  } finally {
    tf.dispose(Object.values(tensors));
  }
  if (optimizer && manifest.optimizer) {
    const stateFile = join(root, manifest.optimizer.paths[0]);
    if (!existsSync(stateFile)) throw new CheckpointError(`${stateFile}: missing (model.json lists it); the checkpoint is incomplete`);
    const state = readFileSync(stateFile);
    const stateHash = sha256(state);
    if (manifest.optimizer.content_hash && stateHash !== manifest.optimizer.content_hash) {
      throw new CheckpointError(`${stateFile}: content hash ${stateHash.slice(0, 12)} does not match model.json (${manifest.optimizer.content_hash.slice(0, 12)}); the file is corrupt`);
    }
    const velocities = tf.io.decodeWeights(state.buffer.slice(state.byteOffset, state.byteOffset + state.byteLength), manifest.optimizer.weights);
    optimizer.dispose();
    for (const [name, t] of Object.entries(velocities)) {
      optimizer.velocities.set(name, tf.variable(t, false, `${store.params.get(name)?.variable.name ?? name}.velocity`));
      t.dispose();
    }
  }
  return { dir: root, step: manifest.step, contentHash: manifest.content_hash, config: manifest.config as C, extra: manifest.extra ?? {} };
}
