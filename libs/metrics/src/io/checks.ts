import type { Box } from '../voc_eval.ts';
import { MapInputError } from './errors.ts';

/**
 * A short rendering of a bad value for an error message (JSON, cut at 60 characters). A number
 * JSON.parse overflowed (1e400) is Infinity, which JSON.stringify would show as null: shown as Infinity.
 */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  const s = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `\u0000${v}` : v))
    ?.replace(/"\\u0000(-?Infinity|NaN)"/g, '$1') ?? String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Checks a field path's value is a plain object. */
export function expectRecord(value: unknown, field: string, source?: string): Record<string, unknown> {
  if (!isRecord(value)) throw new MapInputError(field, `expected an object, got ${describe(value)}`, source);
  return value;
}

export function expectArray(value: unknown, field: string, source?: string): unknown[] {
  if (!Array.isArray(value)) throw new MapInputError(field, `expected an array, got ${describe(value)}`, source);
  return value;
}

export function expectString(value: unknown, field: string, source?: string): string {
  if (typeof value !== 'string' || value === '') throw new MapInputError(field, `expected a non-empty string, got ${describe(value)}`, source);
  return value;
}

/** Says why a number read from JSON is not finite: only an overflow makes one (JSON has no Infinity or NaN). */
const overflow = (value: unknown) => (Array.isArray(value) ? value : [value]).some((v) => typeof v === 'number' && !Number.isFinite(v))
  ? ' (a number in the file overflowed: beyond +-1.8e308, the largest a double holds, it reads as Infinity)' : '';

export function expectFinite(value: unknown, field: string, source?: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new MapInputError(field, `expected a finite number, got ${describe(value)}${overflow(value)}`, source);
  return value;
}

/** A pixel box [x1, y1, x2, y2] with x2 >= x1, y2 >= y1 (VOC's inclusive corners: equal is one pixel). */
export function expectBox(value: unknown, field: string, source?: string): Box {
  if (!Array.isArray(value) || value.length !== 4 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new MapInputError(field, `expected 4 finite numbers [x1, y1, x2, y2], got ${describe(value)}${overflow(value)}`, source);
  }
  const [x1, y1, x2, y2] = value as number[];
  if (x2 < x1 || y2 < y1) throw new MapInputError(field, `expected x2 >= x1 and y2 >= y1, got ${describe(value)}`, source);
  return [x1, y1, x2, y2];
}
