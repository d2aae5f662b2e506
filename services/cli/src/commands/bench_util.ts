import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeTensor } from '@kd/engine';
import { Dtype, type Tensor } from '@kd/proto';
import type { ImageBatch } from '@kd/trainer';

/** Runs `body` with a fresh temp folder that is removed afterwards, whatever happens. */
export async function withTempDir<T>(prefix: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', remove);
  try {
    return await body(dir);
  } finally {
    remove();
    process.off('exit', remove);
  }
}

/** A batch as an InferRequest's fp16 images tensor. */
export function imagesRequestTensor(batch: ImageBatch): Tensor {
  const wire = encodeTensor(batch.images, batch.shape, 'float16');
  return { shape: wire.shape, dtype: Dtype.DTYPE_FLOAT16, data: Buffer.from(wire.data.buffer, wire.data.byteOffset, wire.data.byteLength) };
}
