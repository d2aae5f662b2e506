// `kd events tail` in a child process against the shared NATS (main.ts registers the command
// separately, so the child builds a tiny `kd` with just eventsCommand()).
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { CommanderError } from 'commander';
import { connect } from 'nats';
import { TrainingProgress, type EventPayload } from '@kd/proto';
import { eventLine, eventsCommand } from './events.ts';

const NATS_URL = process.env.KD_TEST_NATS_URL || 'nats://127.0.0.1:4222';
const cliDir = fileURLToPath(new URL('../..', import.meta.url));
const script = `
import { Command, CommanderError } from 'commander';
import { eventsCommand } from ${JSON.stringify(new URL('./events.ts', import.meta.url).href)};
const program = new Command('kd').exitOverride().addCommand(eventsCommand());
try {
  await program.parseAsync(process.argv.slice(1), { from: 'user' });
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  throw error;
}`;

interface Tail {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

function kdEvents(args: string[], env: NodeJS.ProcessEnv = process.env): Tail {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, 'events', ...args], { cwd: cliDir, env });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exit };
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 15_000, tick?: () => void): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    tick?.();
    await new Promise((r) => setTimeout(r, 100));
  }
}

const natsUp = await new Promise<boolean>((resolve) => {
  const u = new URL(NATS_URL);
  const s = createConnection({ port: Number(u.port || 4222), host: u.hostname });
  s.setTimeout(1000, () => (s.destroy(), resolve(false)));
  s.once('connect', () => (s.destroy(), resolve(true)));
  s.once('error', () => resolve(false));
});

test('kd events tail without NATS says the embedded bus is per-process and exits 2', async () => {
  const env = { ...process.env };
  delete env.NATS_URL;
  const run = kdEvents(['tail'], env);
  assert.equal(await run.exit, 2, run.err());
  assert.match(run.err(), /per-process/);
  assert.match(run.err(), /--nats/);
  assert.equal(run.out(), '');
});

test('usage errors exit 2: --job with --subject, a job id with a dot', async () => {
  const events = eventsCommand();
  for (const c of [events, ...events.commands]) c.configureOutput({ writeErr: () => {} });
  await assert.rejects(
    events.parseAsync(['tail', '--job', 'a', '--subject', 'kd.>'], { from: 'user' }),
    (e: CommanderError) => e instanceof CommanderError && e.exitCode === 2,
  );
  const run = kdEvents(['tail', '--job', 'a.b', '--nats', NATS_URL]);
  assert.equal(await run.exit, 2, run.err());
  assert.match(run.err(), /--job: job id "a.b"/);
});

test('kd events tail --json --job J prints published events, the plain form a summary; Ctrl-C exits 0', { skip: !natsUp && process.env.CI !== 'true' ? `no NATS at ${NATS_URL}` : false }, async () => {
  const job = `tail_${process.pid}_${Date.now().toString(36)}`;
  const json = kdEvents(['tail', '--json', '--nats', NATS_URL, '--job', job]);
  const plain = kdEvents(['tail', '--nats', NATS_URL, '--subject', `kd.${job}.training_progress`]);
  const nc = await connect({ servers: NATS_URL });
  try {
    const progress: EventPayload<'training_progress'> = {
      jobId: job, step: 50, totalSteps: 200, lr: 0.0005, loss: { total: 2.5, distill: 0.125 },
      imagesPerSecond: 12.25, etaSeconds: 125, timeUnixSeconds: 1_700_000_000,
    };
    const data = TrainingProgress.encode(progress).finish();
    // core publishes until both tails (subscribed at some point after start) have printed one
    await waitFor('both tails to print the event', () => json.out().includes('\n') && plain.out().includes('\n'), 20_000, () =>
      nc.publish(`kd.${job}.training_progress`, data),
    );
    const first = JSON.parse(json.out().split('\n')[0]);
    assert.deepEqual(first, { subject: `kd.${job}.training_progress`, job, event: 'training_progress', payload: progress });
    assert.equal(
      plain.out().split('\n')[0],
      `2023-11-14T22:13:20.000Z kd.${job}.training_progress step 50/200 (25.0%) lr 0.0005 loss total=2.5 distill=0.125 12.3 img/s eta 2m05s`,
    );
    for (const t of [json, plain]) t.child.kill('SIGINT');
    assert.deepEqual(await Promise.all([json.exit, plain.exit]), [0, 0], json.err() + plain.err());
  } finally {
    for (const t of [json, plain]) if (t.child.exitCode === null) t.child.kill('SIGKILL');
    await nc.close();
  }
});

test('summaries of the other events', () => {
  const line = (event: string, payload: object) => eventLine({ subject: `kd.j.${event}`, job: 'j', event: event as 'replica_up', payload: payload as never }, false, 0);
  assert.equal(
    line('checkpoint_saved', { jobId: 'j', step: 500, path: 'runs/j/model_500', contentHash: `sha256:${'0123456789abcdef'.repeat(4)}`, sizeBytes: 12_345_678, timeUnixSeconds: 0 }),
    '1970-01-01T00:00:00.000Z kd.j.checkpoint_saved step 500 runs/j/model_500 (12.3 MB, sha256:0123456789ab)',
  );
  assert.equal(
    line('evaluation_done', { jobId: 'j', step: 500, evaluationId: 'e1', meanAp: 0.71234, metric: 1, perClassAp: {}, checkpointPath: 'runs/j/model_500', numImages: 4952, seconds: 93.25, timeUnixSeconds: 0 }),
    '1970-01-01T00:00:00.000Z kd.j.evaluation_done step 500 mAP 71.23% (11point, 4952 images, 93.3s) runs/j/model_500',
  );
  assert.equal(
    line('replica_down', { replicaId: 'teacher-0', address: '10.0.0.5:50051', device: 'cuda:0', reason: 'health check failed', timeUnixSeconds: 0 }),
    '1970-01-01T00:00:00.000Z kd.j.replica_down replica teacher-0 down at 10.0.0.5:50051 (cuda:0): health check failed',
  );
});
