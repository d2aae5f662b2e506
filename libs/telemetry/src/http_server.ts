// The one HTTP endpoint every kd service exposes: /metrics for Prometheus, /healthz for
// liveness/readiness probes. Plain node:http; no framework for two routes.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Registry } from 'prom-client';

export interface Health {
  ok: boolean;
  /** Short reason shown in the /healthz body, e.g. "serving" or "shutting down". */
  detail: string;
}

export interface TelemetryServerOptions {
  registry: Registry;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Interface to bind, default 127.0.0.1. */
  host?: string;
  /** Answers /healthz: 200 when ok, 503 otherwise. Default: always ok. */
  health?: () => Health;
}

export interface TelemetryServer {
  /** The port actually bound (the free one when asked for 0). */
  port: number;
  host: string;
  /** Stops listening and drops open keep-alive connections; resolves when closed. */
  close(): Promise<void>;
}

/** Starts the /metrics + /healthz server; resolves once it listens. */
export async function startTelemetryServer(options: TelemetryServerOptions): Promise<TelemetryServer> {
  const host = options.host ?? '127.0.0.1';
  const health = options.health ?? (() => ({ ok: true, detail: 'ok' }));
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handle(req, res, options.registry, health).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A Prometheus scraper keeps its connection alive; without this close() would wait for it.
        for (const s of sockets) s.destroy();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, registry: Registry, health: () => Health): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    return;
  }
  if (path === '/metrics') {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  if (path === '/healthz') {
    const h = health();
    res.writeHead(h.ok ? 200 : 503, { 'content-type': 'text/plain' }).end(`${h.detail}\n`);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
}
