import { z } from 'zod';
import { dataset, mobileNet, optimizer, positiveInt, resNet } from './schema.ts';

// A classifier trained on object crops of a VOC dataset (kd train / kd distill with
// `architecture: Classifier`): the classification-KD part of the distillation notebook. Same
// run keys, backbones, optimizer and dataset sections as the YOLOv3 config, so `-o` reads the same.

const reader = z.strictObject({
  batch_size: positiveInt.default(32),
  /**
   * Crop side in pixels. The backbones downsample by 32, so 32 leaves a 1x1 last feature map
   * (its 3x3 convs then see mostly padding); 48 keeps 2x2 at about half of 64's cost.
   */
  size: z.number().int().min(32).default(48),
  /** Context around each box, as a fraction of its width/height on every side. */
  context: z.number().min(0).max(1).default(0.1),
  /** Random horizontal flip of training crops. */
  flip: z.boolean().default(true),
});

/** Classification KD: `logit_l2` = weight * mean((s - t)^2); `soft_kl` = weight * T^2 * KL(p_t || p_s) at temperature T. */
const classifierDistill = z.strictObject({
  method: z.enum(['logit_l2', 'soft_kl']).default('soft_kl'),
  weight: z.number().min(0).default(1),
  temperature: z.number().positive().default(4),
});

export const classifierConfigSchema = z.strictObject({
  architecture: z.literal('Classifier'),
  num_classes: positiveInt,
  max_iters: positiveInt,
  snapshot_iter: positiveInt.default(500),
  log_iter: positiveInt.default(20),
  save_dir: z.string().default('output'),
  seed: z.number().int().nonnegative().default(0),
  backbone: z.discriminatedUnion('name', [mobileNet, resNet]),
  optimizer: optimizer.default(optimizer.parse({})),
  reader: reader.default(reader.parse({})),
  dataset,
  distill: classifierDistill.default(classifierDistill.parse({})),
});

/** A validated classifier config with every default filled in. */
export type ClassifierConfig = z.infer<typeof classifierConfigSchema>;
export type ClassifierDistillConfig = ClassifierConfig['distill'];
