import { fileURLToPath } from 'node:url';
import { loadConfig } from '@kd/config';
import { createYoloV3, saveCheckpoint } from '@kd/detection';

/** Overrides that make any detector config tiny (the --quick benchmarks). */
export const TINY_MODEL = ['backbone.width=0.125', 'yolo_head.width=0.0625', 'eval_reader.size=64', 'train_reader.sizes=[64]'];

/** A randomly initialised tiny ResNet34 teacher checkpoint in `dir` (--quick: the path, not the accuracy, is measured). */
export async function tinyTeacher(dir: string): Promise<string> {
  const config = loadConfig(fileURLToPath(new URL('../../../../configs/yolov3_r34_shapes.yml', import.meta.url)), TINY_MODEL);
  const model = createYoloV3(config);
  await saveCheckpoint(dir, model.store, config, 0, { extra: { classes: Array.from({ length: config.num_classes }, (_, i) => `class_${i}`) } });
  model.store.dispose();
  return dir;
}
