// Shapes shared by the VOC reader, the transforms, the loader and the trainer.

/** A box in pixels, [x1, y1, x2, y2], as written in VOC annotations (inclusive corners). */
export type PixelBox = [number, number, number, number];

/** One annotated object of a VOC file. */
export interface VocObject {
  name: string;
  bbox: PixelBox;
  /** Absent `<difficult>` reads as false. */
  difficult: boolean;
  truncated: boolean;
}

/** One image with its annotation, as read from a VOC dataset. */
export interface VocRecord {
  /** File stem of the image, e.g. "2008_000123"; unique within a dataset. */
  id: string;
  /** Absolute path of the JPEG. */
  imagePath: string;
  /** Absolute path of the XML, or null for unlabeled images. */
  annotationPath: string | null;
  /** From `<size>` of the annotation (0 when unknown; the decoder then fills it). */
  width: number;
  height: number;
  objects: VocObject[];
}

/** A decoded (and possibly augmented) image with its boxes, before batching. */
export interface DetectionSample {
  id: string;
  /** RGB, HWC, row-major, values 0..255 (Float32 after mixup/colour ops, Uint8 straight from decode). */
  pixels: Uint8Array | Float32Array;
  width: number;
  height: number;
  /** Pixel boxes [x1, y1, x2, y2] flattened, 4 per object. */
  boxes: Float32Array;
  /** Class index per object (into the dataset's class list). */
  classes: Int32Array;
  /** 1 where the object is difficult. */
  difficult: Uint8Array;
  /** Per-object loss weight: 1, or the mixup ratio for mixed images. */
  scores: Float32Array;
  /** false for an image without annotations (distillation's unlabeled data); absent means true. */
  labeled?: boolean;
}

/**
 * A training batch in the layout the YOLOv3 loss expects (PaddleDetection pads to 50 boxes).
 * images: [N, size, size, 3] normalised (ImageNet mean/std on [0, 1]), NHWC.
 * gtBox: [N, maxBoxes, 4] as (cx, cy, w, h) normalised to [0, 1]; padding rows are all 0.
 * gtClass: [N, maxBoxes]; gtScore: [N, maxBoxes], 0 on padding rows.
 * labeled: [N], 0 for unlabeled images (they get no detection loss, only distillation terms).
 */
export interface TrainBatch {
  ids: string[];
  size: number;
  maxBoxes: number;
  images: Float32Array;
  gtBox: Float32Array;
  gtClass: Int32Array;
  gtScore: Float32Array;
  labeled: Uint8Array;
}

/**
 * An evaluation batch: images resized (no aspect keep) to size x size and normalised;
 * origWidth/origHeight let detections be scaled back to the original pixels.
 */
export interface EvalBatch {
  ids: string[];
  size: number;
  images: Float32Array;
  origWidth: Int32Array;
  origHeight: Int32Array;
}

/** A problem found in a dataset: the file, what is wrong, and whether the record is unusable. */
export interface DataProblem {
  file: string;
  kind: 'missing-file' | 'corrupt-image' | 'malformed-xml' | 'bad-box' | 'unknown-class' | 'size-mismatch' | 'bad-list-line';
  message: string;
}

/** The 20 Pascal VOC classes, in the devkit's order. */
export const VOC_CLASSES = [
  'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor',
] as const;

/** ImageNet mean/std on [0, 1], as PaddleDetection's NormalizeImage. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
