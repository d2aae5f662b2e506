// How a kd service answers a failed call: each failure is an Error that carries the gRPC status
// the client gets, so a service maps errors to statuses in one place (statusOf).
import { status, type StatusObject } from '@grpc/grpc-js';

/** A failure with the gRPC status code the client gets. */
export class StatusError extends Error {
  constructor(readonly code: status, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A malformed request or unusable input; the message starts with the field, e.g. "EvaluateRequest.iou_threshold: ...". */
export class InvalidRequestError extends StatusError {
  override name = 'InvalidRequestError';

  constructor(readonly field: string, problem: string, options?: ErrorOptions) {
    super(status.INVALID_ARGUMENT, `${field}: ${problem}`, options);
  }
}

/** The status a client of `service` gets for an error; anything unexpected is INTERNAL with its message. */
export function statusOf(error: unknown, service: string): Pick<StatusObject, 'code' | 'details'> {
  if (error instanceof StatusError) return { code: error.code, details: error.message };
  return { code: status.INTERNAL, details: `${service} failed: ${error instanceof Error ? error.message : String(error)}` };
}

/** "OK", "INVALID_ARGUMENT", ...: the status name used as a metric label. */
export function statusName(code: status): string {
  return status[code] ?? String(code);
}
