// The life of a kd gRPC service process: signal handlers installed before anything starts (a
// SIGTERM right after "listening on", or during start-up, is an orderly stop, never the default
// kill), a graceful shutdown with a deadline, and the one stdout line scripts wait for.
import type { Logger } from './logger.ts';

export interface ServedProcess {
  /** The bound gRPC port, printed as `listening on HOST:PORT`. */
  port: number;
  /** Stops taking work, lets work in flight finish, closes everything; resolves when done. */
  shutdown(): Promise<void>;
}

export interface ServeOptions<S extends ServedProcess> {
  log: Logger;
  host: string;
  /** What the service finishes on a signal, for the log line (e.g. "requests in flight"). */
  draining: string;
  /** Longest orderly shutdown before the process exits 1 anyway, milliseconds. */
  graceMs: number;
  start(): Promise<S>;
  /** Fields for the "serving" log line. */
  describe?(served: S): Record<string, unknown>;
}

/**
 * Starts the service and serves until SIGTERM/SIGINT; then shuts down and exits 0 (1 when it
 * failed or took longer than graceMs; a second signal exits 1 at once). Exits 1 if start fails.
 */
export async function serveUntilSignalled<S extends ServedProcess>(o: ServeOptions<S>): Promise<S> {
  const { log } = o;
  let served: S | undefined;
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    if (!served) {
      log.info({ signal }, 'signal during start-up: exiting');
      process.exit(0);
    }
    log.info({ signal }, `shutting down: finishing ${o.draining}`);
    const force = setTimeout(() => {
      log.error({ graceMs: o.graceMs }, `${o.draining} still not finished after the grace period; exiting anyway`);
      process.exit(1);
    }, o.graceMs);
    force.unref();
    served.shutdown().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    served = await o.start();
  } catch (error) {
    log.fatal({ err: error }, `failed to start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  log.info({ host: o.host, port: served.port, ...o.describe?.(served) }, 'serving');
  process.stdout.write(`listening on ${o.host}:${served.port}\n`);
  return served;
}
