// "Did you mean ...?" for a misspelt config key: the known keys at that level of the schema,
// nearest by edit distance.
import type { z } from 'zod';

/** The schema inside defaults, optionals and the like (zod keeps it as def.innerType). */
function unwrap(schema: unknown): unknown {
  let s = schema as { _zod?: { def?: { innerType?: unknown } } } | undefined;
  while (s?._zod?.def?.innerType) s = s._zod.def.innerType as typeof s;
  return s;
}

/** The keys an object schema accepts at `path` (empty when the path leads nowhere or to a non-object). */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: unknown = unwrap(schema);
  for (const key of path) s = unwrap((s as { shape?: Record<string, unknown> })?.shape?.[String(key)]);
  const shape = (s as { shape?: Record<string, unknown> })?.shape;
  return shape ? Object.keys(shape) : [];
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The known key nearest to `key` (at most a third of its letters off), or undefined. */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const k of known) {
    const distance = editDistance(key, k);
    if (distance <= Math.max(1, Math.floor(key.length / 3)) && (!best || distance < best.distance)) best = { key: k, distance };
  }
  return best?.key;
}
