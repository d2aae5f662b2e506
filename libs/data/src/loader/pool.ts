// Runs jobs on worker threads (or in-process when size is 0). Each worker takes one job at a
// time from a FIFO queue; callers get one promise per job and decide the order they await.
import { Worker } from 'node:worker_threads';
import type { VocRecord } from '../types.ts';
import { createContext, runJob, type Job, type JobContext, type JobResult } from './jobs.ts';
import { LoaderError } from './errors.ts';

interface Pending {
  job: Job;
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  current: Pending | null;
}

type Reply = { ok: true; result: JobResult } | { ok: false; name: string; message: string; stack?: string };

/** A pool of loader workers sharing one job queue. */
export class JobPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private readonly inline: JobContext | null;
  private failure: Error | null = null;
  private closed = false;

  /** `size` worker threads, each given the records once; 0 runs jobs on the calling thread. */
  constructor(size: number, records: VocRecord[], classes: readonly string[]) {
    this.inline = size === 0 ? createContext(records, classes) : null;
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL('./worker_entry.mjs', import.meta.url), { workerData: { records, classes: [...classes] }, execArgv: [] });
      const slot: Slot = { worker, current: null };
      worker.on('message', (reply: Reply) => this.onReply(slot, reply));
      worker.on('error', (error) => this.fail(new LoaderError(`loader worker crashed: ${error.message}`, { cause: error })));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(new LoaderError(`loader worker exited with code ${code}`));
      });
      this.slots.push(slot);
    }
  }

  /** Queues a job; the promise settles with its result, or rejects if the pool fails or closes first. */
  run(job: Job): Promise<JobResult> {
    if (this.closed) return Promise.reject(new LoaderError('loader is closed'));
    if (this.failure) return Promise.reject(this.failure);
    if (this.inline) return runJob(job, this.inline);
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.current || this.queue.length === 0) continue;
      slot.current = this.queue.shift()!;
      slot.worker.postMessage(slot.current.job);
    }
  }

  private onReply(slot: Slot, reply: Reply): void {
    const pending = slot.current;
    slot.current = null;
    if (!pending) return;
    if (reply.ok) {
      pending.resolve(reply.result);
    } else {
      const error = new LoaderError(`loader worker failed: ${reply.name}: ${reply.message}`);
      if (reply.stack) error.stack = reply.stack;
      pending.reject(error);
    }
    this.pump();
  }

  // A dead worker would leave its job hanging forever: fail everything instead.
  private fail(error: Error): void {
    if (this.failure || this.closed) return;
    this.failure = error;
    for (const slot of this.slots) slot.current?.reject(error);
    for (const p of this.queue.splice(0)) p.reject(error);
    void this.close();
  }

  /** Terminates the workers; queued and running jobs reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = this.failure ?? new LoaderError('loader is closed');
    for (const slot of this.slots) slot.current?.reject(error);
    for (const p of this.queue.splice(0)) p.reject(error);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
