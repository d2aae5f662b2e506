// Helpers for the bus tests and the services' NATS tests (`@kd/bus/testing`): the shared NATS, private nats-server processes,
// unique names, polling.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { connect } from 'nats';
import { portOpen } from './port_open.ts';

export { portOpen };

/** The shared NATS (JetStream on) of this machine and CI. */
export const SHARED_NATS_URL = process.env.KD_TEST_NATS_URL || 'nats://127.0.0.1:4222';

let counter = 0;
/** A name unique to this test process and call: letters, digits and '_'. */
export function uniqueId(): string {
  return `${process.pid}_${Date.now().toString(36)}_${++counter}`;
}

export async function natsReachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return portOpen(Number(u.port || 4222), u.hostname);
}

/**
 * Skip reason when a test's server is missing, or false. Under CI=true nothing is skipped:
 * a missing server fails the tests instead.
 */
export function skipUnless(available: boolean, what: string): string | false {
  if (available || process.env.CI === 'true') return false;
  return `${what} not available (CI=true makes this a failure)`;
}

/** Deletes test streams on `url`; ignores streams already gone. */
export async function deleteStreams(url: string, names: string[]): Promise<void> {
  if (names.length === 0) return;
  const nc = await connect({ servers: url, timeout: 2000 });
  try {
    const jsm = await nc.jetstreamManager();
    for (const name of names) await jsm.streams.delete(name).catch(() => false);
  } finally {
    await nc.close();
  }
}

/** Deletes KD_TEST_* streams older than 10 minutes: leftovers of killed test runs (a run takes seconds). */
export async function sweepStaleTestStreams(url: string): Promise<void> {
  const nc = await connect({ servers: url, timeout: 2000 });
  try {
    const jsm = await nc.jetstreamManager();
    const stale: string[] = [];
    for await (const s of jsm.streams.list()) {
      if (s.config.name.startsWith('KD_TEST_') && Date.now() - Date.parse(s.created) > 10 * 60_000) stale.push(s.config.name);
    }
    for (const name of stale) await jsm.streams.delete(name).catch(() => false);
  } finally {
    await nc.close();
  }
}

/** Polls `cond` every 20 ms until it holds; throws after `timeoutMs` naming `what`. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 8000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** nats-server binary: $KD_TEST_NATS_SERVER, /usr/sbin/nats-server, or one on PATH. */
export function natsServerBinary(): string | undefined {
  const candidates = [process.env.KD_TEST_NATS_SERVER, '/usr/sbin/nats-server', '/usr/local/bin/nats-server', '/usr/bin/nats-server'];
  for (const c of candidates) if (c && existsSync(c)) return c;
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(`${dir}/nats-server`)) return `${dir}/nats-server`;
  return undefined;
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A private nats-server with JetStream on 127.0.0.1:port storing in `dir`; resolves once it accepts connections. */
export async function startNatsServer(binary: string, port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const end = Date.now() + 10_000;
  while (!(await portOpen(port, '127.0.0.1', 200))) {
    if (child.exitCode !== null || Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`nats-server on port ${port} did not start: ${stderr}`);
    }
    await delay(30);
  }
  return child;
}

/** Sends `signal` (default SIGKILL: a crash, not a shutdown) and waits for the process to be gone. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
