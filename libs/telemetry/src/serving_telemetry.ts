// A gRPC service's telemetry server: /metrics, and /healthz that says "serving" until the service
// starts to shut down (then 503, so a load balancer stops sending it work), or none at all.
import type { Registry } from 'prom-client';
import { startTelemetryServer } from './http_server.ts';
import type { Logger } from './logger.ts';

export interface ServingTelemetry {
  /** The bound port, null when the service runs without one (--metrics-port none). */
  port: number | null;
  /** /healthz answers 503 "shutting down" from now on. */
  stopServing(): void;
  close(): Promise<void>;
}

/** Starts it on `port` (0: a free one; null: none) and logs where it listens. */
export async function startServingTelemetry(o: { registry: Registry; port: number | null; host: string; log: Logger }): Promise<ServingTelemetry> {
  let serving = true;
  const stopServing = () => {
    serving = false;
  };
  if (o.port === null) return { port: null, stopServing, close: async () => {} };
  const server = await startTelemetryServer({
    registry: o.registry, port: o.port, host: o.host,
    health: () => (serving ? { ok: true, detail: 'serving' } : { ok: false, detail: 'shutting down' }),
  });
  o.log.info({ host: o.host, port: server.port }, 'metrics listening');
  return { port: server.port, stopServing, close: () => server.close() };
}
