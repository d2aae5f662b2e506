// Every way an evaluator request can fail, each a named Error that carries the gRPC status it
// is answered with, so handlers map errors to statuses in one place (statusOf).
import { status, type StatusObject } from '@grpc/grpc-js';

/** A failure with the gRPC status code the client gets. */
export class EvaluatorError extends Error {
  constructor(readonly code: status, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A malformed request or unusable input; the message names the field (and file), e.g. "EvaluateRequest.iou_threshold: ...". */
export class InvalidRequestError extends EvaluatorError {
  override name = 'InvalidRequestError';

  constructor(readonly field: string, problem: string, options?: ErrorOptions) {
    super(status.INVALID_ARGUMENT, `${field}: ${problem}`, options);
  }
}

/** A path in the request that does not exist; the message names the field and the path. */
export class PathNotFoundError extends EvaluatorError {
  override name = 'PathNotFoundError';

  constructor(readonly field: string, problem: string, options?: ErrorOptions) {
    super(status.NOT_FOUND, `${field}: ${problem}`, options);
  }
}

/** GetReport found nothing under the key. */
export class ReportNotFoundError extends EvaluatorError {
  override name = 'ReportNotFoundError';

  constructor(what: string) {
    super(status.NOT_FOUND, `no report for ${what}`);
  }
}

/** An evaluation id already names an evaluation of another input. */
export class IdTakenError extends EvaluatorError {
  override name = 'IdTakenError';

  constructor(id: string, source: string) {
    super(status.ALREADY_EXISTS, `EvaluateRequest.evaluation_id: ${JSON.stringify(id)} already names the evaluation of ${source}; use another id`);
  }
}

/** The service is shutting down and takes no new work (or cut an evaluation short). */
export class ShuttingDownError extends EvaluatorError {
  override name = 'ShuttingDownError';

  constructor(what = 'the evaluator is shutting down; retry on another replica or after the restart') {
    super(status.UNAVAILABLE, what);
  }
}

/** The status a client gets for an error; anything unexpected is INTERNAL with its message. */
export function statusOf(error: unknown): Pick<StatusObject, 'code' | 'details'> {
  if (error instanceof EvaluatorError) return { code: error.code, details: error.message };
  return { code: status.INTERNAL, details: `evaluator failed: ${error instanceof Error ? error.message : String(error)}` };
}

/** "OK", "INVALID_ARGUMENT", ...: the status name used as a metric label. */
export function statusName(code: status): string {
  return status[code] ?? String(code);
}
