// The evaluator service's gRPC API as promises (ts-proto's client is callback-style).
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { channelCredentials, clientAuthFromEnv, clientOptions, type ClientAuth } from '@kd/grpc-auth';
import {
  type CheckpointInput, EvaluateRequest, EvaluationState, EvaluatorServiceClient, GRPC_MESSAGE_OPTIONS, type EvaluationReport, type GetReportRequest,
} from '@kd/proto';

/** An evaluation the evaluator finished as FAILED, with its error. */
export class EvaluationFailedError extends Error {
  override name = 'EvaluationFailedError';
}

/** The environment variables of the evaluator client's TLS and token: KD_EVALUATOR_TLS_CA, KD_EVALUATOR_TOKEN_FILE, ... */
export const EVALUATOR_AUTH_PREFIX = 'KD_EVALUATOR';

export class EvaluatorClient {
  private readonly client: EvaluatorServiceClient;

  /** `auth` defaults to the KD_EVALUATOR_* variables (throws AuthConfigError when they are unusable). */
  constructor(address: string, auth: ClientAuth = clientAuthFromEnv(EVALUATOR_AUTH_PREFIX)) {
    this.client = new EvaluatorServiceClient(address, channelCredentials(auth), { ...GRPC_MESSAGE_OPTIONS, ...clientOptions(auth) });
  }

  /** Evaluate, waiting as long as the evaluator's queue takes; a FAILED report throws EvaluationFailedError. */
  evaluate(request: Omit<Partial<EvaluateRequest>, 'checkpoint'> & { checkpoint?: Partial<CheckpointInput> }): Promise<EvaluationReport> {
    const full = EvaluateRequest.fromPartial(request); // the fields not given: the proto's defaults
    return new Promise((resolve, reject) =>
      this.client.evaluate(full, new Metadata(), (err: ServiceError | null, res) => {
        if (err) return reject(new Error(`evaluator: Evaluate ${full.checkpoint?.path ?? ''}: ${err.message}`));
        const report = res!.report!;
        if (report.state === EvaluationState.EVALUATION_STATE_FAILED) return reject(new EvaluationFailedError(`evaluator: evaluation of ${report.source} failed: ${report.error}`));
        resolve(report);
      }),
    );
  }

  /** GetReport; undefined for NOT_FOUND (nothing evaluated yet). */
  getReport(request: GetReportRequest): Promise<EvaluationReport | undefined> {
    return new Promise((resolve, reject) =>
      this.client.getReport(request, new Metadata(), { deadline: Date.now() + 10_000 }, (err: ServiceError | null, res) => {
        if (err) return err.code === status.NOT_FOUND ? resolve(undefined) : reject(new Error(`evaluator: GetReport: ${err.message}`));
        resolve(res!.report!);
      }),
    );
  }

  close(): void {
    this.client.close();
  }
}
