// The embedded bus: the same semantics as the NATS one inside one process. Buses created with
// the same stream name share one store, so a second bus (a restarted component) picks up a
// durable consumer where the first left off; nothing survives the process.
import type { EventName, EventPayload } from '@kd/proto';
import {
  BusConfigError, checkName, checkSubject, decodeEvent, defaultLog, DEFAULT_STREAM, encodeEvent, errorText, limitedLog,
  redeliveryDelayMs, subjectMatches, type BusEvent, type BusOptions, type EventBus,
} from './types.ts';
import { settledBefore, Signal } from './signal.ts';

/** Events the in-process store keeps per stream; older ones are discarded, as a stream's max_msgs would. */
export const IN_PROCESS_RETAINED_EVENTS = 100_000;

interface Stored { seq: number; subject: string; data: Uint8Array }

interface DurableState {
  filter: string;
  /** Highest sequence handed out for the first time; at or below it, whatever is not waiting for redelivery is acked or in flight. */
  cursor: number;
  deliveries: Map<number, number>;
  /** Sequences waiting for redelivery -> when they are due (ms since epoch). */
  redeliver: Map<number, number>;
}

class Store {
  events: Stored[] = [];
  lastSeq = 0;
  readonly durables = new Map<string, DurableState>();
  readonly subscribers = new Set<(m: Stored) => void>();
  private readonly waiters = new Set<() => void>();

  append(subject: string, data: Uint8Array): Stored {
    const m = { seq: ++this.lastSeq, subject, data };
    this.events.push(m);
    if (this.events.length > IN_PROCESS_RETAINED_EVENTS) this.events.splice(0, this.events.length - IN_PROCESS_RETAINED_EVENTS);
    for (const deliver of this.subscribers) deliver(m);
    this.wake();
    return m;
  }

  get(seq: number): Stored | undefined {
    const first = this.events[0]?.seq ?? this.lastSeq + 1;
    return this.events[seq - first];
  }

  wake(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  /** Resolves at the next append or wake, or after `ms`. Every waiter is woken, so one that stops can leave. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  /** Next event for a durable: a due redelivery first (lowest sequence), else the next new one. */
  take(d: DurableState): Stored | undefined {
    const now = Date.now();
    let due: number | undefined;
    for (const [seq, at] of d.redeliver) if (at <= now && (due === undefined || seq < due)) due = seq;
    if (due !== undefined) {
      d.redeliver.delete(due);
      const m = this.get(due);
      if (m) return m;
    }
    const first = this.events[0]?.seq ?? this.lastSeq + 1;
    for (let seq = Math.max(d.cursor + 1, first); seq <= this.lastSeq; seq++) {
      d.cursor = seq;
      const m = this.get(seq)!;
      if (subjectMatches(d.filter, m.subject)) return m;
    }
    return undefined;
  }

  /** How long until the earliest pending redelivery, ms (Infinity when none). */
  nextDueMs(d: DurableState): number {
    let at = Infinity;
    for (const t of d.redeliver.values()) at = Math.min(at, t);
    return Math.max(0, at - Date.now());
  }
}

const stores = new Map<string, Store>();

function storeFor(name: string): Store {
  let s = stores.get(name);
  if (!s) stores.set(name, (s = new Store()));
  return s;
}

/** The in-process bus over store `o.stream` (default "KD_EVENTS"), shared by every bus of that name in this process. */
export function createInProcessBus(o: Omit<BusOptions, 'url'> = {}): EventBus {
  return new InProcessBus(o);
}

class InProcessBus implements EventBus {
  private readonly store: Store;
  private readonly log: (line: string) => void;
  private readonly warn: (kind: string, line: string) => void;
  private readonly prefix: string;
  private readonly closers = new Set<() => Promise<void> | void>();
  private closed = false;
  private droppedAfterClose = 0;

  constructor(o: Omit<BusOptions, 'url'>) {
    const stream = o.stream ?? DEFAULT_STREAM;
    checkName('stream', stream);
    this.prefix = o.subjectPrefix ? `${o.subjectPrefix}.` : '';
    this.store = storeFor(stream);
    this.log = o.log ?? defaultLog;
    this.warn = limitedLog(this.log);
  }

  get stats() {
    return { dropped: this.droppedAfterClose, buffered: 0 };
  }

  async publish<E extends EventName>(job: string, event: E, payload: EventPayload<E>): Promise<void> {
    const { subject, data } = encodeEvent(job, event, payload);
    if (this.closed) {
      this.droppedAfterClose++;
      this.warn('closed', `publish after close: ${subject} dropped`);
      return;
    }
    this.store.append(this.prefix + subject, data);
  }

  private decode(m: Stored, withSeq: boolean): BusEvent | undefined {
    try {
      return decodeEvent(m.subject.slice(this.prefix.length), m.data, withSeq ? m.seq : undefined);
    } catch (error) {
      this.warn('undecodable', `skipping ${m.subject}: ${errorText(error)}`);
      return undefined;
    }
  }

  subscribe(subject: string, handler: (e: BusEvent) => void): { unsubscribe(): void } {
    checkSubject(subject);
    const pattern = this.prefix + subject;
    let active = true;
    const deliver = (m: Stored) => {
      if (!subjectMatches(pattern, m.subject)) return;
      // asynchronous like a network delivery, in publish order (microtasks are FIFO)
      queueMicrotask(() => {
        if (!active) return;
        const e = this.decode(m, false);
        if (!e) return;
        try {
          const r = handler(e) as unknown;
          if (r instanceof Promise) r.catch((error) => this.warn('handler', `subscriber of ${subject} failed: ${errorText(error)}`));
        } catch (error) {
          this.warn('handler', `subscriber of ${subject} failed: ${errorText(error)}`);
        }
      });
    };
    this.store.subscribers.add(deliver);
    const unsubscribe = () => {
      active = false;
      this.store.subscribers.delete(deliver);
      this.closers.delete(unsubscribe);
    };
    this.closers.add(unsubscribe);
    return { unsubscribe };
  }

  async consume(durable: string, subject: string, handler: (e: BusEvent) => Promise<void>): Promise<{ stop(): Promise<void> }> {
    checkName('durable consumer name', durable);
    checkSubject(subject);
    if (this.closed) throw new BusConfigError('consume on a closed bus');
    const filter = this.prefix + subject;
    let d = this.store.durables.get(durable);
    if (!d) this.store.durables.set(durable, (d = { filter, cursor: 0, deliveries: new Map(), redeliver: new Map() }));
    else if (d.filter !== filter) {
      throw new BusConfigError(`durable consumer ${durable} already exists on ${d.filter.slice(this.prefix.length)}, not ${subject}`);
    }
    const state = d;
    const store = this.store;
    const stopSignal = new Signal();

    const loop = (async () => {
      while (!stopSignal.fired) {
        const m = store.take(state);
        if (!m) {
          await store.wait(Math.min(store.nextDueMs(state), 60_000));
          continue;
        }
        const n = (state.deliveries.get(m.seq) ?? 0) + 1;
        state.deliveries.set(m.seq, n);
        const e = this.decode(m, true);
        if (!e) {
          state.deliveries.delete(m.seq); // never decodable: dropped, like term() on NATS
          continue;
        }
        let failed: unknown;
        const run = (async () => handler(e))().catch((error) => void (failed = error ?? new Error('handler rejected')));
        if (!(await settledBefore(run, stopSignal))) {
          // stopped mid-handler: give the event back at once, as a nak would
          state.redeliver.set(m.seq, Date.now());
          store.wake();
          break;
        }
        if (failed === undefined) {
          state.deliveries.delete(m.seq);
          continue;
        }
        const delay = redeliveryDelayMs(n);
        this.warn('handler', `consumer ${durable}: handler failed on ${e.subject} (seq ${m.seq}, delivery ${n}), redelivering in ${delay} ms: ${errorText(failed)}`);
        state.redeliver.set(m.seq, Date.now() + delay);
      }
    })();

    const stop = async () => {
      stopSignal.fire();
      store.wake(); // ends the loop's wait and its timer
      this.closers.delete(stop);
      await loop;
    };
    this.closers.add(stop);
    return { stop };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.closers].map((c) => c()));
  }
}
