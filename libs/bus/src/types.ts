// The EventBus contract both implementations (NATS JetStream, in-process) honour, and the
// helpers they share: payload codecs, subject matching, option defaults.
import { EVENTS, eventSubject, parseEventSubject, type EventName, type EventPayload } from '@kd/proto';

/** A delivered event: where it came from and its decoded payload. */
export interface BusEvent<E extends EventName = EventName> {
  subject: string;
  job: string;
  event: E;
  payload: EventPayload<E>;
  /** JetStream stream sequence, when durable */
  seq?: number;
}

export interface EventBus {
  /** Publishes binary proto payload on kd.<job>.<event>. Never throws because the broker is down: events are buffered (bounded, oldest dropped and counted) and flushed in order when it is back. Resolves once stored (JetStream ack) or buffered. */
  publish<E extends EventName>(job: string, event: E, payload: EventPayload<E>): Promise<void>;
  /** Live subscription (no durability): handler gets every event matching `subject` (NATS wildcards) from now on. */
  subscribe(subject: string, handler: (e: BusEvent) => void): { unsubscribe(): void };
  /** Durable consumer `durable` on `subject` with explicit ack: the event is acked after `handler` resolves; if it throws or the process dies first, it is redelivered (also to a restarted process with the same durable name). Events published before the consumer first existed are delivered too (deliver all). */
  consume(durable: string, subject: string, handler: (e: BusEvent) => Promise<void>): Promise<{ stop(): Promise<void> }>;
  /** Events dropped from the outage buffer so far, and events waiting in it. */
  readonly stats: { dropped: number; buffered: number };
  /** Flushes what it can (bounded wait) and disconnects. */
  close(): Promise<void>;
}

export interface BusOptions {
  /** NATS server URL(s), comma-separated; default process.env.NATS_URL; absent or empty => in-process bus. */
  url?: string;
  /** Where warnings go, one line each; default stderr. */
  log?: (line: string) => void;
  /** Connection name the NATS server shows; default `kd-<pid>`. */
  name?: string;
  /** Events the outage buffer holds before it drops the oldest; default 10000. */
  bufferLimit?: number;
  /** JetStream stream (or in-process store) name; default "KD_EVENTS". */
  stream?: string;
  /**
   * Token(s) put in front of every wire subject (`<prefix>.kd.<job>.<event>`), invisible to
   * callers; isolates tests or tenants sharing one NATS. Default none.
   */
  subjectPrefix?: string;
  /** Durable consumers: how long a delivered, unacked event waits before redelivery, ms; default 30000. */
  ackWaitMs?: number;
  /** close(): longest wait for buffered events to be stored, ms; default 5000. */
  closeTimeoutMs?: number;
}

export const DEFAULT_STREAM = 'KD_EVENTS';
export const DEFAULT_BUFFER_LIMIT = 10_000;
export const DEFAULT_ACK_WAIT_MS = 30_000;
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

/** A durable name, stream name or subject the bus cannot use. */
export class BusConfigError extends Error {
  override name = 'BusConfigError';
}

type Codec = { fromPartial(m: unknown): unknown; encode(m: unknown): { finish(): Uint8Array }; decode(b: Uint8Array): unknown };

function codec(event: EventName): Codec {
  return EVENTS[event] as unknown as Codec;
}

/** Subject and protobuf body of an event; throws InvalidSubjectError on a bad job id or event. */
export function encodeEvent(job: string, event: EventName, payload: unknown): { subject: string; data: Uint8Array } {
  const subject = eventSubject(job, event);
  const c = codec(event);
  return { subject, data: c.encode(c.fromPartial(payload)).finish() };
}

/** Decodes a `kd.<job>.<event>` message; throws InvalidSubjectError or a protobuf decode error. */
export function decodeEvent(subject: string, data: Uint8Array, seq?: number): BusEvent {
  const { job, event } = parseEventSubject(subject);
  const payload = codec(event).decode(data) as EventPayload<EventName>;
  return seq === undefined ? { subject, job, event, payload } : { subject, job, event, payload, seq };
}

/** Whether `subject` matches a NATS pattern (`*` one token, `>` one or more trailing tokens). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

const TOKEN = /^[^.*>\s]+$/;

/** Throws BusConfigError unless `subject` is a valid NATS subscription subject. */
export function checkSubject(subject: string): void {
  const tokens = subject.split('.');
  const ok = tokens.every((t, i) => t === '*' || (t === '>' && i === tokens.length - 1) || TOKEN.test(t));
  if (!ok) throw new BusConfigError(`subject ${JSON.stringify(subject)} is not a valid NATS subject (tokens separated by '.', '*' for one token, '>' last)`);
}

/** Throws BusConfigError unless `name` is usable as a durable consumer or stream name. */
export function checkName(what: string, name: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new BusConfigError(`${what} ${JSON.stringify(name)} must be non-empty letters, digits, '_' or '-'`);
}

/** Delay before redelivering an event whose handler threw `deliveries` times: 250 ms doubling, at most 30 s. */
export function redeliveryDelayMs(deliveries: number): number {
  return Math.min(250 * 2 ** Math.max(0, deliveries - 1), 30_000);
}

/** A log function that stops repeating one kind of warning after `max` lines. */
export function limitedLog(log: (line: string) => void, max = 10): (kind: string, line: string) => void {
  const counts = new Map<string, number>();
  return (kind, line) => {
    const n = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, n);
    if (n < max) log(line);
    else if (n === max) log(`${line} (further "${kind}" warnings suppressed)`);
  };
}

export function defaultLog(line: string): void {
  process.stderr.write(`kd bus: ${line}\n`);
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
