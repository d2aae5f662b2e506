// The bearer token on the wire: the server checks `authorization: Bearer TOKEN` on every call
// before any handler runs; the client adds it to every call. grpc.health.v1 stays open because
// Kubernetes' gRPC probes cannot send metadata.
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  InterceptingCall, Metadata, ServerInterceptingCall, status, type Interceptor, type ServerInterceptor,
} from '@grpc/grpc-js';

/** Methods under this path prefix need no token (probes). */
export const TOKEN_EXEMPT_PREFIX = '/grpc.health.v1.Health/';

/** A call the server refused for its token; never carries the token itself. */
export interface RefusedCall {
  /** Full method path, e.g. /kd.v1.TeacherService/Infer. */
  method: string;
  peer: string;
  reason: 'no bearer token' | 'wrong bearer token';
}

// Hashing both sides first gives equal lengths, so the comparison time says nothing about the token.
const digest = (s: string) => createHash('sha256').update(s).digest();

/** A server interceptor that answers UNAUTHENTICATED unless the call carries `authorization: Bearer <token>`. */
export function serverTokenInterceptor(token: string, onRefused: (call: RefusedCall) => void): ServerInterceptor {
  const expected = digest(token);
  return (method, call) => {
    if (method.path.startsWith(TOKEN_EXEMPT_PREFIX)) return new ServerInterceptingCall(call);
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, passOn) => {
            const header = metadata.get('authorization')[0];
            const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
            if (given !== undefined && timingSafeEqual(digest(given), expected)) {
              passOn(metadata);
              return;
            }
            const reason = given === undefined ? 'no bearer token' : 'wrong bearer token';
            onRefused({ method: method.path, peer: call.getPeer(), reason });
            call.sendStatus({ code: status.UNAUTHENTICATED, details: `${reason} (send "authorization: Bearer TOKEN")`, metadata: new Metadata() });
          },
        }),
    });
  };
}

/** A client interceptor that sends `authorization: Bearer <token>` with every call. */
export function clientTokenInterceptor(token: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        metadata.set('authorization', `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}
