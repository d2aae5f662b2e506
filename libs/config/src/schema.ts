import { z } from 'zod';

// The config mirrors PaddleDetection's YOLOv3 VOC configs: top-level run keys with their
// names (max_iters, snapshot_iter, use_fine_grained_loss, ...) so `-o` overrides read the
// same, plus one section per part. Every object is strict: a misspelt key is an error.

export const positiveInt = z.number().int().positive();
const anchor = z.tuple([z.number().positive(), z.number().positive()]);

export const mobileNet = z.strictObject({
  name: z.literal('MobileNetV1'),
  /** Channel multiplier on MobileNetV1's 32..1024 (PaddleDetection's conv_group_scale is 1). */
  width: z.number().positive().default(1),
});

export const resNet = z.strictObject({
  name: z.literal('ResNet'),
  depth: z.union([z.literal(18), z.literal(34)]),
  /** Channel multiplier on ResNet's 64..512. */
  width: z.number().positive().default(1),
});

const yoloHead = z.strictObject({
  /** Multiplier on the head's 512/256/128 channels. */
  width: z.number().positive().default(1),
  anchors: z.array(anchor).length(9).default([
    [10, 13], [16, 30], [33, 23], [30, 61], [62, 45], [59, 119], [116, 90], [156, 198], [373, 326],
  ]),
  anchor_masks: z.array(z.array(z.number().int().min(0).max(8)).length(3)).length(3).default([[6, 7, 8], [3, 4, 5], [0, 1, 2]]),
  ignore_thresh: z.number().min(0).max(1).default(0.7),
  label_smooth: z.boolean().default(false),
  /**
   * Initial bias of the objectness channels (PaddleDetection: 0). A negative prior such as
   * -4.6 (sigmoid 0.01) tames the thousands of negatives' first gradients when training
   * from scratch, as RetinaNet's prior initialisation does.
   */
  obj_bias_init: z.number().default(0),
});

const nms = z.strictObject({
  score_threshold: z.number().min(0).default(0.01),
  nms_top_k: positiveInt.default(1000),
  keep_top_k: positiveInt.default(100),
  nms_threshold: z.number().min(0).max(1).default(0.45),
});

export const optimizer = z.strictObject({
  base_lr: z.number().positive().default(0.001),
  momentum: z.number().min(0).max(1).default(0.9),
  /** L2 decay coefficient (PaddleDetection's regularizer factor). */
  weight_decay: z.number().min(0).default(0.0005),
  /** Piecewise decay: the lr is multiplied by gamma at each boundary step. */
  boundaries: z.array(z.number().int().nonnegative()).default([55000, 62000]),
  gamma: z.number().positive().default(0.1),
  warmup_steps: z.number().int().nonnegative().default(1000),
  /** lr factor at step 0 of the linear warmup. */
  warmup_start_factor: z.number().min(0).max(1).default(0),
});

const augment = z.strictObject({
  mixup: z.boolean().default(true),
  color_distort: z.boolean().default(true),
  expand: z.boolean().default(true),
  crop: z.boolean().default(true),
  flip: z.boolean().default(true),
});

const trainReader = z.strictObject({
  batch_size: positiveInt.default(8),
  /** Multi-scale training: one size per batch, drawn from this list (multiples of 32). */
  sizes: z.array(positiveInt.refine((n) => n % 32 === 0, 'must be a multiple of 32')).min(1)
    .default([320, 352, 384, 416, 448, 480, 512, 544, 576, 608]),
  /** Mixup is applied during the first mixup_epochs epochs. */
  mixup_epochs: z.number().int().nonnegative().default(250),
  max_boxes: positiveInt.default(50),
  workers: z.number().int().nonnegative().default(2),
  prefetch: positiveInt.default(4),
  /** Images without annotations mixed into each batch by kd distill (they get only distillation terms). */
  unlabeled: z.strictObject({
    /** A folder of images, e.g. data/shapes/unlabeled. */
    dir: z.string().min(1),
    /** Fraction of every batch drawn from it (rounded; at least one labeled image stays). */
    ratio: z.number().min(0).max(1).default(0.25),
  }).optional(),
  augment: augment.default(augment.parse({})),
});

const evalReader = z.strictObject({
  batch_size: positiveInt.default(8),
  size: positiveInt.refine((n) => n % 32 === 0, 'must be a multiple of 32').default(608),
});

export const dataset = z.strictObject({
  /** A VOC directory (VOCdevkit root, VOC20xx folder, or a folder holding them). */
  dir: z.string().min(1),
  train_list: z.string().default('trainval.txt'),
  test_list: z.string().default('test.txt'),
  /** Class names; when absent, label_list.txt beside the data, else the 20 VOC classes. */
  classes: z.array(z.string().min(1)).optional(),
});

/**
 * Distillation (kd distill). `method` picks a loss of libs/distill's registry; the other keys
 * are that loss's options (weight, lambda_D, ...), checked against it when the loss is built,
 * or sections named after a method holding that method's defaults (`l2: {weight: 2}`).
 * Without `method`, use_fine_grained_loss picks fine_grained, else l2, as PaddleDetection.
 */
const optionValue = z.union([z.number(), z.string()]);
const distill = z.object({
  method: z.string().optional(),
}).catchall(z.union([optionValue, z.record(z.string(), optionValue)]));

/**
 * Where kd distill's soft targets come from when the teacher is a service (--teacher grpc://...):
 * how far ahead they are requested and how they travel; and, for any teacher, where they are kept.
 */
const teacher = z.strictObject({
  /** Batches whose soft targets are requested ahead of the one being trained (0: on demand). */
  prefetch: z.number().int().nonnegative().default(2),
  /** Element type of the images sent to the teacher: float16 halves the bytes. */
  input_dtype: z.enum(['float16', 'float32']).default('float16'),
  /** How the teacher returns its outputs: fp32, fp16 (half the bytes) or sparse (anchors with objectness >= sparse_threshold). */
  output_encoding: z.enum(['fp32', 'fp16', 'sparse']).default('fp32'),
  /** Objectness probability (0..1) below which a sparse answer leaves an anchor out. */
  sparse_threshold: z.number().min(0).max(1).default(0.01),
  /** Deadline of one request, seconds: a replica that misses it is failed over. */
  timeout_s: z.number().positive().default(60),
  /**
   * A folder where the teacher's answers are kept by batch (any teacher, in-process or a
   * service): runs on the same batches (same seed and data, e.g. a sweep of distill weights)
   * compute each answer once. Unset: none kept.
   */
  cache_dir: z.string().min(1).optional(),
});

export const configSchema = z.strictObject({
  architecture: z.literal('YOLOv3').default('YOLOv3'),
  num_classes: positiveInt,
  max_iters: positiveInt,
  snapshot_iter: positiveInt.default(2000),
  log_iter: positiveInt.default(20),
  save_dir: z.string().default('output'),
  /** A checkpoint whose weights kd train / kd distill start from (PaddleDetection's pretrain_weights; -r resumes instead). */
  weights: z.string().optional(),
  /**
   * A checkpoint (a classifier of the dataset's crops, configs/classifier_*.yml, or a detector)
   * whose backbone tensors the detector's backbone starts from; neck and head start fresh. The
   * analogue of PaddleDetection's ImageNet-pretrained backbones. Not with `weights`.
   */
  pretrain_backbone: z.string().optional(),
  metric: z.literal('VOC').default('VOC'),
  map_type: z.enum(['11point', 'area', 'integral']).default('11point'),
  use_fine_grained_loss: z.boolean().default(false),
  seed: z.number().int().nonnegative().default(0),
  /**
   * Data-parallel threads for kd train: each batch is split into this many shards, trained at
   * once on separate backend instances (one per core with wasm), gradients averaged.
   */
  replicas: positiveInt.default(1),
  backbone: z.discriminatedUnion('name', [mobileNet, resNet]),
  yolo_head: yoloHead.default(yoloHead.parse({})),
  nms: nms.default(nms.parse({})),
  optimizer: optimizer.default(optimizer.parse({})),
  train_reader: trainReader.default(trainReader.parse({})),
  eval_reader: evalReader.default(evalReader.parse({})),
  dataset,
  distill: distill.default({}),
  teacher: teacher.default(teacher.parse({})),
});

/** A validated config with every default filled in. */
export type KdConfig = z.infer<typeof configSchema>;
export type BackboneConfig = KdConfig['backbone'];
export type YoloHeadConfig = KdConfig['yolo_head'];
export type NmsConfig = KdConfig['nms'];
export type OptimizerConfig = KdConfig['optimizer'];
export type DistillConfig = KdConfig['distill'];
