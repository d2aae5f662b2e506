// The cluster bus: NATS JetStream. Publishes are JetStream publishes with an ack, sent one at
// a time from an ordered queue that doubles as the outage buffer, so losing NATS never stops
// a trainer: events wait (bounded, oldest dropped) and go out in order when it is back.
// Every event carries a Nats-Msg-Id, so a publish retried after a lost ack is stored once.
import { randomBytes } from 'node:crypto';
import {
  AckPolicy, connect, DeliverPolicy, DiscardPolicy, Events, nanos, RetentionPolicy, StorageType,
  type Consumer, type ConsumerMessages, type ConnectionOptions, type JetStreamClient, type JetStreamManager, type JsMsg,
  type NatsConnection, type NatsError, type Subscription,
} from 'nats';
import type { EventName, EventPayload } from '@kd/proto';
import {
  BusConfigError, checkName, checkSubject, decodeEvent, defaultLog, DEFAULT_ACK_WAIT_MS, DEFAULT_BUFFER_LIMIT,
  DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_STREAM, encodeEvent, errorText, limitedLog, redeliveryDelayMs,
  type BusEvent, type BusOptions, type EventBus,
} from './types.ts';
import { settledBefore, Signal, sleep, unlessSignal } from './signal.ts';
import { natsAuthOptions } from './nats_auth.ts';

/** Stream retention: events older than this are discarded by the server. */
export const STREAM_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
/** Wait between connection attempts (first connect and reconnects), ms. */
const RECONNECT_WAIT_MS = 250;
/** A pull for the next durable event expires (and is renewed) after this long, ms. */
const PULL_EXPIRES_MS = 5_000;
const PUBLISH_TIMEOUT_MS = 5_000;

// JetStream API error codes (nats-server errors.json)
const JS_STREAM_NOT_FOUND = 10059;
const JS_CONSUMER_NOT_FOUND = 10014;

function apiErrorCode(error: unknown): number | undefined {
  return (error as NatsError | undefined)?.api_error?.err_code;
}

interface Pending {
  subject: string;
  data: Uint8Array;
  id: string;
  /** Set while a publish() call waits for this event's ack. */
  resolve?: () => void;
}

interface SubRecord {
  pattern: string;
  handler: (e: BusEvent) => void;
  sub?: Subscription;
}

/** Connects to NATS at `url` (comma-separated servers). Never fails because the server is down: it buffers and keeps trying. */
export async function connectNatsBus(url: string, o: Omit<BusOptions, 'url'> = {}): Promise<EventBus> {
  const bus = new NatsBus(url, o);
  await bus.start();
  return bus;
}

class NatsBus implements EventBus {
  readonly streamName: string;
  readonly prefix: string;
  readonly ackWaitMs: number;
  readonly log: (line: string) => void;
  readonly warn: (kind: string, line: string) => void;
  private readonly url: string;
  private readonly options: ConnectionOptions;
  private readonly bufferLimit: number;
  private readonly closeTimeoutMs: number;
  private readonly idBase = `${process.pid}-${randomBytes(6).toString('hex')}`;
  private idCounter = 0;

  nc: NatsConnection | undefined;
  js: JetStreamClient | undefined;
  private jsm: JetStreamManager | undefined;
  connected = false;
  /** False after a failed publish until the next stored one: publish() then returns at once (buffered). */
  private healthy = true;
  private streamReady = false;
  private queue: Pending[] = [];
  private dropped = 0;
  private dropWarned = false;
  private pumping = false;
  closed = false;
  private readonly closedSignal = new Signal();
  private connectWaiters: Array<() => void> = [];
  /** Fires when the current connection is lost: requests sent on it may never be answered. */
  private connectionLost = new Signal();
  private drainWaiters: Array<() => void> = [];
  private readonly subs = new Set<SubRecord>();
  private readonly consumers = new Set<DurableRunner>();

  constructor(url: string, o: Omit<BusOptions, 'url'>) {
    this.url = url;
    this.streamName = o.stream ?? DEFAULT_STREAM;
    checkName('stream', this.streamName);
    if (o.subjectPrefix !== undefined) checkSubject(o.subjectPrefix);
    this.prefix = o.subjectPrefix ? `${o.subjectPrefix}.` : '';
    this.ackWaitMs = o.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
    this.bufferLimit = Math.max(1, o.bufferLimit ?? DEFAULT_BUFFER_LIMIT);
    this.closeTimeoutMs = o.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    this.log = o.log ?? defaultLog;
    this.warn = limitedLog(this.log);
    this.options = {
      servers: url.split(',').map((s) => s.trim()).filter(Boolean),
      name: o.name ?? `kd-${process.pid}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: RECONNECT_WAIT_MS,
      timeout: 2_000,
      pingInterval: 10_000,
      ...natsAuthOptions(),
    };
  }

  get stats() {
    return { dropped: this.dropped, buffered: this.queue.length };
  }

  /** One attempt now; when the server is not up, log once and keep trying in the background. */
  async start(): Promise<void> {
    try {
      this.attach(await connect(this.options));
    } catch (error) {
      this.log(`cannot reach NATS at ${this.url} (${errorText(error)}); buffering events (up to ${this.bufferLimit}) and retrying`);
      void this.connectLoop();
    }
  }

  // our own loop rather than nats.js waitOnFirstConnect, whose dial loop close() cannot stop
  private async connectLoop(): Promise<void> {
    while (!this.closed) {
      await sleep(RECONNECT_WAIT_MS, this.closedSignal);
      if (this.closed) return;
      let nc: NatsConnection;
      try {
        nc = await connect(this.options);
      } catch {
        continue;
      }
      if (this.closed) {
        await nc.close();
        return;
      }
      this.log(`connected to NATS at ${this.url}; flushing ${this.queue.length} buffered events`);
      this.attach(nc);
      return;
    }
  }

  private attach(nc: NatsConnection): void {
    this.nc = nc;
    this.js = nc.jetstream({ timeout: PUBLISH_TIMEOUT_MS });
    this.jsm = undefined;
    this.streamReady = false;
    for (const rec of this.subs) this.attachSub(rec);
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === Events.Disconnect) this.onDisconnect();
        else if (s.type === Events.Reconnect) this.onConnect(true);
      }
    })();
    void nc.closed().then((error) => {
      if (this.closed || this.nc !== nc) return;
      // only an unrecoverable error (auth, protocol) closes a connection that reconnects forever
      this.log(`NATS connection closed${error ? `: ${errorText(error)}` : ''}; reconnecting`);
      this.nc = undefined;
      this.onDisconnect();
      void this.connectLoop();
    });
    this.onConnect(false);
  }

  private onDisconnect(): void {
    if (!this.connected) return;
    this.connected = false;
    this.connectionLost.fire();
    this.dropWarned = false;
    this.log(`lost connection to NATS at ${this.url}; buffering events (up to ${this.bufferLimit}) until it is back`);
    this.releaseWaiters();
  }

  private onConnect(reconnected: boolean): void {
    this.connectionLost = new Signal();
    this.connected = true;
    this.healthy = true;
    this.streamReady = false; // a server that lost its store lost the stream too
    if (reconnected) this.log(`reconnected to NATS at ${this.url}; flushing ${this.queue.length} buffered events`);
    const ws = this.connectWaiters;
    this.connectWaiters = [];
    for (const w of ws) w();
    if (reconnected) for (const c of this.consumers) c.renewPull();
    void this.pump();
  }

  /** Resolves when connected (at once if connected now) or when the bus closes. */
  whenConnected(): Promise<void> {
    if (this.connected || this.closed) return Promise.resolve();
    return new Promise<void>((r) => this.connectWaiters.push(r));
  }

  /** Publishers waiting for an ack return now: their events count as buffered. */
  private releaseWaiters(): void {
    for (const p of this.queue) {
      p.resolve?.();
      p.resolve = undefined;
    }
  }

  async publish<E extends EventName>(job: string, event: E, payload: EventPayload<E>): Promise<void> {
    const { subject, data } = encodeEvent(job, event, payload);
    if (this.closed) {
      this.dropped++;
      this.warn('closed', `publish after close: ${subject} dropped`);
      return;
    }
    const entry: Pending = { subject: this.prefix + subject, data, id: `${this.idBase}-${++this.idCounter}` };
    this.queue.push(entry);
    if (this.queue.length > this.bufferLimit) {
      const oldest = this.queue.shift()!;
      oldest.resolve?.();
      this.dropped++;
      if (!this.dropWarned) {
        this.dropWarned = true;
        this.log(`event buffer full (${this.bufferLimit}); dropping the oldest events (see stats.dropped)`);
      }
    }
    if (!this.connected || !this.healthy) return;
    const stored = new Promise<void>((resolve) => (entry.resolve = resolve));
    void this.pump();
    return stored;
  }

  /** Sends queued events in order, one JetStream publish (and ack) at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    let failures = 0;
    try {
      while (this.queue.length > 0 && this.connected) {
        const entry = this.queue[0];
        try {
          await this.untilLost(async () => {
            if (!this.streamReady) await this.ensureStream();
            await this.js!.publish(entry.subject, entry.data, { msgID: entry.id, timeout: PUBLISH_TIMEOUT_MS });
          });
          if (this.queue[0] === entry) this.queue.shift(); // else dropped for space meanwhile
          entry.resolve?.();
          entry.resolve = undefined;
          failures = 0;
          this.healthy = true;
        } catch (error) {
          if (!this.connected) break; // resumes on reconnect
          failures++;
          this.healthy = false;
          this.streamReady = false;
          this.releaseWaiters();
          this.warn('publish', `cannot store ${entry.subject} in stream ${this.streamName} (${errorText(error)}); retrying`);
          await sleep(Math.min(RECONNECT_WAIT_MS * 2 ** failures, 5_000), this.closedSignal);
        }
      }
    } finally {
      this.pumping = false;
    }
    if (this.queue.length === 0) {
      const ws = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of ws) w();
    } else if (this.connected && !this.closed) void this.pump();
  }

  /**
   * Runs `work`, but gives up on it (throws) as soon as the connection is lost: a request
   * written as the socket died is never answered, and waiting for its timeout would hold up
   * everything behind it after the reconnect. Retrying is safe: publishes carry a msgID.
   */
  untilLost<T>(work: () => Promise<T>): Promise<T> {
    return unlessSignal(work(), this.connectionLost, () => new Error('connection lost'));
  }

  private async manager(): Promise<JetStreamManager> {
    if (!this.nc) throw new Error('not connected');
    this.jsm ??= await this.nc.jetstreamManager();
    return this.jsm;
  }

  /** Creates the stream, or adds our subjects to an existing one of that name. */
  async ensureStream(): Promise<void> {
    const jsm = await this.manager();
    const subjects = [`${this.prefix}kd.>`];
    try {
      const info = await jsm.streams.info(this.streamName);
      const have = info.config.subjects ?? [];
      if (!subjects.every((s) => have.includes(s))) {
        await jsm.streams.update(this.streamName, { ...info.config, subjects: [...new Set([...have, ...subjects])] });
      }
    } catch (error) {
      if (apiErrorCode(error) !== JS_STREAM_NOT_FOUND) throw error;
      try {
        await jsm.streams.add({
          name: this.streamName,
          subjects,
          storage: StorageType.File,
          retention: RetentionPolicy.Limits,
          discard: DiscardPolicy.Old,
          max_age: nanos(STREAM_MAX_AGE_MS),
          duplicate_window: nanos(120_000),
        });
      } catch (addError) {
        // another process may have created it a moment ago
        await jsm.streams.info(this.streamName).catch(() => {
          throw addError;
        });
      }
    }
    this.streamReady = true;
  }

  /** Creates durable `durable` filtered on `filter` (a wire subject), or checks the existing one matches. */
  async ensureConsumer(durable: string, filter: string): Promise<void> {
    if (!this.streamReady) await this.ensureStream();
    const jsm = await this.manager();
    try {
      const info = await jsm.consumers.info(this.streamName, durable);
      if ((info.config.filter_subject ?? '') !== filter) {
        throw new BusConfigError(
          `durable consumer ${durable} of stream ${this.streamName} already exists on ${info.config.filter_subject || '(all subjects)'}, not ${filter}; delete it or use another name`,
        );
      }
    } catch (error) {
      if (apiErrorCode(error) !== JS_CONSUMER_NOT_FOUND) throw error;
      await jsm.consumers.add(this.streamName, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(this.ackWaitMs),
        max_deliver: -1,
        filter_subject: filter,
      });
    }
  }

  private attachSub(rec: SubRecord): void {
    rec.sub = this.nc!.subscribe(rec.pattern, {
      callback: (error, msg) => {
        if (error) {
          this.warn('subscription', `subscription ${rec.pattern}: ${errorText(error)}`);
          return;
        }
        let e: BusEvent;
        try {
          e = decodeEvent(this.strip(msg.subject), msg.data);
        } catch (decodeError) {
          this.warn('undecodable', `skipping message on ${msg.subject}: ${errorText(decodeError)}`);
          return;
        }
        try {
          const r = rec.handler(e) as unknown;
          if (r instanceof Promise) r.catch((handlerError) => this.warn('handler', `subscriber of ${rec.pattern} failed: ${errorText(handlerError)}`));
        } catch (handlerError) {
          this.warn('handler', `subscriber of ${rec.pattern} failed: ${errorText(handlerError)}`);
        }
      },
    });
  }

  strip(wireSubject: string): string {
    return wireSubject.startsWith(this.prefix) ? wireSubject.slice(this.prefix.length) : wireSubject;
  }

  subscribe(subject: string, handler: (e: BusEvent) => void): { unsubscribe(): void } {
    checkSubject(subject);
    const rec: SubRecord = { pattern: this.prefix + subject, handler };
    this.subs.add(rec);
    if (this.nc && !this.closed) this.attachSub(rec);
    return {
      unsubscribe: () => {
        this.subs.delete(rec);
        rec.sub?.unsubscribe();
        rec.sub = undefined;
      },
    };
  }

  async consume(durable: string, subject: string, handler: (e: BusEvent) => Promise<void>): Promise<{ stop(): Promise<void> }> {
    checkName('durable consumer name', durable);
    checkSubject(subject);
    if (this.closed) throw new BusConfigError('consume on a closed bus');
    const filter = this.prefix + subject;
    // connected: set the consumer up now, so a conflicting definition fails the call; other
    // failures (NATS going away right now) are the runner's to retry
    let ready = false;
    if (this.connected) {
      try {
        await this.ensureConsumer(durable, filter);
        ready = true;
      } catch (error) {
        if (error instanceof BusConfigError) throw error;
        this.warn('consume', `consumer ${durable}: ${errorText(error)}; retrying`);
      }
    }
    const runner = new DurableRunner(this, durable, filter, handler, ready);
    this.consumers.add(runner);
    return {
      stop: async () => {
        this.consumers.delete(runner);
        await runner.stop();
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const flushed = this.queue.length === 0 ? Promise.resolve() : new Promise<void>((r) => this.drainWaiters.push(r));
    void this.pump();
    const timeout = new Signal();
    const timer = setTimeout(() => timeout.fire(), this.closeTimeoutMs);
    await Promise.all([settledBefore(flushed, timeout), ...[...this.consumers].map((c) => c.stop())]);
    clearTimeout(timer);
    this.closedSignal.fire(); // after the flush: it also cuts the pump's retry sleeps
    for (const w of this.connectWaiters.splice(0)) w();
    this.consumers.clear();
    if (this.queue.length > 0) {
      this.log(`closing with ${this.queue.length} events not stored in NATS (dropped)`);
      this.dropped += this.queue.length;
      this.releaseWaiters();
      this.queue = [];
    }
    for (const rec of this.subs) rec.sub?.unsubscribe();
    this.subs.clear();
    const nc = this.nc;
    this.nc = undefined;
    this.connected = false;
    if (nc && !nc.isClosed()) await nc.close().catch(() => {});
  }
}

/** One consume() call: pulls one event at a time, runs the handler, acks (or naks with backoff). */
class DurableRunner {
  private readonly bus: NatsBus;
  private readonly durable: string;
  private readonly filter: string;
  private readonly handler: (e: BusEvent) => Promise<void>;
  private ready: boolean;
  private stopped = false;
  private readonly stopSignal = new Signal();
  private batch: ConsumerMessages | undefined;
  private handling = false;
  private readonly loop: Promise<void>;

  /** `ready`: the consumer was just ensured on the server. */
  constructor(bus: NatsBus, durable: string, filter: string, handler: (e: BusEvent) => Promise<void>, ready: boolean) {
    this.bus = bus;
    this.durable = durable;
    this.filter = filter;
    this.handler = handler;
    this.ready = ready;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    let consumer: Consumer | undefined;
    let failures = 0;
    while (!this.stopped) {
      if (!this.bus.connected) {
        consumer = undefined;
        await settledBefore(this.bus.whenConnected(), this.stopSignal);
        continue;
      }
      try {
        if (!this.ready) {
          await this.bus.ensureConsumer(this.durable, this.filter);
          this.ready = true;
        }
        consumer ??= await this.bus.js!.consumers.get(this.bus.streamName, this.durable);
        const pulled = Date.now();
        let got = 0;
        this.batch = await consumer.fetch({ max_messages: 1, expires: PULL_EXPIRES_MS });
        if (this.stopped) this.batch.stop(); // stop() came while the pull was being set up
        for await (const m of this.batch) {
          got++;
          if (this.stopped) {
            m.nak();
            break;
          }
          this.handling = true;
          try {
            await this.handle(m);
          } finally {
            this.handling = false;
          }
        }
        failures = 0;
        // a pull the server ended at once (e.g. too many waiting pulls) must not become a busy loop
        if (got === 0 && Date.now() - pulled < 100 && !this.stopped) await sleep(250, this.stopSignal);
      } catch (error) {
        if (this.stopped || this.bus.closed) break;
        consumer = undefined;
        this.ready = false;
        failures++;
        if (this.bus.connected) this.bus.warn('consume', `consumer ${this.durable}: ${errorText(error)}; retrying`);
        await sleep(Math.min(RECONNECT_WAIT_MS * 2 ** failures, 5_000), this.stopSignal);
      } finally {
        this.batch = undefined;
      }
    }
  }

  private async handle(m: JsMsg): Promise<void> {
    let e: BusEvent;
    try {
      e = decodeEvent(this.bus.strip(m.subject), m.data, m.seq);
    } catch (error) {
      this.bus.warn('undecodable', `consumer ${this.durable}: dropping undecodable message ${m.subject} (seq ${m.seq}): ${errorText(error)}`);
      m.term();
      return;
    }
    // a long handler (an evaluation) keeps the event: "in progress" resets the ack wait
    const keepAlive = setInterval(() => m.working(), Math.max(100, this.bus.ackWaitMs / 3));
    let failed: unknown;
    const run = (async () => this.handler(e))().catch((error) => void (failed = error ?? new Error('handler rejected')));
    let finished: boolean;
    try {
      finished = await settledBefore(run, this.stopSignal);
    } finally {
      clearInterval(keepAlive);
    }
    if (!finished) {
      m.nak(); // stopped mid-handler: hand the event back for immediate redelivery
      return;
    }
    if (failed === undefined) {
      try {
        await this.bus.untilLost(() => m.ackAck());
      } catch (error) {
        this.bus.warn('ack', `consumer ${this.durable}: ack of seq ${m.seq} not confirmed (${errorText(error)}); it may be redelivered`);
      }
      return;
    }
    const n = m.info.redeliveryCount;
    const delay = redeliveryDelayMs(n);
    this.bus.warn('handler', `consumer ${this.durable}: handler failed on ${e.subject} (seq ${m.seq}, delivery ${n}), redelivering in ${delay} ms: ${errorText(failed)}`);
    m.nak(delay);
  }

  /** After a reconnect: a pull waiting on the old connection died with it, so pull again now rather than when it expires. */
  renewPull(): void {
    if (!this.handling) this.batch?.stop();
  }

  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.stopSignal.fire();
      this.batch?.stop();
    }
    await this.loop;
  }
}
