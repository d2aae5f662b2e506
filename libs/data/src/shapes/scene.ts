// One procedurally drawn image of the built-in dataset and its VOC annotation.
//
// What makes it hard (so a small student visibly trails a large teacher): objects from 8 px to
// 0.6 of the image (all three YOLO scales), classes that differ only by colour or only by
// shape, class-coloured non-class shapes and class-shaped non-class colours as distractors,
// clutter (gradients, soft blobs, lines, strips), occlusion between objects and by occluders
// drawn on top, truncation at the borders, uneven lighting and sensor-like noise. What keeps
// it learnable: every class is a fixed shape in a fixed hue band well apart from the others,
// and boxes are exact (the visible extent, from the per-pixel owner map).
import type { PixelBox } from '../types.ts';
import { Rng } from '../random.ts';
import { CLASS_COLOURS, DISTRACTOR_COLOURS, NON_CLASS_COMBOS, SHAPE_CLASSES, ShapeKind } from './classes.ts';
import { circle, convexPolygon, ellipse, hexagram, place, regularPolygon, ring, segment, type Shape } from './geometry.ts';
import { createCanvas, drawShape, fillGradient, finish, hsv, type Canvas, type Rgb } from './raster.ts';

/** One labelled object of a rendered scene, as it will be written to the XML. */
export interface SceneObject {
  classIndex: number;
  name: string;
  /** VOC box: 1-based inclusive pixel corners of the visible extent. */
  bbox: PixelBox;
  truncated: boolean;
  difficult: boolean;
}

/** A rendered image: RGB bytes [height * width * 3] and its labelled objects. */
export interface Scene {
  width: number;
  height: number;
  pixels: Uint8Array;
  objects: SceneObject[];
}

/** Smallest object side drawn, px; objects are up to MAX_OBJECT_FRACTION of the longer image side. */
export const MIN_OBJECT_SIZE = 8;
export const MAX_OBJECT_FRACTION = 0.6;
// Labelling thresholds: less visible than this (fraction of the shape's area, or px) is not
// annotated at all; less than DIFFICULT_VISIBLE, or a visible box under DIFFICULT_SIDE px on
// its longer side, is annotated difficult (ignored by VOC mAP, like VOC's own hard cases).
const MIN_VISIBLE = 0.12;
const MIN_VISIBLE_PX = 12;
const DIFFICULT_VISIBLE = 0.4;
const DIFFICULT_SIDE = 10;

function logUniform(rng: Rng, lo: number, hi: number): number {
  return Math.exp(rng.uniform(Math.log(lo), Math.log(Math.max(lo, hi))));
}

/** A class shape of about `size` px extent centred at (cx, cy), with a small random rotation. */
function makeShape(kind: ShapeKind, cx: number, cy: number, size: number, rng: Rng): Shape {
  switch (kind) {
    case ShapeKind.circle:
      return circle(cx, cy, size / 2);
    case ShapeKind.square:
      // Rotation stays within +-11 degrees so a square never looks like a diamond.
      return convexPolygon(place([[-1, -1], [1, -1], [1, 1], [-1, 1]], cx, cy, size * 0.41, rng.uniform(-0.2, 0.2)));
    case ShapeKind.triangle:
      return convexPolygon(place(regularPolygon(3), cx, cy + size * 0.08, size * 0.58, rng.uniform(-0.2, 0.2)));
    case ShapeKind.diamond:
      return convexPolygon(place([[0, -1.2], [0.85, 0], [0, 1.2], [-0.85, 0]], cx, cy, size / 2.4, rng.uniform(-0.14, 0.14)));
    case ShapeKind.hexagon:
      return convexPolygon(place(regularPolygon(6), cx, cy, size / 2, rng.uniform(0, Math.PI / 3)));
    case ShapeKind.star:
      return hexagram(cx, cy, size / 2, rng.uniform(0, (2 * Math.PI) / 3));
  }
}

/** A colour near the given HSV: hue +-7 degrees, saturation and value scaled by 0.8..1.1. */
function jitter(rng: Rng, c: { h: number; s: number; v: number }): Rgb {
  return hsv(c.h + rng.uniform(-7, 7), Math.min(1, c.s * rng.uniform(0.85, 1.1)), Math.min(1, c.v * rng.uniform(0.8, 1.08)));
}

function anyColour(rng: Rng): Rgb {
  if (rng.bool(0.4)) return jitter(rng, rng.pick(Object.values(CLASS_COLOURS)));
  return hsv(rng.uniform(0, 360), rng.uniform(0.2, 0.9), rng.uniform(0.25, 0.95));
}

function shading(rng: Rng, size: number): { shadeX: number; shadeY: number } {
  return { shadeX: rng.uniform(-0.3, 0.3) / size, shadeY: rng.uniform(-0.3, 0.3) / size };
}

function background(canvas: Canvas, rng: Rng): void {
  const low = () => hsv(rng.uniform(0, 360), rng.uniform(0.03, 0.35), rng.uniform(0.3, 0.9));
  fillGradient(canvas, low(), low(), rng.uniform(0, 2 * Math.PI));
  const long = Math.max(canvas.width, canvas.height);
  const blobs = rng.int(2, 7);
  for (let i = 0; i < blobs; i++) {
    const a = rng.uniform(0.1, 0.45) * long;
    const shape = ellipse(rng.uniform(0, canvas.width), rng.uniform(0, canvas.height), a, a * rng.uniform(0.4, 1), rng.uniform(0, Math.PI));
    const colour = hsv(rng.uniform(0, 360), rng.uniform(0.1, 0.6), rng.uniform(0.25, 0.95));
    drawShape(canvas, shape, { colour, alpha: rng.uniform(0.15, 0.45), softness: rng.uniform(8, 30) });
  }
}

/** One non-class thing: a line, an elongated ellipse or strip, a ring, or a class shape in a wrong colour. */
function distractor(canvas: Canvas, rng: Rng, owner?: number): void {
  const long = Math.max(canvas.width, canvas.height);
  const cx = rng.uniform(0, canvas.width);
  const cy = rng.uniform(0, canvas.height);
  const alpha = rng.uniform(0.75, 1);
  const u = rng.next();
  let shape: Shape;
  let colour: Rgb;
  if (u < 0.25) {
    const len = rng.uniform(0.1, 0.7) * long;
    const t = rng.uniform(0, Math.PI);
    const dx = (Math.cos(t) * len) / 2;
    const dy = (Math.sin(t) * len) / 2;
    shape = segment(cx - dx, cy - dy, cx + dx, cy + dy, rng.uniform(0.5, 2.5));
    colour = anyColour(rng);
  } else if (u < 0.4) {
    // Aspect >= 2.5, so it is never mistaken for a circle.
    const a = rng.uniform(6, 0.25 * long);
    shape = ellipse(cx, cy, a, a / rng.uniform(2.5, 5), rng.uniform(0, Math.PI));
    colour = anyColour(rng);
  } else if (u < 0.5) {
    const len = rng.uniform(10, 0.4 * long);
    const w = len / rng.uniform(3, 7);
    shape = convexPolygon(place([[-len / 2, -w / 2], [len / 2, -w / 2], [len / 2, w / 2], [-len / 2, w / 2]], cx, cy, 1, rng.uniform(0, Math.PI)));
    colour = anyColour(rng);
  } else if (u < 0.6) {
    const r = rng.uniform(8, Math.max(9, 0.2 * long));
    shape = ring(cx, cy, r, r * rng.uniform(0.2, 0.35));
    colour = jitter(rng, rng.pick(Object.values(CLASS_COLOURS)));
  } else if (u < 0.8) {
    const size = logUniform(rng, MIN_OBJECT_SIZE, 0.4 * long);
    shape = makeShape(rng.pick(Object.values(ShapeKind)), cx, cy, size, rng);
    colour = jitter(rng, rng.pick(DISTRACTOR_COLOURS));
  } else {
    const size = logUniform(rng, MIN_OBJECT_SIZE, 0.4 * long);
    const combo = rng.pick(NON_CLASS_COMBOS);
    shape = makeShape(combo.shape, cx, cy, size, rng);
    colour = jitter(rng, CLASS_COLOURS[combo.colour]);
  }
  drawShape(canvas, shape, { colour, alpha, owner, ...shading(rng, Math.max(8, shape.bounds[2] - shape.bounds[0])) });
}

interface Placed {
  classIndex: number;
  shape: Shape;
  size: number;
}

function iou(a: number[], b: number[]): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

/** Chooses class objects: log-uniform sizes, centres anywhere (so some are cut by the border), limited overlap. */
function placeObjects(width: number, height: number, rng: Rng): Placed[] {
  const long = Math.max(width, height);
  const count = rng.int(1, 11);
  const placed: Placed[] = [];
  let area = 0;
  for (let k = 0; k < count; k++) {
    for (let attempt = 0; attempt < 12; attempt++) {
      const size = logUniform(rng, MIN_OBJECT_SIZE, MAX_OBJECT_FRACTION * long);
      const cx = rng.uniform(0, width);
      const cy = rng.uniform(0, height);
      const box = [cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2];
      if (area + size * size > 0.55 * width * height) continue;
      // Partial occlusion is wanted, near-total overlap of two boxes is not.
      if (placed.some((p) => iou(p.shape.bounds, box) > 0.4)) continue;
      const classIndex = rng.int(0, SHAPE_CLASSES.length);
      placed.push({ classIndex, shape: makeShape(SHAPE_CLASSES[classIndex].shape, cx, cy, size, rng), size });
      area += size * size;
      break;
    }
  }
  // Mostly large-first, so small objects are not all buried; sometimes any order.
  if (rng.bool(0.75)) placed.sort((a, b) => b.size - a.size);
  return placed;
}

/** Labels from the owner map: visible extent, truncation, and the difficult flag. */
function label(canvas: Canvas, placed: Placed[]): SceneObject[] {
  const { width, height, owner } = canvas;
  const n = placed.length;
  const count = new Int32Array(n);
  const minX = new Int32Array(n).fill(width);
  const minY = new Int32Array(n).fill(height);
  const maxX = new Int32Array(n).fill(-1);
  const maxY = new Int32Array(n).fill(-1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const k = owner[y * width + x];
      if (k < 0) continue;
      count[k]++;
      if (x < minX[k]) minX[k] = x;
      if (x > maxX[k]) maxX[k] = x;
      if (y < minY[k]) minY[k] = y;
      if (y > maxY[k]) maxY[k] = y;
    }
  }
  const objects: SceneObject[] = [];
  for (let k = 0; k < n; k++) {
    const visible = count[k] / placed[k].shape.area;
    if (count[k] < MIN_VISIBLE_PX || visible < MIN_VISIBLE) continue;
    const [bx0, by0, bx1, by1] = placed[k].shape.bounds;
    const truncated = bx0 < 0 || by0 < 0 || bx1 > width || by1 > height;
    const side = Math.max(maxX[k] - minX[k] + 1, maxY[k] - minY[k] + 1);
    const cls = SHAPE_CLASSES[placed[k].classIndex];
    objects.push({
      classIndex: placed[k].classIndex,
      name: cls.name,
      bbox: [minX[k] + 1, minY[k] + 1, maxX[k] + 1, maxY[k] + 1],
      truncated,
      difficult: visible < DIFFICULT_VISIBLE || side < DIFFICULT_SIDE,
    });
  }
  return objects;
}

/** Renders one image from `seed`; the longer side is `longSide` px, the shorter 0.75..1 of it. */
export function renderScene(seed: number, longSide: number): Scene {
  const rng = new Rng(seed);
  const short = Math.round(longSide * rng.uniform(0.75, 1));
  const landscape = rng.bool(0.6);
  const width = landscape ? longSide : short;
  const height = landscape ? short : longSide;
  const canvas = createCanvas(width, height);
  // Clutter scales with the image area (relative to 320 x 240, the default size).
  const areaScale = Math.max(0.3, (width * height) / (320 * 240));

  background(canvas, rng);
  const under = Math.round(rng.uniform(3, 12) * areaScale);
  for (let i = 0; i < under; i++) distractor(canvas, rng);

  const placed = placeObjects(width, height, rng);
  placed.forEach((p, k) => {
    const base = CLASS_COLOURS[SHAPE_CLASSES[p.classIndex].colour];
    drawShape(canvas, p.shape, {
      colour: jitter(rng, base),
      alpha: 1,
      owner: k,
      outline: rng.bool(0.3) && p.size >= 16 ? rng.uniform(1, 2) : 0,
      ...shading(rng, p.size),
    });
  });

  // Occluders on top take pixels away from objects (owner -1).
  const over = Math.round(rng.int(0, 4) * areaScale);
  for (let i = 0; i < over; i++) distractor(canvas, rng, -1);

  const objects = label(canvas, placed);
  const pixels = finish(canvas, rng, rng.uniform(2, 10), rng.uniform(0.75, 1.15), rng.uniform(0.75, 1.15), rng.uniform(0, 2 * Math.PI));
  return { width, height, pixels, objects };
}
