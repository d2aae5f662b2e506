// CheckpointSaved events in, one evaluation each, exactly once. The bus acks an event only
// after the handler resolves, and the handler resolves only after the result is stored and
// EvaluationDone is published; a process killed before that gets the event again (after the
// ack wait) and, if the result made it to disk, finds it by its id (job, step, content hash)
// and acks without evaluating again.
import type { BusEvent, EventBus } from '@kd/bus';
import type { CheckpointSaved } from '@kd/proto';
import type { Logger } from '@kd/telemetry';
import { ShuttingDownError } from './errors.ts';
import type { Evaluator } from './evaluator.ts';
import type { EvaluatorMetrics } from './metrics.ts';
import { taskFromCheckpointSaved } from './task.ts';

/** Subject of every job's checkpoints (NATS wildcard). */
export const CHECKPOINT_SUBJECT = 'kd.*.checkpoint_saved';

export interface CheckpointConsumerOptions {
  bus: Pick<EventBus, 'consume'>;
  evaluator: Evaluator;
  metrics: EvaluatorMetrics;
  log: Logger;
  /** Durable consumer name: replicas and restarts with the same name share one position. */
  durable: string;
}

export class CheckpointConsumer {
  private consumer: { stop(): Promise<void> } | undefined;
  private stopping = false;
  private busy = 0;
  private settledWaiters: Array<() => void> = [];
  private readonly stopSignal: Promise<void>;
  private signalStop!: () => void;

  constructor(private readonly o: CheckpointConsumerOptions) {
    this.stopSignal = new Promise((resolve) => (this.signalStop = resolve));
  }

  /** Starts consuming; rejects if the durable exists with another definition. */
  async start(): Promise<void> {
    this.consumer = await this.o.bus.consume(this.o.durable, CHECKPOINT_SUBJECT, (e) => this.handle(e));
  }

  /** Starts no new evaluation: events delivered from now on are handed back at stop(). */
  pause(): void {
    this.stopping = true;
  }

  /** Resolves when no handler is working (ones waiting for stop() do not count). */
  settled(): Promise<void> {
    if (this.busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /** Stops consuming; an event whose handler has not finished is left unacked (redelivered). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.signalStop();
    await this.consumer?.stop();
  }

  /** Never resolves before stop(): the bus then hands the event back unacked. */
  private async parked(): Promise<void> {
    await this.stopSignal;
    throw new ShuttingDownError();
  }

  private async handle(e: BusEvent): Promise<void> {
    if (e.event !== 'checkpoint_saved') {
      this.o.log.warn({ subject: e.subject }, 'not a checkpoint_saved event; acked and ignored');
      return;
    }
    if (this.stopping) return this.parked();
    this.busy++;
    try {
      await this.evaluate(e);
    } catch (error) {
      if (error instanceof ShuttingDownError) return this.parked();
      throw error; // the bus redelivers it with a backoff
    } finally {
      if (--this.busy === 0) {
        const ws = this.settledWaiters;
        this.settledWaiters = [];
        for (const w of ws) w();
      }
    }
  }

  private async evaluate(e: BusEvent): Promise<void> {
    const payload = e.payload as CheckpointSaved;
    if (payload.jobId !== '' && payload.jobId !== e.job) {
      this.o.log.warn({ subject: e.subject, payloadJobId: payload.jobId }, 'CheckpointSaved.job_id differs from the subject; using the subject');
    }
    const task = taskFromCheckpointSaved(e.job, payload);
    const fields = { evaluationId: task.evaluationId, jobId: task.jobId, step: task.step, seq: e.seq };
    const stored = this.o.evaluator.stored(task.evaluationId);
    if (stored) {
      this.o.metrics.redeliveriesSkipped.inc();
      this.o.log.info({ ...fields, published: stored.evaluationDonePublished }, 'checkpoint already evaluated: acked without work');
      await this.o.evaluator.ensurePublished(stored); // if the crash came between storing and publishing
      return;
    }
    this.o.log.info({ ...fields, path: payload.path }, 'checkpoint event received');
    await this.o.evaluator.submit(task);
  }
}
