import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as tf from '@tensorflow/tfjs-core';
import type { TeacherSpec } from '@kd/proto';
import type { ImageBatch, TeacherSource } from './source.ts';

const POLL_MS = 50;
/** An empty lock (its taker died between creating and writing it) older than this is stale. */
const EMPTY_LOCK_MS = 5_000;

export interface CachedTeacherOptions {
  /**
   * How the inner teacher's answers are made beyond its model, part of every answer's key: a
   * gRPC teacher's input dtype and output encoding change its floats, and runs that differ there
   * must not read each other's answers. Default 'fp32' (an in-process teacher).
   */
  variant?: string;
  /** Where the one warning about a failed write or an unreadable answer goes (default stderr). */
  warn?: (line: string) => void;
}

/**
 * A teacher whose answers are kept in a folder, by a digest of the teacher's model hash, the
 * variant and the batch's pixels: the runs of one experiment seed train on the same batches
 * (that is what pairs them), so one teacher forward per batch serves every method instead of
 * one per run. Answers are the inner teacher's float32 tensors, bit for bit. Processes of one
 * machine share the folder: the first to need a batch takes `<digest>.lock` (O_EXCL, holding its
 * pid), computes, writes the answer atomically and drops the lock; the others wait for the
 * answer instead of computing it too, or take the lock over if its process has died. The cache
 * is a shortcut, never a failure: an answer that cannot be written or read is computed instead.
 */
export class CachedTeacher implements TeacherSource {
  private modelHash: string | undefined;
  private readonly variant: string;
  private readonly warn: (line: string) => void;
  private warned = false;
  /** This instance's lock token: its pid (what a waiting process checks) and a nonce (two instances of one process differ). */
  private readonly token = `${process.pid}:${randomBytes(6).toString('hex')}`;
  /** Answers read from the folder and computed here (for the run's summary line). */
  hits = 0;
  misses = 0;

  constructor(private readonly inner: TeacherSource, private readonly dir: string, options: CachedTeacherOptions = {}) {
    mkdirSync(dir, { recursive: true });
    this.variant = options.variant ?? 'fp32';
    this.warn = options.warn ?? ((line) => process.stderr.write(`${line}\n`));
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
        const answer = this.tryRead(path);
        if (answer) {
          this.hits++;
          return answer;
        }
      }
      if (takeLock(lock, this.token)) break;
      await sleep(POLL_MS);
    }
    try {
      const outputs = await this.inner.infer(batch);
      this.tryWrite(path, outputs);
      this.misses++;
      return outputs;
    } finally {
      releaseLock(lock, this.token);
    }
  }

  /** The stored answer, or undefined (removed, to be computed again) where it is not one. */
  private tryRead(path: string): tf.Tensor4D[] | undefined {
    try {
      return readAnswer(path);
    } catch (error) {
      this.warnOnce(`kd: teacher cache: ${(error as Error).message}; computing it again`);
      rmSync(path, { force: true });
      return undefined;
    }
  }

  private tryWrite(path: string, outputs: tf.Tensor4D[]): void {
    const temp = `${path}.${process.pid}.tmp`;
    try {
      writeAnswer(temp, outputs);
      renameSync(temp, path);
    } catch (error) {
      try {
        rmSync(temp, { force: true });
      } catch {
        // not a file we can remove: left as is
      }
      this.warnOnce(`kd: teacher cache: cannot keep an answer in ${this.dir} (${(error as Error).message}); the run goes on, computing what it cannot keep`);
    }
  }

  private warnOnce(line: string): void {
    if (this.warned) return;
    this.warned = true;
    this.warn(line);
  }

  private async digest(batch: ImageBatch): Promise<string> {
    this.modelHash ??= (await this.inner.spec()).modelHash;
    const hash = createHash('sha256').update(this.modelHash).update(`\0${this.variant}\0`).update(new Int32Array(batch.shape));
    return hash.update(new Uint8Array(batch.images.buffer, batch.images.byteOffset, batch.images.byteLength)).digest('hex');
  }

  describe(): string {
    return `${this.inner.describe()}, answers kept in ${this.dir}`;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Takes the lock file if it is free or stale (its process died); false while a live process holds it. */
function takeLock(lock: string, token: string): boolean {
  try {
    const fd = openSync(lock, 'wx');
    try {
      writeSync(fd, token);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // a stale lock is removed here and taken on the next poll (by whichever process gets there first)
  if (lockIsStale(lock)) rmSync(lock, { force: true });
  return false;
}

function lockIsStale(lock: string): boolean {
  try {
    const holder = Number(readFileSync(lock, 'utf8').split(':')[0]);
    if (!Number.isInteger(holder) || holder <= 0) return Date.now() - statSync(lock).mtimeMs > EMPTY_LOCK_MS;
    return !processIsAlive(holder);
  } catch {
    return false; // released meanwhile
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/** Drops the lock if it is still this holder's (a process that found it stale may have taken it since). */
function releaseLock(lock: string, token: string): void {
  try {
    if (readFileSync(lock, 'utf8') === token) rmSync(lock, { force: true });
  } catch {
    // already gone
  }
}

/** The answer file: per output, its rank-4 shape as int32, then its float32 values. */
function writeAnswer(file: string, outputs: tf.Tensor4D[]): void {
  const parts = outputs.flatMap((t) => {
    const values = t.dataSync() as Float32Array;
    return [Buffer.from(new Int32Array(t.shape).buffer), Buffer.from(values.buffer, values.byteOffset, values.byteLength)];
  });
  writeFileSync(file, Buffer.concat(parts));
}

function readAnswer(path: string): tf.Tensor4D[] {
  const bytes = readFileSync(path);
  // a copy aligned for Float32Array (Buffer's pool may not be)
  const data = new Uint8Array(bytes).buffer;
  const outputs: tf.Tensor4D[] = [];
  const notAnswer = (why: string) => {
    tf.dispose(outputs);
    return new Error(`${path}: not a teacher answer (${why})`);
  };
  if (data.byteLength === 0) throw notAnswer('empty');
  for (let at = 0; at < data.byteLength;) {
    if (at + 16 > data.byteLength) throw notAnswer('a shape cut off by the file\'s end');
    const shape = Array.from(new Int32Array(data, at, 4)) as [number, number, number, number];
    at += 16;
    const size = shape.reduce((a, b) => a * b, 1);
    if (shape.some((d) => d <= 0) || at + size * 4 > data.byteLength) throw notAnswer(`its output of shape [${shape}] runs past the file's end`);
    outputs.push(tf.tensor4d(new Float32Array(data, at, size), shape));
    at += size * 4;
  }
  return outputs;
}
