// Every way a teacher request can fail, each a StatusError (@kd/proto) that carries the gRPC
// status it is answered with, so handlers map errors to statuses in one place (statusOf).
import { status, type StatusObject } from '@grpc/grpc-js';
import { InvalidRequestError, StatusError, statusName, statusOf as serviceStatusOf } from '@kd/proto';

export { InvalidRequestError, statusName };

/** A failure with the gRPC status code the client gets. */
export class TeacherError extends StatusError {}

/** expected_spec_hash names another model than the one served. */
export class SpecMismatchError extends TeacherError {
  override name = 'SpecMismatchError';

  constructor(expected: string, served: string) {
    super(status.FAILED_PRECONDITION, `InferRequest.expected_spec_hash: ${expected} is not the served spec ${served}; call GetSpec`);
  }
}

/** The batcher's queue cannot take the request's images now. */
export class QueueFullError extends TeacherError {
  override name = 'QueueFullError';

  constructor(queued: number, asked: number, limit: number) {
    super(status.RESOURCE_EXHAUSTED, `teacher queue is full: ${queued} images waiting, ${asked} more would pass --max-queue ${limit}; retry later or use another replica`);
  }
}

/** The replica is shutting down and takes no new work. */
export class ShuttingDownError extends TeacherError {
  override name = 'ShuttingDownError';

  constructor(replicaId: string) {
    super(status.UNAVAILABLE, `teacher replica ${replicaId} is shutting down; use another replica`);
  }
}

/** A queued request whose client went away or whose deadline passed before it ran. */
export class RequestDroppedError extends TeacherError {
  override name = 'RequestDroppedError';

  constructor(reason: 'cancelled' | 'deadline') {
    super(
      reason === 'cancelled' ? status.CANCELLED : status.DEADLINE_EXCEEDED,
      reason === 'cancelled' ? 'request cancelled by the client before it ran' : 'deadline passed while the request was queued',
    );
  }
}

/** The status a client gets for an error; anything unexpected is INTERNAL with its message. */
export function statusOf(error: unknown): Pick<StatusObject, 'code' | 'details'> {
  return serviceStatusOf(error, 'teacher');
}
