// The kd.v1.TeacherService gRPC handlers. The class owns its wiring (addToServer), answers
// every request through InferPipeline, maps errors to statuses in one place, and knows what
// is in flight so shutdown can let it finish.
import { status, type Server, type ServerDuplexStream, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import {
  type GetSpecRequest, type GetSpecResponse, type InferRequest, type InferResponse, TeacherServiceService, type TeacherServiceServer, type TeacherSpec,
} from '@kd/proto';
import type { Logger } from '@kd/telemetry';
import { InvalidRequestError, ShuttingDownError, statusName, statusOf } from './errors.ts';
import { TeacherMethod, type TeacherMetrics } from './metrics.ts';
import type { CallState, InferPipeline } from './pipeline.ts';

export interface TeacherServiceOptions {
  spec: TeacherSpec;
  specHash: string;
  replicaId: string;
  pipeline: InferPipeline;
  metrics: TeacherMetrics;
  log: Logger;
}

/** The wire deadline of a call as epoch milliseconds (Infinity when the client set none). */
function deadlineOf(call: { getDeadline(): Date | number }): number {
  const d = call.getDeadline();
  return d instanceof Date ? d.getTime() : d;
}

/** An open InferStream: what it still owes its client. */
interface StreamState {
  call: ServerDuplexStream<InferRequest, InferResponse>;
  inFlight: Set<string>;
  inputEnded: boolean;
  /** Ended (status sent or client gone): nothing more is written. */
  closed: boolean;
}

export class TeacherService {
  private draining = false;
  private inFlight = 0;
  private readonly streams = new Set<StreamState>();
  private drainWaiters: Array<() => void> = [];

  constructor(private readonly o: TeacherServiceOptions) {}

  /** Registers the TeacherService handlers on a grpc-js server. */
  addToServer(server: Server): void {
    const impl: TeacherServiceServer = {
      getSpec: (call, callback) => this.getSpec(call, callback),
      infer: (call, callback) => this.infer(call, callback),
      inferStream: (call) => this.inferStream(call),
    };
    server.addService(TeacherServiceService, impl);
  }

  /**
   * Refuses new requests (UNAVAILABLE) and resolves once every request already taken has been
   * answered and every open stream ended (with UNAVAILABLE, so clients move to another replica).
   */
  shutdown(): Promise<void> {
    this.draining = true;
    for (const s of this.streams) this.maybeEndStream(s);
    return this.drained() ? Promise.resolve() : new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private drained(): boolean {
    return this.inFlight === 0 && this.streams.size === 0;
  }

  private checkDrained(): void {
    if (!this.draining || !this.drained()) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private getSpec(_call: ServerUnaryCall<GetSpecRequest, GetSpecResponse>, callback: sendUnaryData<GetSpecResponse>): void {
    const started = performance.now();
    this.record(TeacherMethod.GetSpec, status.OK, started);
    callback(null, { spec: this.o.spec, specHash: this.o.specHash, replicaId: this.o.replicaId });
  }

  private infer(call: ServerUnaryCall<InferRequest, InferResponse>, callback: sendUnaryData<InferResponse>): void {
    const started = performance.now();
    const req = call.request;
    if (this.draining) {
      const error = new ShuttingDownError(this.o.replicaId);
      this.fail(TeacherMethod.Infer, req, error, started, call.getPeer());
      callback({ code: error.code, details: error.message });
      return;
    }
    this.inFlight++;
    this.o.pipeline
      .infer(req, { isCancelled: () => call.cancelled, deadline: deadlineOf(call) }, started)
      .then(
        (res) => {
          this.record(TeacherMethod.Infer, status.OK, started);
          callback(null, res);
        },
        (error: unknown) => callback(this.fail(TeacherMethod.Infer, req, error, started, call.getPeer())),
      )
      .finally(() => {
        this.inFlight--;
        this.checkDrained();
      });
  }

  private inferStream(call: ServerDuplexStream<InferRequest, InferResponse>): void {
    const s: StreamState = { call, inFlight: new Set(), inputEnded: false, closed: false };
    this.streams.add(s);
    const state: CallState = { isCancelled: () => s.closed, deadline: deadlineOf(call) };
    const close = () => {
      if (s.closed) return;
      s.closed = true;
      this.streams.delete(s);
      this.checkDrained();
    };
    call.on('cancelled', close);
    call.on('error', close); // a client reset surfaces here too; the status (if any) is already on its way
    call.on('end', () => {
      s.inputEnded = true;
      this.maybeEndStream(s);
    });
    call.on('data', (req: InferRequest) => {
      if (s.closed) return;
      const started = performance.now();
      if (this.draining) {
        // Answer what is in flight first; maybeEndStream then ends the stream UNAVAILABLE.
        this.fail(TeacherMethod.InferStream, req, new ShuttingDownError(this.o.replicaId), started, call.getPeer());
        return;
      }
      if (s.inFlight.has(req.requestId)) {
        this.endStream(s, this.fail(TeacherMethod.InferStream, req,
          new InvalidRequestError('InferRequest.request_id', `${JSON.stringify(req.requestId)} is already in flight on this stream`), started, call.getPeer()));
        return;
      }
      s.inFlight.add(req.requestId);
      this.inFlight++;
      this.o.pipeline
        .infer(req, state, started)
        .then(
          (res) => {
            this.record(TeacherMethod.InferStream, status.OK, started);
            if (!s.closed) call.write(res);
          },
          (error: unknown) => {
            const st = this.fail(TeacherMethod.InferStream, req, error, started, call.getPeer());
            // One bad request ends the stream (teacher.proto); requests dropped because it
            // already ended need no second status.
            if (!s.closed) this.endStream(s, st);
          },
        )
        .finally(() => {
          s.inFlight.delete(req.requestId);
          this.inFlight--;
          this.maybeEndStream(s);
          this.checkDrained();
        });
    });
  }

  /** Ends a stream whose work is done: OK after the client's half-close, UNAVAILABLE when draining. */
  private maybeEndStream(s: StreamState): void {
    if (s.closed || s.inFlight.size > 0) return;
    if (s.inputEnded) {
      s.closed = true;
      s.call.end();
      this.streams.delete(s);
      this.checkDrained();
    } else if (this.draining) {
      const error = new ShuttingDownError(this.o.replicaId);
      this.endStream(s, { code: error.code, details: error.message });
    }
  }

  private endStream(s: StreamState, st: { code: status; details: string }): void {
    if (s.closed) return;
    s.closed = true;
    // grpc-js sends an 'error' event's code and details as the stream's final status.
    s.call.emit('error', Object.assign(new Error(st.details), st));
    this.streams.delete(s);
    this.checkDrained();
  }

  private record(method: TeacherMethod, code: status, started: number): void {
    this.o.metrics.requests.inc({ method, code: statusName(code) });
    this.o.metrics.requestDuration.observe({ method }, (performance.now() - started) / 1000);
  }

  /** Counts and logs a failed request; returns the status to send. */
  private fail(method: TeacherMethod, req: InferRequest, error: unknown, started: number, peer: string): { code: status; details: string } {
    const st = statusOf(error);
    this.record(method, st.code, started);
    const fields = { method, code: statusName(st.code), reason: st.details, requestId: req.requestId, jobId: req.jobId, clientId: req.clientId, peer };
    if (st.code === status.INTERNAL) this.o.log.error({ ...fields, err: error }, 'request failed');
    else if (st.code === status.CANCELLED || st.code === status.DEADLINE_EXCEEDED) this.o.log.info(fields, 'request dropped');
    else this.o.log.warn(fields, 'request refused');
    return st;
  }
}
