// Shapes as signed distance functions (pixels; negative inside). A distance rather than an
// inside test gives cheap anti-aliasing (coverage = 0.5 - distance, clamped) and soft edges.

/** A drawable shape: its distance function, its extent (may reach outside the image), its area in px^2. */
export interface Shape {
  sdf: (x: number, y: number) => number;
  /** [minX, minY, maxX, maxY] in continuous pixel coordinates (pixel i covers [i, i + 1)). */
  bounds: [number, number, number, number];
  area: number;
}

type Point = [number, number];

/** A disc of radius r centred at (cx, cy). */
export function circle(cx: number, cy: number, r: number): Shape {
  return {
    sdf: (x, y) => Math.hypot(x - cx, y - cy) - r,
    bounds: [cx - r, cy - r, cx + r, cy + r],
    area: Math.PI * r * r,
  };
}

/** An annulus of outer radius r and band width `thickness`. */
export function ring(cx: number, cy: number, r: number, thickness: number): Shape {
  const mid = r - thickness / 2;
  return {
    sdf: (x, y) => Math.abs(Math.hypot(x - cx, y - cy) - mid) - thickness / 2,
    bounds: [cx - r, cy - r, cx + r, cy + r],
    area: Math.PI * (r * r - (r - thickness) * (r - thickness)),
  };
}

/** Points of a unit-free polygon placed at (cx, cy), scaled by `scale` and rotated by `angle` radians. */
export function place(points: Point[], cx: number, cy: number, scale: number, angle: number): Point[] {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return points.map(([px, py]) => [cx + scale * (c * px - s * py), cy + scale * (s * px + c * py)]);
}

/** Vertices of a regular n-gon of circumradius 1, the first one pointing up (-y). */
export function regularPolygon(n: number): Point[] {
  return Array.from({ length: n }, (_, i): Point => {
    const t = -Math.PI / 2 + (2 * Math.PI * i) / n;
    return [Math.cos(t), Math.sin(t)];
  });
}

function boundsOf(points: Point[]): [number, number, number, number] {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

/** A convex polygon (vertices in either winding). Its distance is exact inside, a close under-estimate outside corners. */
export function convexPolygon(points: Point[]): Shape {
  let signedArea = 0;
  for (let i = 0; i < points.length; i++) {
    const [x1, y1] = points[i];
    const [x2, y2] = points[(i + 1) % points.length];
    signedArea += x1 * y2 - x2 * y1;
  }
  const sign = signedArea > 0 ? 1 : -1;
  // Outward unit normal and offset per edge: distance to edge line = n.p - offset.
  const nx: number[] = [];
  const ny: number[] = [];
  const off: number[] = [];
  for (let i = 0; i < points.length; i++) {
    const [x1, y1] = points[i];
    const [x2, y2] = points[(i + 1) % points.length];
    const len = Math.hypot(x2 - x1, y2 - y1);
    const ex = (sign * (y2 - y1)) / len;
    const ey = (sign * -(x2 - x1)) / len;
    nx.push(ex);
    ny.push(ey);
    off.push(ex * x1 + ey * y1);
  }
  const n = points.length;
  return {
    sdf: (x, y) => {
      let d = -Infinity;
      for (let i = 0; i < n; i++) {
        const e = nx[i] * x + ny[i] * y - off[i];
        if (e > d) d = e;
      }
      return d;
    },
    bounds: boundsOf(points),
    area: Math.abs(signedArea) / 2,
  };
}

/** Union of shapes; `area` must be given because overlaps are not known in general. */
export function union(shapes: Shape[], area: number): Shape {
  return {
    sdf: (x, y) => {
      let d = Infinity;
      for (const s of shapes) d = Math.min(d, s.sdf(x, y));
      return d;
    },
    bounds: [
      Math.min(...shapes.map((s) => s.bounds[0])),
      Math.min(...shapes.map((s) => s.bounds[1])),
      Math.max(...shapes.map((s) => s.bounds[2])),
      Math.max(...shapes.map((s) => s.bounds[3])),
    ],
    area,
  };
}

/** A six-pointed star (two equilateral triangles) of circumradius r; area sqrt(3) r^2. */
export function hexagram(cx: number, cy: number, r: number, angle: number): Shape {
  const up = convexPolygon(place(regularPolygon(3), cx, cy, r, angle));
  const down = convexPolygon(place(regularPolygon(3), cx, cy, r, angle + Math.PI));
  return union([up, down], Math.sqrt(3) * r * r);
}

/** A thick line segment (capsule) of the given half width. */
export function segment(x1: number, y1: number, x2: number, y2: number, halfWidth: number): Shape {
  const dx = x2 - x1;
  const dy = y2 - y1;
  const len2 = dx * dx + dy * dy || 1;
  return {
    sdf: (x, y) => {
      const t = Math.max(0, Math.min(1, ((x - x1) * dx + (y - y1) * dy) / len2));
      return Math.hypot(x - x1 - t * dx, y - y1 - t * dy) - halfWidth;
    },
    bounds: [Math.min(x1, x2) - halfWidth, Math.min(y1, y2) - halfWidth, Math.max(x1, x2) + halfWidth, Math.max(y1, y2) + halfWidth],
    area: 2 * halfWidth * Math.sqrt(len2) + Math.PI * halfWidth * halfWidth,
  };
}

/** An ellipse with semi-axes a, b rotated by `angle`; the distance is approximate (fine for 1 px edges). */
export function ellipse(cx: number, cy: number, a: number, b: number, angle: number): Shape {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const m = Math.min(a, b);
  const ext = Math.max(a, b);
  return {
    sdf: (x, y) => {
      const u = (c * (x - cx) + s * (y - cy)) / a;
      const v = (-s * (x - cx) + c * (y - cy)) / b;
      return (Math.sqrt(u * u + v * v) - 1) * m;
    },
    bounds: [cx - ext, cy - ext, cx + ext, cy + ext],
    area: Math.PI * a * b,
  };
}
