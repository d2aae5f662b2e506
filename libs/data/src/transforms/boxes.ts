// Box conventions of the transforms.
//
// VOC files (and VocRecord) hold 1-based inclusive pixel corners: a box covering the pixels
// with 0-based columns 0..9 is xmin=1, xmax=10. Inside DetectionSample the transforms use
// continuous pixel-edge coordinates instead: pixel i spans [i, i + 1), the image spans
// [0, width], and that box is [0, 10] (x1 = xmin - 1, x2 = xmax). Then every geometric
// transform is exact arithmetic with no +-1: a horizontal flip is x1' = w - x2, x2' = w - x1
// (PaddleDetection's x1' = w - x2 - 1 on 0-based inclusive corners, the same pixels), resizing
// multiplies, cropping subtracts, and width = x2 - x1 is the true pixel extent.
import type { DetectionSample, PixelBox } from '../types.ts';

/** VOC 1-based inclusive corners -> pixel-edge coordinates (see the file comment). */
export function vocToEdges([xmin, ymin, xmax, ymax]: PixelBox): PixelBox {
  return [xmin - 1, ymin - 1, xmax, ymax];
}

/** Pixel-edge coordinates -> VOC 1-based inclusive corners (for writing detections as VOC boxes). */
export function edgesToVoc([x1, y1, x2, y2]: PixelBox): PixelBox {
  return [x1 + 1, y1 + 1, x2, y2];
}

/** Keeps the objects of `sample` whose index is in `keep` (boxes, classes, difficult, scores together). */
export function selectObjects(sample: DetectionSample, keep: readonly number[]): DetectionSample {
  const boxes = new Float32Array(keep.length * 4);
  keep.forEach((k, i) => boxes.set(sample.boxes.subarray(k * 4, k * 4 + 4), i * 4));
  return {
    ...sample,
    boxes,
    classes: Int32Array.from(keep, (k) => sample.classes[k]),
    difficult: Uint8Array.from(keep, (k) => sample.difficult[k]),
    scores: Float32Array.from(keep, (k) => sample.scores[k]),
  };
}

/** Indices of the objects whose box has positive width and height. */
export function nonEmptyBoxes(boxes: Float32Array): number[] {
  const keep: number[] = [];
  for (let k = 0; k < boxes.length / 4; k++) {
    if (boxes[k * 4 + 2] > boxes[k * 4] && boxes[k * 4 + 3] > boxes[k * 4 + 1]) keep.push(k);
  }
  return keep;
}
