/**
 * Ground truth or detections that cannot be evaluated. The message names the source (a file
 * name, when known), the record and the field, e.g. `dets.json: detections[17].bbox: expected
 * 4 finite numbers, got [1,2,3]`.
 */
export class MapInputError extends Error {
  override name = 'MapInputError';
  /** The record/field path, e.g. `gt.images[3].objects[0].class`. */
  readonly field: string;
  readonly source: string | undefined;
  constructor(field: string, problem: string, source?: string, options?: { cause?: unknown }) {
    super(`${source ? `${source}: ` : ''}${field}${field ? ': ' : ''}${problem}`, options);
    this.field = field;
    this.source = source;
  }
}
