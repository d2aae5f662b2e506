// `kd cluster` end to end with real processes: a private nats-server, the teacher, the evaluator
// and two trainers. Through the real bin once main.ts registers the command; until then through
// a tiny kd with just clusterCommand() (as events.test.ts does).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findNatsServer } from '../cluster/nats.ts';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const kdBin = join(root, 'services/cli/bin/kd.js');
const registered = /clusterCommand\(\)/.test(readFileSync(join(root, 'services/cli/src/main.ts'), 'utf8'));
const harness = `
import { Command, CommanderError } from 'commander';
import { clusterCommand } from ${JSON.stringify(new URL('./cluster.ts', import.meta.url).href)};
const program = new Command('kd').exitOverride().addCommand(clusterCommand());
try {
  await program.parseAsync(process.argv.slice(1), { from: 'user' });
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  process.stderr.write('kd: ' + (error instanceof Error ? error.message : String(error)) + '\\n');
  process.exit(1);
}`;

const tmp = mkdtempSync(join(tmpdir(), 'kd-cluster-test-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const noNats = findNatsServer(undefined, undefined, undefined) === undefined;
const skip = noNats && process.env.CI !== 'true' ? 'no nats-server on this machine' : false;

interface Run { out(): string; err(): string; exit: Promise<number | null>; kill(signal: NodeJS.Signals): void }

/** `kd cluster ...args` with the private nats-server path (no NATS_URL), on wasm. */
function kdCluster(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, KD_BACKEND: 'wasm', ...env };
  if (!('NATS_URL' in env)) delete childEnv.NATS_URL;
  if (!('KD_NATS_SERVER' in env)) delete childEnv.KD_NATS_SERVER;
  const argv = registered ? [kdBin, 'cluster', ...args] : ['--import', 'tsx', '--input-type=module', '-e', harness, 'cluster', ...args];
  const child = spawn(process.execPath, argv, { cwd: root, env: childEnv });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { out: () => out, err: () => err, exit, kill: (s) => child.kill(s) };
}

/** The pids kd cluster printed in its "<service> started (pid N)" lines. */
const startedPids = (stderr: string): number[] => [...stderr.matchAll(/started \(pid (\d+)\)/g)].map((m) => Number(m[1]));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ESRCH');
    return false;
  }
}

async function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('kd cluster --quick --init: five processes, the table with 4 rows, demo.json, nothing left running', { skip, timeout: 60_000 }, async () => {
  const work = join(tmp, 'quick');
  // --init: both students fine-tune the shipped student, so there is a "student, start" row
  const run = kdCluster(['--quick', '--init', 'models/yolov3_mobilenet_v1_shapes', '--work', work]);
  const code = await run.exit;
  assert.equal(code, 0, run.err());
  const err = run.err();
  assert.match(err, /nats-server started \(pid \d+\): nats:\/\/127\.0\.0\.1:\d+, private/);
  assert.match(err, /teacher started \(pid \d+\): gRPC 127\.0\.0\.1:\d+, metrics http:\/\/127\.0\.0\.1:\d+\/metrics/);
  assert.match(err, /evaluator started \(pid \d+\): gRPC 127\.0\.0\.1:\d+, metrics http:\/\/127\.0\.0\.1:\d+\/metrics/);
  assert.match(err, /trainer baseline started \(pid \d+\): job cluster-[\w-]+-baseline, metrics http:\/\/127\.0\.0\.1:\d+\/metrics/);
  assert.match(err, /trainer distilled started \(pid \d+\): job cluster-[\w-]+-distilled/);
  assert.match(err, /distilled: step 3\/3 \(100%\), loss [\d.]+ \(distill [\d.]+\)/, 'progress from the training_progress events');
  assert.match(err, /baseline: model_final mAP\(0\.50, 11point\) [\d.]+%/, 'the evaluator scored model_final (evaluation_done)');

  const lines = run.out().trim().split('\n');
  const header = lines.findIndex((l) => l.startsWith('model '));
  assert.ok(header >= 0, run.out());
  const table = lines.slice(header + 2, header + 6);
  assert.deepEqual(table.map((l) => l.split(/\s{2,}/)[0]), ['teacher (ResNet)', 'student, start', 'student, baseline', 'student, l2']);
  assert.match(table[0], /^teacher \(ResNet\)\s+6\.66M\s+\d+\.\d\d%\s+-\s+-\s+-\s+\d+\.\d$/);
  assert.match(table[3], /^student, l2\s+1\.54M\s+\d+\.\d\d%\s+\d+\.\d\s+\d+\.\ds \(\d+%\)\s+\d+\.\d\s+\d+\.\d$/);
  assert.match(run.out(), /The distilled student \(l2, weight 1\) ends .* after 3 steps .*One seed \(0\)/);
  assert.match(run.out(), /over \d+ seeds of \d+ steps, kd experiment measured l2 at [+-][\d.]+ \+- [\d.]+ points over the baseline \(paired by seed, \+- standard error; results\/[\w/-]+\/experiment\.json\)/, 'the committed experiment quoted');

  const result = JSON.parse(readFileSync(join(work, 'demo.json'), 'utf8'));
  assert.equal(result.steps, 3);
  assert.equal(result.bus, 'private nats-server');
  assert.equal(result.weight, 1, 'the student config\'s l2 weight');
  assert.equal(result.eval_size, 224, 'the shipped student\'s config size: --quick\'s tiny-model keys do not apply to it');
  assert.match(err, /3 steps per student from .*yolov3_mobilenet_v1_shapes, scored at 224 px/);
  assert.deepEqual(result.rows.map((r: { model: string }) => r.model), ['teacher (ResNet)', 'student, start', 'student, baseline', 'student, l2']);
  assert.ok(result.rows.every((r: { map_11point: number }) => r.map_11point >= 0 && r.map_11point <= 1));
  assert.ok(existsSync(join(work, 'distilled', 'model_final', 'model.json')));
  assert.deepEqual(readdirSync(work).filter((f) => f.startsWith('nats-')), [], 'the private JetStream store is removed');
  const pids = startedPids(err);
  assert.equal(pids.length, 5);
  assert.deepEqual(pids.filter(alive), [], 'no process is left running');
});

test('kd cluster: SIGINT while the trainers train stops every process and exits 130', { skip, timeout: 60_000 }, async () => {
  const work = join(tmp, 'sigint');
  const run = kdCluster(['--quick', '--steps', '100000', '--work', work]);
  try {
    await waitFor('both trainers to start', () => /trainer baseline started/.test(run.err()) && /trainer distilled started/.test(run.err()), 45_000);
    run.kill('SIGINT');
    assert.equal(await run.exit, 130, run.err());
  } finally {
    run.kill('SIGKILL');
  }
  assert.match(run.err(), /SIGINT: stopping every process/);
  assert.match(run.err(), /stopped by SIGINT; all 5 processes it started have exited/);
  const pids = startedPids(run.err());
  assert.equal(pids.length, 5, run.err());
  assert.deepEqual(pids.filter(alive), [], 'no process is left running');
  assert.equal(run.out(), '', 'no table');
  // the trainers were stopped first, while the teacher still served their last step: both wrote model_final
  for (const role of ['baseline', 'distilled']) assert.ok(existsSync(join(work, role, 'model_final', 'model.json')), `${role} wrote model_final`);
});

test('kd cluster: a trainer that fails stops everything and exits 1 naming it, with the end of its log', { skip, timeout: 60_000 }, async () => {
  // the teacher as the students' start: the cli only checks that model.json exists, the trainers refuse its weights
  const run = kdCluster(['--quick', '--init', 'models/yolov3_r34_shapes', '--work', join(tmp, 'fail')]);
  assert.equal(await run.exit, 1, run.err());
  assert.match(run.err(), /trainer (baseline|distilled) exited with code 2( before it was ready)?; every other process was stopped\. The end of its log \(.*trainer-(baseline|distilled)\.log\):\n  /);
  const pids = startedPids(run.err());
  assert.ok(pids.length >= 3, run.err());
  assert.deepEqual(pids.filter(alive), [], 'no process is left running');
});

test('kd cluster without NATS_URL or nats-server: one line suggesting kd demo, exit 2, nothing started', async () => {
  const run = kdCluster(['--quick', '--work', join(tmp, 'nonats')], { KD_NATS_SERVER: 'none' });
  assert.equal(await run.exit, 2, run.err());
  assert.match(run.err(), /^kd cluster: no NATS: NATS_URL is not set and there is no nats-server .*kd demo.*install nats-server/);
  assert.equal(run.err().trim().split('\n').length, 1);
  assert.doesNotMatch(run.err(), /started/);
});

test('kd cluster: a bad --method or --teacher is exit 2 before anything starts', async () => {
  const bad = kdCluster(['--quick', '--method', 'l3', '--work', join(tmp, 'bad')]);
  assert.equal(await bad.exit, 2, bad.err());
  assert.match(bad.err(), /kd cluster: --method l3: not one of l2, fine_grained, fine_grained_paper/);
  const missing = kdCluster(['--quick', '--teacher', join(tmp, 'nowhere'), '--work', join(tmp, 'bad')]);
  assert.equal(await missing.exit, 2, missing.err());
  assert.match(missing.err(), /--teacher .*nowhere: no model\.json there/);
  assert.doesNotMatch(bad.err() + missing.err(), /started/);
});

test('kd cluster with NATS_URL: uses that server and starts no nats-server of its own', { skip, timeout: 60_000 }, async () => {
  const store = mkdtempSync(join(tmp, 'nats-store-'));
  const nats = spawn(findNatsServer()!, ['-js', '-a', '127.0.0.1', '-p', '-1', '-sd', store], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    let log = '';
    nats.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
    await waitFor('the test\'s nats-server', () => log.includes('Server is ready'), 10_000);
    const url = `nats://${/Listening for client connections on (\S+)/.exec(log)![1]}`;
    const work = join(tmp, 'natsurl');
    const run = kdCluster(['--quick', '--work', work], { NATS_URL: url });
    assert.equal(await run.exit, 0, run.err());
    assert.match(run.err(), new RegExp(`bus: NATS_URL=${url}`));
    assert.doesNotMatch(run.err(), /nats-server started/);
    const pids = startedPids(run.err());
    assert.equal(pids.length, 4, 'teacher, evaluator, two trainers');
    assert.deepEqual(pids.filter(alive), []);
    const result = JSON.parse(readFileSync(join(work, 'demo.json'), 'utf8'));
    assert.equal(result.bus, 'NATS_URL');
    assert.deepEqual(result.rows.map((r: { model: string }) => r.model), ['teacher (ResNet)', 'student, baseline', 'student, l2'], '--quick: random weights, no start row');
    assert.equal(result.backbone, null);
  } finally {
    nats.kill('SIGTERM');
  }
});

test('kd cluster with a NATS_URL where nothing listens: exit 2 naming it, nothing started', async () => {
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const p = (server.address() as { port: number }).port;
      server.close(() => resolve(p));
    });
  });
  const run = kdCluster(['--quick', '--work', join(tmp, 'deadnats')], { NATS_URL: `nats://127.0.0.1:${port}` });
  assert.equal(await run.exit, 2, run.err());
  assert.match(run.err(), new RegExp(`kd cluster: NATS_URL=nats://127\\.0\\.0\\.1:${port}: no NATS server answers there`));
  assert.doesNotMatch(run.err(), /started/);
});
