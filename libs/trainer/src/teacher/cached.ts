import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as tf from '@tensorflow/tfjs-core';
import type { TeacherSpec } from '@kd/proto';
import type { ImageBatch, TeacherSource } from './source.ts';

/** A lock older than this with no answer beside it was left by a process that died: taken over. */
const STALE_LOCK_MS = 120_000;
const POLL_MS = 50;

/**
 * A teacher whose answers are kept in a folder, by a digest of the teacher's model hash and
 * the batch's pixels: the runs of one experiment seed train on the same batches (that is what
 * pairs them), so one teacher forward per batch serves every method instead of one per run.
 * Answers are the inner teacher's float32 tensors, bit for bit. Processes share the folder:
 * the first to need a batch takes `<digest>.lock` (O_EXCL), computes, writes the answer
 * atomically and drops the lock; the others wait for the answer instead of computing it too.
 */
export class CachedTeacher implements TeacherSource {
  private modelHash: string | undefined;
  /** Answers read from the folder and computed here (for the run's summary line). */
  hits = 0;
  misses = 0;

  constructor(private readonly inner: TeacherSource, private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  async spec(): Promise<TeacherSpec> {
    const spec = await this.inner.spec();
    this.modelHash = spec.modelHash;
    return spec;
  }

  async infer(batch: ImageBatch): Promise<tf.Tensor4D[]> {
    const path = join(this.dir, `${await this.digest(batch)}.f32`);
    const lock = `${path}.lock`;
    for (;;) {
      if (existsSync(path)) {
        this.hits++;
        return readAnswer(path);
      }
      if (takeLock(lock)) break;
      await sleep(POLL_MS);
    }
    try {
      const outputs = await this.inner.infer(batch);
      writeAnswer(path, outputs);
      this.misses++;
      return outputs;
    } finally {
      unlinkSync(lock);
    }
  }

  private async digest(batch: ImageBatch): Promise<string> {
    this.modelHash ??= (await this.inner.spec()).modelHash;
    const hash = createHash('sha256').update(this.modelHash).update(new Int32Array(batch.shape));
    return hash.update(new Uint8Array(batch.images.buffer, batch.images.byteOffset, batch.images.byteLength)).digest('hex');
  }

  describe(): string {
    return `${this.inner.describe()}, answers kept in ${this.dir}`;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Takes the lock file if it is free or stale (its holder died); false while another process holds it. */
function takeLock(lock: string): boolean {
  try {
    closeSync(openSync(lock, 'wx'));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  try {
    if (Date.now() - statSync(lock).mtimeMs < STALE_LOCK_MS) return false;
    unlinkSync(lock);
  } catch {
    // released or taken over meanwhile: try again next poll
  }
  return false;
}

/** The answer file: per output, its rank-4 shape as int32, then its float32 values. */
function writeAnswer(path: string, outputs: tf.Tensor4D[]): void {
  const parts = outputs.flatMap((t) => {
    const values = t.dataSync() as Float32Array;
    return [Buffer.from(new Int32Array(t.shape).buffer), Buffer.from(values.buffer, values.byteOffset, values.byteLength)];
  });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, Buffer.concat(parts));
  renameSync(temp, path);
}

function readAnswer(path: string): tf.Tensor4D[] {
  const bytes = readFileSync(path);
  // a copy aligned for Float32Array (Buffer's pool may not be)
  const data = new Uint8Array(bytes).buffer;
  const outputs: tf.Tensor4D[] = [];
  for (let at = 0; at < data.byteLength;) {
    const shape = Array.from(new Int32Array(data, at, 4)) as [number, number, number, number];
    at += 16;
    const size = shape.reduce((a, b) => a * b, 1);
    if (at + size * 4 > data.byteLength) {
      tf.dispose(outputs);
      throw new Error(`${path}: not a teacher answer (its output of shape [${shape}] runs past the file's end)`);
    }
    outputs.push(tf.tensor4d(new Float32Array(data, at, size), shape));
    at += size * 4;
  }
  return outputs;
}
