// @kd/bus: kd's event bus. Events are `kd.<job>.<event>` with the proto payloads of
// proto/kd/v1/events.proto (see README.md); NATS JetStream in cluster mode, in-process when
// embedded. Both implementations honour the one EventBus contract in types.ts.
import { connectNatsBus } from './nats.ts';
import { createInProcessBus } from './memory.ts';
import type { BusOptions, EventBus } from './types.ts';

export {
  BusConfigError, DEFAULT_ACK_WAIT_MS, DEFAULT_BUFFER_LIMIT, DEFAULT_STREAM, subjectMatches,
  type BusEvent, type BusOptions, type EventBus,
} from './types.ts';
export { connectNatsBus, STREAM_MAX_AGE_MS } from './nats.ts';
export { NATS_AUTH_VARIABLES, natsAuthOptions } from './nats_auth.ts';
export { createInProcessBus, IN_PROCESS_RETAINED_EVENTS } from './memory.ts';

/**
 * The bus of this process: NATS JetStream at `o.url` (default $NATS_URL), or the in-process
 * bus when neither is set. Never fails because NATS is down; it buffers and keeps trying.
 */
export function connectBus(o: BusOptions = {}): Promise<EventBus> {
  const url = o.url ?? process.env.NATS_URL;
  if (!url) return Promise.resolve(createInProcessBus(o));
  return connectNatsBus(url, o);
}
export { portOpen } from './port_open.ts';
