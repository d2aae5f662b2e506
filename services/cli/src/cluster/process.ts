// A child process of `kd cluster`: started in its own process group (so a Ctrl-C in the
// terminal reaches kd cluster alone, which then stops the services in order), its output
// appended to a log file with the last lines kept for error messages, and ready once its
// output says so (`listening on`, `metrics on`, nats-server's `Server is ready`).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** How a child ended: its exit code, or the signal that killed it. */
export interface ProcessExit { code: number | null; signal: NodeJS.Signals | null }

/** `code N` or `signal S`, for messages. */
export const describeExit = (e: ProcessExit): string => (e.signal ? `signal ${e.signal}` : `code ${e.code}`);

export interface StartProcessOptions<T> {
  /** Short name for messages, e.g. "teacher" or "trainer baseline". */
  name: string;
  command: string;
  args: readonly string[];
  /** Where stdout and stderr go (truncated first). */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Looks at everything printed so far; returns what the caller needs (an address) once the process is ready. */
  ready: (stdout: string, stderr: string) => T | undefined;
  /** Longest wait for `ready`, ms. */
  timeoutMs?: number;
}

/** Bytes of output kept in memory for tail(). */
const TAIL_BYTES = 16_000;

/** A started child process; see startProcess. */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  exit: ProcessExit | undefined;
  private tailText = '';
  private readonly logFd: number;
  private logClosed = false;

  constructor(readonly name: string, command: string, args: readonly string[], readonly logFile: string, env: NodeJS.ProcessEnv) {
    mkdirSync(dirname(logFile), { recursive: true });
    this.logFd = openSync(logFile, 'w');
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env, detached: true });
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        // spawn failed (no such binary): report it like an exit
        this.append(`kd cluster: could not start ${command}: ${error.message}\n`);
        this.exit ??= { code: 127, signal: null };
        resolve(this.exit);
      });
      this.child.once('exit', (code, signal) => {
        this.exit ??= { code, signal };
        resolve(this.exit);
      });
    });
    // 'close' comes after the last output of both pipes
    this.child.once('close', () => {
      this.logClosed = true;
      closeSync(this.logFd);
    });
    this.pid = this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exit === undefined && this.child.exitCode === null && this.child.signalCode === null && this.pid > 0;
  }

  /** Appends output to the log file and the in-memory tail. */
  append(text: string): void {
    this.tailText = (this.tailText + text).slice(-TAIL_BYTES);
    if (this.logClosed) return;
    try {
      writeSync(this.logFd, text);
    } catch {
      // the log file is a convenience; the tail is still kept
    }
  }

  /** The last `lines` lines of output; JSON log lines shortened to `LEVEL msg`. */
  tail(lines = 15): string {
    return this.tailText.split('\n').filter((l) => l.trim() !== '').slice(-lines).map(readableLogLine).join('\n');
  }

  /** Sends `signal` to the process group (the service and anything it started). */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      try {
        this.child.kill(signal);
      } catch {
        // gone already
      }
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 10_000): Promise<ProcessExit> {
    if (!this.running) return this.exited;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A pino JSON log line as `LEVEL msg (err.message)`; any other line as it is. */
export function readableLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const o = JSON.parse(line) as { level?: unknown; msg?: unknown; err?: { message?: unknown } };
    if (typeof o.msg !== 'string') return line;
    const err = o.err && typeof o.err.message === 'string' && !o.msg.includes(o.err.message) ? ` (${o.err.message})` : '';
    return `${String(o.level ?? '').toUpperCase()} ${o.msg}${err}`;
  } catch {
    return line;
  }
}

/** The process did not get ready: it exited first, or `timeoutMs` passed (then it is killed). */
export class ProcessStartError extends Error {
  override name = 'ProcessStartError';
  constructor(readonly process: ManagedProcess, why: string) {
    super(`${process.name} ${why}`);
  }
}

/**
 * Starts `command args` in its own process group, logging to `logFile`, and resolves with the
 * process and what `ready` found once its output says it is ready. `onSpawn` sees the process
 * at once (so a caller can kill it if start-up is interrupted).
 */
export function startProcess<T>(o: StartProcessOptions<T>, onSpawn?: (p: ManagedProcess) => void): Promise<{ process: ManagedProcess; ready: T }> {
  const p = new ManagedProcess(o.name, o.command, o.args, o.logFile, o.env ?? process.env);
  onSpawn?.(p);
  let stdout = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    let settled = false;
    const timeoutMs = o.timeoutMs ?? 120_000;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      p.signal('SIGKILL');
      reject(new ProcessStartError(p, `was not ready within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const check = () => {
      if (settled) return;
      const value = o.ready(stdout, stderr);
      if (value === undefined) return;
      settled = true;
      clearTimeout(timer);
      // stop accumulating: from here on output only goes to the log file and the tail
      stdout = stderr = '';
      resolve({ process: p, ready: value });
    };
    p.child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      p.append(d);
      if (!settled) stdout += d;
      check();
    });
    p.child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      p.append(d);
      if (!settled) stderr += d;
      check();
    });
    void p.exited.then((e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new ProcessStartError(p, `exited with ${describeExit(e)} before it was ready`));
    });
  });
}
