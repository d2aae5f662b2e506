import { basename } from 'node:path';
import type { KdConfig } from '@kd/config';
import { createYoloV3, loadCheckpoint, readCheckpointConfig, type YoloV3 } from '@kd/detection';
import type { TeacherSpec } from '@kd/proto';
import { describeTeacher } from './teacher_spec.ts';

/** A frozen teacher detector loaded from a checkpoint folder, with the spec it is served under. */
export interface LoadedTeacher {
  model: YoloV3;
  config: KdConfig;
  dir: string;
  step: number;
  /** sha256 hex of weights.bin. */
  contentHash: string;
  classNames: string[];
  spec: TeacherSpec;
  specHash: string;
}

/**
 * Loads a teacher from a checkpoint folder alone (model.json holds its config): the model in
 * inference use, its class names (checkpoint `classes`, else class_0..) and its TeacherSpec.
 * The spec's input size is the config's eval size. Throws CheckpointError naming the file.
 */
export function loadTeacherModel(dir: string, config: KdConfig = readCheckpointConfig(dir)): LoadedTeacher {
  const model = createYoloV3(config);
  const loaded = loadCheckpoint(dir, model.store, config);
  const saved = loaded.extra.classes;
  const classNames = Array.isArray(saved) && saved.length === config.num_classes && saved.every((c) => typeof c === 'string')
    ? (saved as string[])
    : Array.from({ length: config.num_classes }, (_, i) => `class_${i}`);
  const { spec, specHash } = describeTeacher({
    modelName: basename(loaded.dir), contentHash: loaded.contentHash, head: model.spec, classNames, inputSize: config.eval_reader.size,
  });
  return { model, config, dir: loaded.dir, step: loaded.step, contentHash: loaded.contentHash, classNames, spec, specHash };
}
