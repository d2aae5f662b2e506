// Every way an evaluator request can fail, each a StatusError (@kd/proto) that carries the gRPC
// status it is answered with, so handlers map errors to statuses in one place (statusOf).
import { status, type StatusObject } from '@grpc/grpc-js';
import { InvalidRequestError, StatusError, statusName, statusOf as serviceStatusOf } from '@kd/proto';

export { InvalidRequestError, statusName };

/** A failure with the gRPC status code the client gets. */
export class EvaluatorError extends StatusError {}

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
  return serviceStatusOf(error, 'evaluator');
}
