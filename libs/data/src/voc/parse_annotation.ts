import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { VocAnnotationError } from './errors.ts';

/** One `<object>` as written in the file, before any check against the image or class list. */
export interface RawVocObject {
  /** `<name>`, trimmed. */
  name: string;
  /** bndbox [xmin, ymin, xmax, ymax] in pixels; NaN where a coordinate is missing or not a number. */
  bbox: [number, number, number, number];
  /** Absent `<difficult>` reads as false. */
  difficult: boolean;
  truncated: boolean;
}

/** The parts of a VOC annotation file the reader uses. */
export interface VocAnnotation {
  /** `<filename>`, or null when absent. */
  filename: string | null;
  /** `<size>` in pixels; 0 when missing or not a number. */
  width: number;
  height: number;
  objects: RawVocObject[];
}

// Only annotation.object is forced to an array: a file with one object then reads like a file
// with many, while `<part>` (head/hand/foot boxes inside a VOC2012 person) stays a child of its
// object and is never taken for an object. Values stay strings: names such as "1" must not
// turn into numbers, and coordinates are converted (and checked) below.
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (_name: string, jpath: unknown) => String(jpath) === 'annotation.object',
});

function text(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

// Number('') is 0, so empty and missing values are caught before converting.
function num(value: unknown): number {
  const s = text(value);
  return s === null || s.trim() === '' ? Number.NaN : Number(s);
}

function flag(value: unknown): boolean {
  const s = text(value);
  return s !== null && /^(1|true)$/i.test(s.trim());
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Parses one VOC annotation XML; throws VocAnnotationError (kind 'malformed-xml') naming `file`. */
export function parseVocAnnotation(xml: string, file: string): VocAnnotation {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    throw new VocAnnotationError(file, `malformed XML at line ${line}${col ? `, column ${col}` : ''}: ${msg}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = record(parser.parse(xml));
  } catch (error) {
    throw new VocAnnotationError(file, `malformed XML: ${(error as Error).message}`, { cause: error });
  }
  if (!('annotation' in doc)) throw new VocAnnotationError(file, 'no <annotation> root element');
  const ann = record(doc.annotation);
  const size = record(ann.size);
  const width = num(size.width);
  const height = num(size.height);
  const objects = ((ann.object as unknown[] | undefined) ?? []).map((o): RawVocObject => {
    const obj = record(o);
    const box = record(obj.bndbox);
    return {
      name: (text(obj.name) ?? '').trim(),
      bbox: [num(box.xmin), num(box.ymin), num(box.xmax), num(box.ymax)],
      difficult: flag(obj.difficult),
      truncated: flag(obj.truncated),
    };
  });
  return {
    filename: text(ann.filename)?.trim() || null,
    width: Number.isFinite(width) ? width : 0,
    height: Number.isFinite(height) ? height : 0,
    objects,
  };
}
