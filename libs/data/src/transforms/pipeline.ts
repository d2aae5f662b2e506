// The per-sample training augmentation of PaddleDetection's YOLOv3 reader, in its order:
// Mixup -> ColorDistort -> RandomExpand -> RandomCrop -> RandomFlip. (Decode comes before,
// RandomShape + NormalizeImage happen per batch in assembleTrainBatch.)
import type { DetectionSample } from '../types.ts';
import type { Rng } from '../random.ts';
import { mixup, MIXUP_DEFAULTS, type MixupOptions } from './mixup.ts';
import { colorDistort, COLOR_DISTORT_DEFAULTS, type ColorDistortOptions } from './color_distort.ts';
import { randomExpand, RANDOM_EXPAND_DEFAULTS, type RandomExpandOptions } from './random_expand.ts';
import { randomCrop, RANDOM_CROP_DEFAULTS, type RandomCropOptions } from './random_crop.ts';
import { randomFlip } from './random_flip.ts';

/** Which augmentations run, and their parameters (structured-clone safe: sent to workers). */
export interface AugmentOptions {
  mixup: boolean;
  /** Mixup only while epoch < mixupEpochs (ppdet: 250). */
  mixupEpochs: number;
  colorDistort: boolean;
  expand: boolean;
  crop: boolean;
  flip: boolean;
  flipProb: number;
  mixupParams: MixupOptions;
  colorParams: ColorDistortOptions;
  expandParams: RandomExpandOptions;
  cropParams: RandomCropOptions;
}

export const AUGMENT_DEFAULTS: AugmentOptions = {
  mixup: true,
  mixupEpochs: 250,
  colorDistort: true,
  expand: true,
  crop: true,
  flip: true,
  flipProb: 0.5,
  mixupParams: MIXUP_DEFAULTS,
  colorParams: COLOR_DISTORT_DEFAULTS,
  expandParams: RANDOM_EXPAND_DEFAULTS,
  cropParams: RANDOM_CROP_DEFAULTS,
};

/** No augmentation at all (only resize + normalise happen, per batch). */
export const AUGMENT_NONE: AugmentOptions = { ...AUGMENT_DEFAULTS, mixup: false, colorDistort: false, expand: false, crop: false, flip: false };

/** Augments one decoded sample; `partner` (another decoded sample) is mixed in when given. */
export function augmentSample(sample: DetectionSample, partner: DetectionSample | null, rng: Rng, options: AugmentOptions = AUGMENT_DEFAULTS): DetectionSample {
  let s = partner ? mixup(sample, partner, rng, options.mixupParams) : sample;
  if (options.colorDistort) s = colorDistort(s, rng, options.colorParams);
  if (options.expand) s = randomExpand(s, rng, options.expandParams);
  if (options.crop) s = randomCrop(s, rng, options.cropParams);
  if (options.flip) s = randomFlip(s, rng, options.flipProb);
  return s;
}
