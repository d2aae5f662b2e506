// The kd.v1.EvaluatorService gRPC handlers. The class owns its wiring (addToServer), turns
// requests into tasks for the Evaluator, maps errors to statuses in one place, and knows what
// is in flight so shutdown can answer it.
import { status, type Server, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import {
  type EvaluateRequest, type EvaluateResponse, EvaluatorServiceService, type EvaluatorServiceServer, type GetReportRequest,
  type GetReportResponse,
} from '@kd/proto';
import type { Logger } from '@kd/telemetry';
import { IdTakenError, InvalidRequestError, ReportNotFoundError, ShuttingDownError, statusName, statusOf } from './errors.ts';
import type { Evaluator } from './evaluator.ts';
import { EvaluatorMethod, type EvaluatorMetrics } from './metrics.ts';
import { checkJobId, taskFromRequest } from './task.ts';

export interface EvaluatorServiceOptions {
  evaluator: Evaluator;
  metrics: EvaluatorMetrics;
  log: Logger;
}

export class EvaluatorService {
  private draining = false;
  private inFlight = 0;
  private drainWaiters: Array<() => void> = [];

  constructor(private readonly o: EvaluatorServiceOptions) {}

  /** Registers the EvaluatorService handlers on a grpc-js server. */
  addToServer(server: Server): void {
    const impl: EvaluatorServiceServer = {
      evaluate: (call, callback) => this.evaluate(call, callback),
      getReport: (call, callback) => this.getReport(call, callback),
    };
    server.addService(EvaluatorServiceService, impl);
  }

  /** Refuses new Evaluate calls (UNAVAILABLE); resolves once every Evaluate taken has been answered. */
  shutdown(): Promise<void> {
    this.draining = true;
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private evaluate(call: ServerUnaryCall<EvaluateRequest, EvaluateResponse>, callback: sendUnaryData<EvaluateResponse>): void {
    const req = call.request;
    const fail = (error: unknown) => {
      const st = this.fail(EvaluatorMethod.Evaluate, error, { jobId: req.jobId, evaluationId: req.evaluationId, peer: call.getPeer() });
      callback(st);
    };
    if (this.draining) {
      fail(new ShuttingDownError());
      return;
    }
    let task;
    try {
      task = taskFromRequest(req);
      const taken = this.o.evaluator.sourceOf(task.evaluationId);
      if (taken !== undefined && taken !== task.source) throw new IdTakenError(task.evaluationId, taken);
    } catch (error) {
      fail(error);
      return;
    }
    this.inFlight++;
    // A cancelled call's evaluation still runs: its report stays available by evaluation id.
    this.o.evaluator
      .submit(task)
      .then(
        (stored) => {
          this.record(EvaluatorMethod.Evaluate, status.OK);
          callback(null, { report: stored.report });
        },
        fail,
      )
      .finally(() => {
        this.inFlight--;
        if (this.draining && this.inFlight === 0) {
          const ws = this.drainWaiters;
          this.drainWaiters = [];
          for (const w of ws) w();
        }
      });
  }

  private getReport(call: ServerUnaryCall<GetReportRequest, GetReportResponse>, callback: sendUnaryData<GetReportResponse>): void {
    const req = call.request;
    try {
      let report;
      if (req.evaluationId !== undefined) {
        if (req.evaluationId === '') throw new InvalidRequestError('GetReportRequest.evaluation_id', 'empty');
        report = this.o.evaluator.report(req.evaluationId);
        if (!report) throw new ReportNotFoundError(`evaluation ${JSON.stringify(req.evaluationId)}`);
      } else if (req.jobId !== undefined) {
        if (req.jobId === '') throw new InvalidRequestError('GetReportRequest.job_id', 'empty');
        checkJobId(req.jobId, 'GetReportRequest.job_id');
        report = this.o.evaluator.latest(req.jobId);
        if (!report) throw new ReportNotFoundError(`job ${JSON.stringify(req.jobId)}`);
      } else {
        throw new InvalidRequestError('GetReportRequest.key', 'neither evaluation_id nor job_id is set');
      }
      this.record(EvaluatorMethod.GetReport, status.OK);
      callback(null, { report });
    } catch (error) {
      callback(this.fail(EvaluatorMethod.GetReport, error, { jobId: req.jobId, evaluationId: req.evaluationId, peer: call.getPeer() }));
    }
  }

  private record(method: EvaluatorMethod, code: status): void {
    this.o.metrics.requests.inc({ method, code: statusName(code) });
  }

  /** Counts and logs a failed call; returns the status to send. */
  private fail(method: EvaluatorMethod, error: unknown, fields: Record<string, unknown>): { code: status; details: string } {
    const st = statusOf(error);
    this.record(method, st.code);
    const f = { method, code: statusName(st.code), reason: st.details, ...fields };
    if (st.code === status.INTERNAL) this.o.log.error({ ...f, err: error }, 'request failed');
    else if (st.code === status.NOT_FOUND && method === EvaluatorMethod.GetReport) this.o.log.debug(f, 'no such report');
    else this.o.log.warn(f, 'request refused');
    return st;
  }
}
