// Owns every process kd cluster starts: a service that dies, or a SIGINT/SIGTERM/SIGHUP to kd
// cluster, stops the run (guard() rejects), stopAll() ends them in order (SIGTERM, SIGKILL after
// the grace period), and an exit of kd cluster for any reason SIGKILLs whatever is left.
import { constants } from 'node:os';
import { describeExit, ManagedProcess, ProcessStartError, startProcess, type StartProcessOptions } from './process.ts';

/** A service exited (or never got ready) while the cluster needed it. */
export class ServiceFailedError extends Error {
  override name = 'ServiceFailedError';
  constructor(readonly process: ManagedProcess, what: string) {
    super(`${process.name} ${what}`);
  }
}

/** kd cluster got a signal; it exits 128 + the signal's number (SIGINT 130, SIGTERM 143). */
export class ClusterInterruptedError extends Error {
  override name = 'ClusterInterruptedError';
  readonly exitCode: number;
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
    this.exitCode = 128 + (constants.signals[signal] ?? 0);
  }
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface SupervisedOptions {
  /** Exit code 0 is the process's normal end (a trainer), not a failure. */
  mayExit?: boolean;
  /**
   * Stop order, lowest first, each group after the one before has exited (default 0): the
   * trainers, whose last step needs the teacher and whose model_final goes out on the bus, before
   * the teacher and the evaluator, and the bus after everything.
   */
  stopOrder?: number;
}

export class Supervisor {
  /** Why the run stops early: the first service failure or signal; undefined while all is well. */
  reason: ServiceFailedError | ClusterInterruptedError | undefined;
  private readonly procs: Array<{ process: ManagedProcess; stopOrder: number }> = [];
  private readonly stop: Promise<never>;
  private rejectStop!: (reason: Error) => void;
  private stopping = false;
  private signals = 0;

  constructor(private readonly log: (line: string) => void, private readonly graceMs = 10_000) {
    this.stop = new Promise<never>((_, reject) => (this.rejectStop = reject));
    this.stop.catch(() => {}); // seen through guard()
    for (const s of SIGNALS) process.on(s, this.onSignal);
    process.on('exit', this.killAll);
  }

  /** The processes started so far, in start order. */
  get processes(): ManagedProcess[] {
    return this.procs.map((p) => p.process);
  }

  /** `work`, unless a service fails or a signal comes first (then rejects with `reason`). */
  guard<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.stop]);
  }

  /** Starts a process under supervision and waits (guarded) until it is ready. */
  async start<T>(options: StartProcessOptions<T>, o: SupervisedOptions = {}): Promise<{ process: ManagedProcess; ready: T }> {
    try {
      return await this.guard(startProcess(options, (p) => {
        this.procs.push({ process: p, stopOrder: o.stopOrder ?? 0 });
        void p.exited.then((exit) => {
          if (this.stopping || (o.mayExit && exit.code === 0)) return;
          this.fail(new ServiceFailedError(p, `exited with ${describeExit(exit)}`));
        });
        // a signal that came while it was being spawned
        if (this.stopping) p.signal('SIGTERM');
      }));
    } catch (error) {
      if (error instanceof ProcessStartError) this.fail(new ServiceFailedError(error.process, error.message.slice(error.process.name.length + 1)));
      throw this.reason ?? error;
    }
  }

  /** Records the first reason to stop and wakes every guard(). */
  fail(reason: ServiceFailedError | ClusterInterruptedError): void {
    if (this.reason) return;
    this.reason = reason;
    this.rejectStop(reason);
  }

  /** Every process: SIGTERM and wait (SIGKILL after the grace period), group by group in stopOrder. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    const orders = [...new Set(this.procs.map((p) => p.stopOrder))].sort((a, b) => a - b);
    for (const order of orders) {
      await Promise.all(this.procs.filter((p) => p.stopOrder === order).map((p) => p.process.stop(this.graceMs)));
    }
  }

  /** Removes the signal handlers (after stopAll). The exit handler stays: it has nothing left to kill. */
  dispose(): void {
    for (const s of SIGNALS) process.off(s, this.onSignal);
  }

  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (++this.signals > 1) {
      this.log(`${signal} again: killing every process now`);
      this.killAll();
      process.exit(new ClusterInterruptedError(signal).exitCode);
    }
    this.log(`${signal}: stopping every process (SIGTERM; SIGKILL after ${this.graceMs / 1000} s; ${signal} again to kill them now)`);
    this.fail(new ClusterInterruptedError(signal));
  };

  private readonly killAll = (): void => {
    for (const { process: p } of this.procs) p.signal('SIGKILL');
  };
}
