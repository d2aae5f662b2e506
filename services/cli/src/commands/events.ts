// `kd events tail`: prints the events of a NATS bus live. Only NATS can be tailed: the
// embedded bus lives inside each kd process, so another process has nothing to read.
import { Command, Option } from 'commander';
import { BusConfigError, connectBus, type BusEvent } from '@kd/bus';
import { ALL_EVENTS_SUBJECT, apMetricName, InvalidSubjectError, jobEventsSubject, type EventPayload } from '@kd/proto';
import { exitTwoOnUsageError } from './common.ts';

interface TailOptions {
  job?: string;
  subject?: string;
  json?: boolean;
  nats?: string;
}

/** The `events` command group: `kd events tail`. */
export function eventsCommand(): Command {
  const events = exitTwoOnUsageError(new Command('events'))
    .description('watch kd events on the NATS bus (subjects kd.<job>.<event>, payloads in proto/kd/v1/events.proto)');
  events.addCommand(
    exitTwoOnUsageError(new Command('tail'))
      .description('print events live, one line each: time, subject, summary (Ctrl-C stops)')
      .addOption(new Option('--job <id>', "only this job's events (subject kd.<id>.>)").conflicts('subject'))
      .option('--subject <pattern>', `NATS subject pattern (default ${ALL_EVENTS_SUBJECT})`)
      .option('--json', 'one JSON object per line: subject, job, event, payload')
      .option('--nats <url>', 'NATS server URL (default $NATS_URL)')
      .action((o: TailOptions) => tail(o)),
  );
  return events;
}

function fail(message: string): void {
  process.stderr.write(`kd events tail: ${message}\n`);
  process.exitCode = 2;
}

async function tail(o: TailOptions): Promise<void> {
  const url = o.nats ?? process.env.NATS_URL;
  if (!url) {
    return fail(
      'no NATS server (give --nats URL or set NATS_URL). Without one, kd runs the embedded bus, which lives ' +
        'inside each kd process (per-process), so there is nothing to tail from another one.',
    );
  }
  let subject: string;
  try {
    subject = o.subject ?? (o.job === undefined ? ALL_EVENTS_SUBJECT : jobEventsSubject(o.job));
  } catch (error) {
    if (error instanceof InvalidSubjectError) return fail(`--job: ${error.message}`);
    throw error;
  }
  const bus = await connectBus({ url, name: 'kd-events-tail', log: (line) => process.stderr.write(`kd events tail: ${line}\n`) });
  try {
    let sub: { unsubscribe(): void };
    try {
      sub = bus.subscribe(subject, (e) => process.stdout.write(`${eventLine(e, o.json === true)}\n`));
    } catch (error) {
      if (error instanceof BusConfigError) return fail(`--subject: ${error.message}`);
      throw error;
    }
    process.stderr.write(`kd events tail: following ${subject} on ${url} (Ctrl-C to stop)\n`);
    await untilStopped();
    sub.unsubscribe();
  } finally {
    await bus.close();
  }
}

/** Resolves on Ctrl-C, SIGTERM, or stdout closing (`kd events tail | head`). */
function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      process.stdout.off('error', onError);
      resolve();
    };
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') done();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
    process.stdout.on('error', onError);
  });
}

/** One output line: `<ISO time> <subject> <summary>`, or the event as JSON with `json`. */
export function eventLine(e: BusEvent, json: boolean, now = Date.now()): string {
  if (json) return JSON.stringify({ subject: e.subject, job: e.job, event: e.event, payload: e.payload });
  const t = (e.payload as { timeUnixSeconds?: number }).timeUnixSeconds;
  const time = new Date(t && t > 0 ? t * 1000 : now).toISOString();
  return `${time} ${e.subject} ${summarize(e)}`;
}

const num = (v: number) => String(Number(v.toPrecision(4)));

function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** "sha256:0123456789ab" (12 hex digits are enough to tell checkpoints or models apart). */
const shortHash = (h: string) => (h ? h.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, '$1') : '-');

function metricName(m: number): string {
  try {
    return apMetricName(m as EventPayload<'evaluation_done'>['metric']);
  } catch {
    return `metric ${m}`;
  }
}

/** A compact human summary of an event's payload. */
export function summarize(e: BusEvent): string {
  switch (e.event) {
    case 'training_progress': {
      const p = e.payload as EventPayload<'training_progress'>;
      const pct = p.totalSteps > 0 ? ` (${((100 * p.step) / p.totalSteps).toFixed(1)}%)` : '';
      const loss = Object.entries(p.loss).map(([k, v]) => `${k}=${num(v)}`).join(' ');
      return `step ${p.step}/${p.totalSteps}${pct} lr ${num(p.lr)} loss ${loss || '-'} ${p.imagesPerSecond.toFixed(1)} img/s eta ${duration(p.etaSeconds)}`;
    }
    case 'checkpoint_saved': {
      const p = e.payload as EventPayload<'checkpoint_saved'>;
      return `step ${p.step} ${p.path} (${bytes(p.sizeBytes)}, ${shortHash(p.contentHash)})`;
    }
    case 'evaluation_done': {
      const p = e.payload as EventPayload<'evaluation_done'>;
      return `step ${p.step} mAP ${(100 * p.meanAp).toFixed(2)}% (${metricName(p.metric)}, ${p.numImages} images, ${p.seconds.toFixed(1)}s) ${p.checkpointPath}`;
    }
    case 'replica_up': {
      const p = e.payload as EventPayload<'replica_up'>;
      return `replica ${p.replicaId} up at ${p.address} on ${p.device || '?'} (${shortHash(p.specHash)})`;
    }
    case 'replica_down': {
      const p = e.payload as EventPayload<'replica_down'>;
      return `replica ${p.replicaId} down at ${p.address} (${p.device || '?'}): ${p.reason || 'no reason given'}`;
    }
    default:
      return JSON.stringify(e.payload);
  }
}
