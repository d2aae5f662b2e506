// One-shot signals whose waiters can leave again. `Promise.race([work, longLivedPromise])`
// leaves a reaction on the long-lived promise per call, a leak in a loop that runs for days.

/** A one-shot signal: fire() once; listeners run then (or at once when added later). */
export class Signal {
  private done = false;
  private readonly listeners = new Set<() => void>();

  get fired(): boolean {
    return this.done;
  }

  fire(): void {
    if (this.done) return;
    this.done = true;
    const ls = [...this.listeners];
    this.listeners.clear();
    for (const l of ls) l();
  }

  /** Calls `f` when the signal fires (at once if it has); returns a function that removes it. */
  on(f: () => void): () => void {
    if (this.done) {
      f();
      return () => {};
    }
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }
}

/** Waits until `p` settles (true) or `signal` fires first (false); never rejects. */
export function settledBefore(p: Promise<unknown>, signal: Signal): Promise<boolean> {
  return new Promise((resolve) => {
    const off = signal.on(() => resolve(false));
    const settle = () => {
      off();
      resolve(true);
    };
    p.then(settle, settle);
  });
}

/** Settles like `work`, but rejects with `reason` as soon as `signal` fires. */
export function unlessSignal<T>(work: Promise<T>, signal: Signal, reason: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const off = signal.on(() => reject(reason()));
    work.then(
      (v) => {
        off();
        resolve(v);
      },
      (e) => {
        off();
        reject(e);
      },
    );
  });
}

/** Resolves after `ms`, or earlier when `signal` fires. */
export function sleep(ms: number, signal?: Signal): Promise<void> {
  return new Promise((resolve) => {
    let off: () => void = () => {};
    const timer = setTimeout(() => {
      off();
      resolve();
    }, ms);
    off = signal?.on(() => {
      clearTimeout(timer);
      resolve();
    }) ?? off;
  });
}
