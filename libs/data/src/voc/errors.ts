import type { DataProblem } from '../types.ts';

/** An annotation file that cannot be read as VOC XML; `problem` is what the reader reports. */
export class VocAnnotationError extends Error {
  override name = 'VocAnnotationError';
  readonly problem: DataProblem;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`${file}: ${message}`, options);
    this.problem = { file, kind: 'malformed-xml', message };
  }
}

/**
 * The dataset argument itself is unusable (no such directory, no VOC layout in it, the asked
 * split has no list file): nothing can be read, so this is an error, not a DataProblem.
 */
export class VocDatasetError extends Error {
  override name = 'VocDatasetError';
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(`${path}: ${message}`, options);
    this.path = path;
  }
}
