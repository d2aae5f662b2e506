// The evaluation thread as the service sees it: run(task) resolves with the scores or rejects
// with an EvaluationFailedError. A thread that crashes fails its evaluation and is replaced
// for the next one.
import { Worker } from 'node:worker_threads';
import type { FromEvaluation, ToEvaluation, WorkerFailure, WorkerResult, WorkerTask } from './evaluation_protocol.ts';

/** An evaluation that did not produce scores; `failure.kind` says whose fault. */
export class EvaluationFailedError extends Error {
  override name = 'EvaluationFailedError';

  constructor(readonly failure: WorkerFailure) {
    super(failure.message);
  }
}

/** The evaluation thread could not start (no tfjs backend). */
export class EvaluationThreadError extends Error {
  override name = 'EvaluationThreadError';
}

interface Running {
  id: number;
  resolve(result: WorkerResult): void;
  reject(error: Error): void;
}

export class EvaluationThread {
  private worker: Worker | undefined;
  private starting: Promise<Worker> | undefined;
  private running: Running | undefined;
  private nextId = 0;
  private closed = false;
  /** tfjs backend of the thread, once started. */
  backend = '';

  private constructor(private readonly log: (line: string) => void) {}

  /** Starts the thread and its tfjs backend; rejects with EvaluationThreadError. */
  static async start(log: (line: string) => void): Promise<EvaluationThread> {
    const thread = new EvaluationThread(log);
    await thread.ensureWorker();
    return thread;
  }

  /** Runs one evaluation; the caller runs one at a time. */
  async run(task: WorkerTask): Promise<WorkerResult> {
    if (this.running) throw new Error('EvaluationThread.run: an evaluation is already running');
    const worker = await this.ensureWorker();
    const id = this.nextId++;
    return new Promise<WorkerResult>((resolve, reject) => {
      this.running = { id, resolve, reject };
      worker.postMessage({ type: 'run', id, task } satisfies ToEvaluation);
    });
  }

  /** Stops the thread now: a running evaluation rejects with `reason`. */
  async close(reason: Error = new Error('evaluation thread closed')): Promise<void> {
    this.closed = true;
    this.fail(reason);
    const worker = this.worker ?? (await this.starting?.catch(() => undefined));
    this.worker = undefined;
    await worker?.terminate();
  }

  private ensureWorker(): Promise<Worker> {
    if (this.closed) return Promise.reject(new EvaluationThreadError('evaluation thread closed'));
    if (this.worker) return Promise.resolve(this.worker);
    this.starting ??= this.spawn().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async spawn(): Promise<Worker> {
    const worker = new Worker(new URL('./evaluation_worker_entry.mjs', import.meta.url), { execArgv: [] });
    worker.on('message', (m: FromEvaluation) => {
      if (m.type === 'log') this.log(m.line);
      else if (m.type === 'done' || m.type === 'error') {
        const r = this.running;
        if (!r || r.id !== m.id) return;
        this.running = undefined;
        if (m.type === 'done') r.resolve(m.result);
        else r.reject(new EvaluationFailedError(m.failure));
      }
    });
    try {
      this.backend = await new Promise<string>((resolve, reject) => {
        worker.on('message', (m: FromEvaluation) => {
          if (m.type === 'ready') resolve(m.backend);
          if (m.type === 'failed') reject(new EvaluationThreadError(`evaluation thread: ${m.message}`));
        });
        worker.once('error', (error) => reject(new EvaluationThreadError(`evaluation thread crashed while starting: ${error.message}`, { cause: error })));
        worker.once('exit', (code) => reject(new EvaluationThreadError(`evaluation thread exited (code ${code}) while starting`)));
      });
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    // A crash fails the running evaluation; the next run starts a fresh thread.
    const lost = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.fail(new EvaluationFailedError({ kind: 'internal', message: why }));
    };
    worker.on('error', (error) => lost(`evaluation thread crashed: ${error.message}`));
    worker.on('exit', (code) => lost(`evaluation thread exited (code ${code})`));
    this.worker = worker;
    return worker;
  }

  private fail(error: Error): void {
    const r = this.running;
    this.running = undefined;
    r?.reject(error);
  }
}
