import sharp from 'sharp';
import type { DataProblem, VocRecord } from '../types.ts';

/** The outcome of decoding one image: its size in pixels, or why it cannot be used. */
export type ImageCheck = { ok: true; width: number; height: number } | { ok: false; problem: DataProblem };

/**
 * Fully decodes an image with sharp (every pixel, so a truncated JPEG fails too, not only a bad
 * header); a missing file is 'missing-file', anything undecodable 'corrupt-image'.
 */
export async function checkImageDecodes(path: string): Promise<ImageCheck> {
  try {
    const { info } = await sharp(path, { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
    return { ok: true, width: info.width, height: info.height };
  } catch (error) {
    const message = (error as Error).message;
    const missing = /missing|ENOENT|no such file/i.test(message);
    return { ok: false, problem: { file: path, kind: missing ? 'missing-file' : 'corrupt-image', message: `${missing ? 'image file not found' : 'cannot decode'}: ${message}` } };
  }
}

/** Decodes a record's image and compares its size with the annotation's `<size>`. */
export async function checkRecordImage(record: VocRecord): Promise<DataProblem[]> {
  const result = await checkImageDecodes(record.imagePath);
  if (!result.ok) return [result.problem];
  if (result.width !== record.width || result.height !== record.height) {
    return [{
      file: record.imagePath,
      kind: 'size-mismatch',
      message: `decoded ${result.width}x${result.height}, but ${record.annotationPath ?? 'the annotation'} says ${record.width}x${record.height}`,
    }];
  }
  return [];
}
