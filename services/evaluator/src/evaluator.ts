// The evaluator's core: one queue of evaluations (gRPC requests and checkpoint events alike)
// run one at a time on the evaluation thread, their reports while in progress, and what
// happens when one finishes: stored, counted, best.json, EvaluationDone. Exactly-once lives
// here and in consumer.ts: an evaluation id is evaluated once, and its EvaluationDone is
// marked published in its file once the broker has stored it.
import type { EventBus } from '@kd/bus';
import { apMetricFromName, EvaluationReport, EvaluationState } from '@kd/proto';
import type { Logger } from '@kd/telemetry';
import { InvalidRequestError, PathNotFoundError, ShuttingDownError } from './errors.ts';
import { EvaluationFailedError, type EvaluationThread } from './evaluation_thread.ts';
import type { WorkerResult } from './evaluation_protocol.ts';
import type { EvaluatorMetrics } from './metrics.ts';
import { isLater, type EvaluationStore, type StoredEvaluation } from './store.ts';
import { Trigger, type EvaluationTask } from './task.ts';

/** The part of an EventBus the evaluator publishes through. */
export type Publisher = Pick<EventBus, 'publish' | 'stats'>;

export interface EvaluatorOptions {
  store: EvaluationStore;
  thread: Pick<EvaluationThread, 'run' | 'close'>;
  metrics: EvaluatorMetrics;
  bus: Publisher;
  log: Logger;
}

interface Entry {
  task: EvaluationTask;
  report: EvaluationReport;
  created: number;
  done: Promise<StoredEvaluation>;
  resolve(e: StoredEvaluation): void;
  reject(error: unknown): void;
}

const nowSeconds = () => Date.now() / 1000;

export class Evaluator {
  private readonly entries = new Map<string, Entry>();
  private readonly waiting: Entry[] = [];
  private running: Entry | undefined;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private readonly publishing = new Map<string, Promise<void>>();

  constructor(private readonly o: EvaluatorOptions) {
    for (const best of o.store.bestJobs()) {
      o.metrics.bestMap.set({ job_id: best.job_id }, best.mean_ap);
      const latest = o.store.latest(best.job_id);
      if (latest?.report.state === EvaluationState.EVALUATION_STATE_DONE) o.metrics.map.set({ job_id: best.job_id }, latest.report.meanAp);
    }
  }

  /** Evaluations waiting, not counting the running one. */
  get depth(): number {
    return this.waiting.length;
  }

  /** The stored evaluation of `id`, if finished. */
  stored(evaluationId: string): StoredEvaluation | undefined {
    return this.o.store.get(evaluationId);
  }

  /** Report of an evaluation, finished or in progress. */
  report(evaluationId: string): EvaluationReport | undefined {
    return this.entries.get(evaluationId)?.report ?? this.o.store.get(evaluationId)?.report;
  }

  /** The job's latest report (highest step, then newest), finished or in progress. */
  latest(jobId: string): EvaluationReport | undefined {
    const s = this.o.store.latest(jobId);
    let best = s ? { report: s.report, key: { step: s.report.step, created: s.createdUnixSeconds } } : undefined;
    for (const e of this.entries.values()) {
      if (e.task.jobId !== jobId) continue;
      const key = { step: e.report.step, created: e.created };
      if (!best || isLater(key, best.key)) best = { report: e.report, key };
    }
    return best?.report;
  }

  /** Source of the evaluation `id` is (or was), if any. */
  sourceOf(evaluationId: string): string | undefined {
    return this.entries.get(evaluationId)?.task.source ?? this.o.store.get(evaluationId)?.report.source;
  }

  /**
   * Queues `task` (or joins the same id already queued) and resolves with its stored result.
   * Rejects with InvalidRequestError / PathNotFoundError for unusable input of a gRPC request
   * (nothing is stored), ShuttingDownError when closed; other failures resolve as FAILED.
   */
  submit(task: EvaluationTask): Promise<StoredEvaluation> {
    const stored = this.o.store.get(task.evaluationId);
    if (stored) return Promise.resolve(stored);
    const existing = this.entries.get(task.evaluationId);
    if (existing) return existing.done;
    if (this.closed) return Promise.reject(new ShuttingDownError());
    let resolve!: (e: StoredEvaluation) => void;
    let reject!: (error: unknown) => void;
    const done = new Promise<StoredEvaluation>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const report = EvaluationReport.fromPartial({
      evaluationId: task.evaluationId, jobId: task.jobId, step: task.step, state: EvaluationState.EVALUATION_STATE_PENDING,
      metric: apMetricFromName(task.work.metric), iouThreshold: task.work.iouThreshold, source: task.source,
    });
    const entry: Entry = { task, report, created: nowSeconds(), done, resolve, reject };
    this.entries.set(task.evaluationId, entry);
    this.waiting.push(entry);
    this.o.metrics.queueDepth.set(this.waiting.length);
    this.o.log.info({ evaluationId: task.evaluationId, jobId: task.jobId, step: task.step, trigger: task.trigger, queued: this.waiting.length }, 'evaluation queued');
    this.pump();
    return done;
  }

  /** Publishes EvaluationDone of a stored evaluation unless it went out already or none is due. */
  ensurePublished(e: StoredEvaluation): Promise<void> {
    const r = e.report;
    if (e.evaluationDonePublished || r.jobId === '' || e.input !== 'checkpoint' || r.state !== EvaluationState.EVALUATION_STATE_DONE) return Promise.resolve();
    const inFlight = this.publishing.get(r.evaluationId);
    if (inFlight) return inFlight;
    const p = (async () => {
      const dropped = this.o.bus.stats.dropped;
      await this.o.bus.publish(r.jobId, 'evaluation_done', {
        jobId: r.jobId, step: r.step, evaluationId: r.evaluationId, meanAp: r.meanAp, metric: r.metric, perClassAp: r.perClassAp,
        checkpointPath: r.source, numImages: r.numImages, seconds: r.seconds, timeUnixSeconds: nowSeconds(),
      });
      // Resolved but still buffered (broker down) or dropped: not marked, so a redelivery after a crash publishes it again.
      if (this.o.bus.stats.buffered === 0 && this.o.bus.stats.dropped === dropped) this.o.store.markPublished(r.evaluationId);
      this.o.log.info({ evaluationId: r.evaluationId, jobId: r.jobId, step: r.step, buffered: this.o.bus.stats.buffered }, 'EvaluationDone published');
    })().finally(() => this.publishing.delete(r.evaluationId));
    this.publishing.set(r.evaluationId, p);
    return p;
  }

  /** Refuses new work; waiting evaluations reject with ShuttingDownError. The running one goes on. */
  close(): void {
    this.closed = true;
    for (const e of this.waiting.splice(0)) {
      this.entries.delete(e.task.evaluationId);
      e.reject(new ShuttingDownError());
    }
    this.o.metrics.queueDepth.set(0);
  }

  /** Resolves when no evaluation is running (after close(), for good). */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops the evaluation thread: a running evaluation rejects with ShuttingDownError and is not stored. */
  async abort(): Promise<void> {
    this.close();
    await this.o.thread.close(new ShuttingDownError('the evaluator shut down before the evaluation finished'));
  }

  private pump(): void {
    if (this.running || this.closed) return;
    const entry = this.waiting.shift();
    if (!entry) return;
    this.o.metrics.queueDepth.set(this.waiting.length);
    this.running = entry;
    void this.runOne(entry).finally(() => {
      this.running = undefined;
      this.entries.delete(entry.task.evaluationId);
      const ws = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of ws) w();
      this.pump();
    });
  }

  private async runOne(entry: Entry): Promise<void> {
    const { task } = entry;
    const log = this.o.log.child({ evaluationId: task.evaluationId, jobId: task.jobId, step: task.step, trigger: task.trigger });
    entry.report.state = EvaluationState.EVALUATION_STATE_RUNNING;
    log.info({ source: task.source, input: task.work.kind }, 'evaluation started');
    const started = performance.now();
    let result: WorkerResult | undefined;
    let error = '';
    try {
      result = await this.o.thread.run(task.work);
    } catch (e) {
      if (!(e instanceof EvaluationFailedError)) {
        entry.reject(e); // shut down mid-evaluation: nothing stored, the event is redelivered
        return;
      }
      const f = e.failure;
      if (f.kind === 'input' && task.trigger === Trigger.grpc) {
        const field = f.field ?? 'EvaluateRequest.input';
        log.warn({ field, reason: f.message }, 'evaluation refused');
        entry.reject(f.notFound ? new PathNotFoundError(field, f.message) : new InvalidRequestError(field, f.message));
        return;
      }
      error = f.message;
      (f.kind === 'input' ? log.warn.bind(log) : log.error.bind(log))({ reason: error }, 'evaluation failed');
    }
    const seconds = (performance.now() - started) / 1000;
    const report = EvaluationReport.fromPartial({
      ...entry.report,
      step: task.step || result?.checkpointStep || 0,
      state: result ? EvaluationState.EVALUATION_STATE_DONE : EvaluationState.EVALUATION_STATE_FAILED,
      meanAp: result?.meanAp ?? 0, perClassAp: result?.perClassAp ?? {}, numImages: result?.numImages ?? 0, seconds, error,
    });
    const stored: StoredEvaluation = {
      report, trigger: task.trigger, input: task.work.kind, contentHash: result?.contentHash ?? task.contentHash,
      createdUnixSeconds: entry.created, finishedUnixSeconds: nowSeconds(), evaluationDonePublished: false,
    };
    try {
      const { newBest } = this.o.store.put(stored);
      this.record(stored, newBest);
      log.info({ state: result ? 'DONE' : 'FAILED', meanAp: report.meanAp, numImages: report.numImages, seconds, newBest }, 'evaluation finished');
      await this.ensurePublished(stored);
      entry.resolve(this.o.store.get(task.evaluationId) ?? stored);
    } catch (e) {
      log.error({ err: e }, 'storing the evaluation failed');
      entry.reject(new Error(`storing evaluation ${task.evaluationId} in the state directory failed: ${(e as Error).message}`, { cause: e }));
    }
  }

  private record(e: StoredEvaluation, newBest: boolean): void {
    const m = this.o.metrics;
    const r = e.report;
    const done = r.state === EvaluationState.EVALUATION_STATE_DONE;
    m.evaluations.inc({ source: e.trigger, input: e.input, state: done ? 'done' : 'failed' });
    m.evaluationDuration.observe({ input: e.input }, r.seconds);
    if (!done) return;
    m.images.inc(r.numImages);
    if (r.jobId === '') return;
    m.map.set({ job_id: r.jobId }, r.meanAp);
    if (newBest) m.bestMap.set({ job_id: r.jobId }, r.meanAp);
  }
}
