// Rasterisation into an RGB float canvas (0..255, HWC). Floats until the end so that several
// translucent layers blend without rounding, then one pass adds noise and quantises to bytes.
import type { Shape } from './geometry.ts';
import type { Rng } from '../random.ts';

/** An RGB image being drawn, plus which labelled object owns each pixel (-1: none). */
export interface Canvas {
  width: number;
  height: number;
  /** [height * width * 3], values 0..255. */
  rgb: Float32Array;
  /** [height * width]: index of the object on top at each pixel, -1 for background/occluders. */
  owner: Int16Array;
}

export type Rgb = [number, number, number];

/** A new canvas, all black, no owners. */
export function createCanvas(width: number, height: number): Canvas {
  return { width, height, rgb: new Float32Array(width * height * 3), owner: new Int16Array(width * height).fill(-1) };
}

/** HSV (h in degrees, s and v in [0, 1]) to RGB in 0..255. */
export function hsv(h: number, s: number, v: number): Rgb {
  const hh = (((h % 360) + 360) % 360) / 60;
  const c = v * s;
  const x = c * (1 - Math.abs((hh % 2) - 1));
  const m = v - c;
  const [r, g, b] = hh < 1 ? [c, x, 0] : hh < 2 ? [x, c, 0] : hh < 3 ? [0, c, x] : hh < 4 ? [0, x, c] : hh < 5 ? [x, 0, c] : [c, 0, x];
  return [(r + m) * 255, (g + m) * 255, (b + m) * 255];
}

/** Fills the canvas with a linear gradient from c0 to c1 along direction `angle` (radians). */
export function fillGradient(canvas: Canvas, c0: Rgb, c1: Rgb, angle: number): void {
  const { width, height, rgb } = canvas;
  const dx = Math.cos(angle);
  const dy = Math.sin(angle);
  // Project the corners to normalise t to [0, 1] over the image.
  const proj = [0, width * dx, height * dy, width * dx + height * dy];
  const lo = Math.min(...proj);
  const span = Math.max(...proj) - lo || 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = ((x + 0.5) * dx + (y + 0.5) * dy - lo) / span;
      const i = (y * width + x) * 3;
      rgb[i] = c0[0] + (c1[0] - c0[0]) * t;
      rgb[i + 1] = c0[1] + (c1[1] - c0[1]) * t;
      rgb[i + 2] = c0[2] + (c1[2] - c0[2]) * t;
    }
  }
}

/** How a shape is painted: colour, opacity, lighting and its effect on the owner map. */
export interface Paint {
  colour: Rgb;
  /** Opacity in [0, 1]. */
  alpha: number;
  /** Edge softness in px (1 = anti-aliased hard edge, larger = blurry blob). */
  softness?: number;
  /** Linear shading: the colour is multiplied by 1 + shadeX * (x - cx) + shadeY * (y - cy), per px. */
  shadeX?: number;
  shadeY?: number;
  /** Pixels at least half covered become owned by this object (>= 0) or by nobody (-1, an occluder). */
  owner?: number;
  /** Draw a darker band this wide (px) just inside the edge. */
  outline?: number;
}

/** Draws `shape` onto the canvas, clipped to the image. */
export function drawShape(canvas: Canvas, shape: Shape, paint: Paint): void {
  const { width, height, rgb, owner } = canvas;
  const soft = paint.softness ?? 1;
  const [bx0, by0, bx1, by1] = shape.bounds;
  const x0 = Math.max(0, Math.floor(bx0 - soft));
  const y0 = Math.max(0, Math.floor(by0 - soft));
  const x1 = Math.min(width - 1, Math.ceil(bx1 + soft));
  const y1 = Math.min(height - 1, Math.ceil(by1 + soft));
  const cx = (bx0 + bx1) / 2;
  const cy = (by0 + by1) / 2;
  const sx = paint.shadeX ?? 0;
  const sy = paint.shadeY ?? 0;
  const outline = paint.outline ?? 0;
  const [r, g, b] = paint.colour;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      const d = shape.sdf(px, py);
      const cover = Math.min(1, Math.max(0, 0.5 - d / soft));
      if (cover <= 0) continue;
      let k = 1 + sx * (px - cx) + sy * (py - cy);
      if (outline > 0 && d > -outline) k *= 0.55;
      const a = cover * paint.alpha;
      const i = (y * width + x) * 3;
      rgb[i] += (r * k - rgb[i]) * a;
      rgb[i + 1] += (g * k - rgb[i + 1]) * a;
      rgb[i + 2] += (b * k - rgb[i + 2]) * a;
      if (paint.owner !== undefined && a >= 0.5) owner[y * width + x] = paint.owner;
    }
  }
}

// A fixed table of standard normal samples: noise looks up this table at positions from a
// cheap inline xorshift, several times faster than two Rng draws per channel value.
const NORMALS = (() => {
  const table = new Float32Array(1 << 16);
  // Any fixed seed: the table is part of the generator, like its other constants.
  let u = 0x9e3779b9;
  const uniform = () => {
    u ^= u << 13;
    u ^= u >>> 17;
    u ^= u << 5;
    return ((u >>> 0) + 0.5) / 4294967296;
  };
  for (let i = 0; i < table.length; i++) table[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return table;
})();

/**
 * Quantises the canvas to bytes after a smooth illumination change (x gain0..gain1 along
 * `angle`) and per-channel Gaussian noise of standard deviation `noise` grey levels.
 */
export function finish(canvas: Canvas, rng: Rng, noise: number, gain0: number, gain1: number, angle: number): Uint8Array {
  const { width, height, rgb } = canvas;
  const out = new Uint8Array(rgb.length);
  const dx = Math.cos(angle) / width;
  const dy = Math.sin(angle) / height;
  let s = rng.uint32() | 1; // xorshift32 state: never 0
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = Math.min(1, Math.max(0, 0.5 + (x - width / 2) * dx + (y - height / 2) * dy));
      const gain = gain0 + (gain1 - gain0) * t;
      const i = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        const v = rgb[i + c] * gain + NORMALS[s >>> 16] * noise + 0.5;
        out[i + c] = v <= 0 ? 0 : v >= 255 ? 255 : v | 0;
      }
    }
  }
  return out;
}
