// A dynamic batcher in the manner of Triton's: requests from any number of clients wait in
// one queue and run together, up to maxBatch images or until the oldest has waited
// maxDelayMs. Only requests with the same key (the image size) share a batch. One batch runs
// at a time, because the backend runs one network at a time anyway.
import { QueueFullError, RequestDroppedError, ShuttingDownError } from './errors.ts';

export interface BatcherOptions {
  /** Most images in one run. */
  maxBatch: number;
  /** Longest wait of the oldest ready request for more to join its batch, milliseconds. */
  maxDelayMs: number;
  /** Most images admitted and not yet running (preparing or ready); more gets QueueFullError. */
  maxQueue: number;
  /** Named in the ShuttingDownError of submits after close(). */
  name?: string;
}

export interface SubmitOptions {
  /** Images this request adds to a batch. */
  images: number;
  /** Requests share a batch only when their keys are equal (e.g. "224x224"). */
  key: string;
  /** Polled when a batch is formed: a cancelled request is dropped without running. */
  isCancelled?: () => boolean;
  /** Epoch milliseconds (Date.now()) after which the request is dropped unrun; Infinity for none. */
  deadline?: number;
}

export interface BatchResult<O> {
  output: O;
  /** From ready (prepared) to its batch starting, seconds. */
  queueSeconds: number;
  /** The whole batch's run, seconds. */
  runSeconds: number;
  /** Images in the batch that ran. */
  batchImages: number;
}

/** What one run looked like, for metrics. */
export interface BatchReport {
  images: number;
  requests: number;
  runSeconds: number;
  queueSeconds: number[];
}

interface Entry<I, O> {
  options: SubmitOptions;
  input?: I;
  readyAt: number;
  resolve(result: BatchResult<O>): void;
  reject(error: unknown): void;
}

export class DynamicBatcher<I, O> {
  /** Called after every run. */
  onBatch: (report: BatchReport) => void = () => {};
  /** Called whenever the number of queued images changes. */
  onDepth: (images: number) => void = () => {};

  private readonly ready: Entry<I, O>[] = [];
  private queued = 0;
  private running = false;
  private closed = false;
  private flushing = false;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly run: (inputs: I[]) => Promise<O[]>,
    private readonly options: BatcherOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(options.maxBatch >= 1 && options.maxQueue >= options.maxBatch && options.maxDelayMs >= 0)) {
      throw new RangeError(`batcher needs maxBatch >= 1, maxQueue >= maxBatch, maxDelayMs >= 0 (got ${JSON.stringify(options)})`);
    }
  }

  /** Images admitted and not yet running. */
  get depth(): number {
    return this.queued;
  }

  /**
   * Admits a request at once or throws QueueFullError (so memory stays bounded), then awaits
   * `prepare` (e.g. image decoding) before the request can join a batch; resolves with its
   * share of the batch output. Rejects with prepare's error or RequestDroppedError.
   */
  submit(options: SubmitOptions, prepare: () => I | Promise<I>): Promise<BatchResult<O>> {
    if (this.closed) return Promise.reject(new ShuttingDownError(this.options.name ?? 'batcher'));
    if (!(options.images >= 1 && options.images <= this.options.maxBatch)) {
      return Promise.reject(new RangeError(`a request of ${options.images} images does not fit maxBatch ${this.options.maxBatch}`));
    }
    if (this.queued + options.images > this.options.maxQueue) {
      return Promise.reject(new QueueFullError(this.queued, options.images, this.options.maxQueue));
    }
    this.setQueued(this.queued + options.images);
    return new Promise<BatchResult<O>>((resolve, reject) => {
      const entry: Entry<I, O> = { options, readyAt: 0, resolve, reject };
      Promise.resolve()
        .then(prepare)
        .then(
          (input) => {
            entry.input = input;
            entry.readyAt = this.now();
            this.ready.push(entry);
            this.schedule();
          },
          (error: unknown) => {
            this.setQueued(this.queued - options.images);
            reject(error);
            this.notifyIdle();
          },
        );
    });
  }

  /** Takes no new requests; runs what is queued without waiting for batches to fill. */
  close(): void {
    this.closed = true;
    this.flushing = true;
    this.schedule();
  }

  /** Resolves once nothing is queued, preparing or running. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.queued === 0 && !this.running;
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private setQueued(images: number): void {
    this.queued = images;
    this.onDepth(images);
  }

  private schedule(): void {
    if (this.running) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dropDead();
    if (this.ready.length === 0) {
      this.notifyIdle();
      return;
    }
    const head = this.ready[0];
    const batch: Entry<I, O>[] = [];
    let images = 0;
    let full = false;
    for (const e of this.ready) {
      if (e.options.key !== head.options.key) continue;
      if (images + e.options.images > this.options.maxBatch) {
        full = true; // the next request in line does not fit: waiting cannot grow this batch in order
        break;
      }
      batch.push(e);
      images += e.options.images;
    }
    full ||= images === this.options.maxBatch;
    const wait = head.readyAt + this.options.maxDelayMs - this.now();
    if (!full && !this.flushing && wait > 0) {
      this.timer = setTimeout(() => this.schedule(), wait);
      return;
    }
    void this.start(batch, images);
  }

  /** Rejects, unrun, the ready requests that were cancelled or whose deadline passed. */
  private dropDead(): void {
    const wall = Date.now();
    for (let i = this.ready.length - 1; i >= 0; i--) {
      const e = this.ready[i];
      const reason = e.options.isCancelled?.() ? 'cancelled' : (e.options.deadline ?? Infinity) <= wall ? 'deadline' : undefined;
      if (reason === undefined) continue;
      this.ready.splice(i, 1);
      this.setQueued(this.queued - e.options.images);
      e.reject(new RequestDroppedError(reason));
    }
  }

  private async start(batch: Entry<I, O>[], images: number): Promise<void> {
    this.running = true;
    for (const e of batch) this.ready.splice(this.ready.indexOf(e), 1);
    this.setQueued(this.queued - images);
    const started = this.now();
    const queueSeconds = batch.map((e) => (started - e.readyAt) / 1000);
    try {
      const outputs = await this.run(batch.map((e) => e.input as I));
      if (outputs.length !== batch.length) throw new RangeError(`batch run returned ${outputs.length} outputs for ${batch.length} requests`);
      const runSeconds = (this.now() - started) / 1000;
      batch.forEach((e, i) => e.resolve({ output: outputs[i], queueSeconds: queueSeconds[i], runSeconds, batchImages: images }));
      this.onBatch({ images, requests: batch.length, runSeconds, queueSeconds });
    } catch (error) {
      for (const e of batch) e.reject(error);
    } finally {
      this.running = false;
      // Yield to the event loop (I/O callbacks included) so requests that arrived during the
      // run are queued before the next batch is formed.
      setImmediate(() => this.schedule());
    }
  }
}
