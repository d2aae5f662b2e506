// kd distill with the teacher behind gRPC (kd serve teacher, real processes on free ports):
// the same losses as the in-process teacher, failover when a replica dies, and a clear refusal
// of a teacher that does not fit the student, before any step.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configs, runKd, serveTeacher, stepLosses, tempDir, tinyOverrides, type TeacherProcess } from './fixtures.ts';

const student = join(configs, 'yolov3_mobilenet_v1_shapes.yml');
const teacherConfig = join(configs, 'yolov3_r34_shapes.yml');
const tmp = tempDir('kd-remote-teacher-');
const data = join(tmp, 'shapes');
const teacherDir = join(tmp, 'teacher', 'model_final');
const servers: TeacherProcess[] = [];

before(async () => {
  const made = await runKd(['make-dataset', 'shapes', '--out', data, '--train', '6', '--test', '2', '--unlabeled', '0', '--size', '96', '--seed', '3']);
  assert.equal(made.status, 0, made.stderr);
  const trained = await runKd(['train', '-c', teacherConfig, ...tinyOverrides(data, join(tmp, 'teacher'), 2)]);
  assert.equal(trained.status, 0, trained.stderr);
});
after(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGKILL')));
});

async function serve(weights = teacherDir, extra: string[] = []): Promise<TeacherProcess> {
  const s = await serveTeacher(weights, extra);
  servers.push(s);
  return s;
}

test('a remote teacher trains the student exactly as the in-process one (same losses for 20 steps)', async () => {
  const server = await serve();
  const steps = 20;
  const inProcess = await runKd(['distill', '-c', student, '--teacher-pretrained', teacherDir, ...tinyOverrides(data, join(tmp, 'local'), steps)]);
  assert.equal(inProcess.status, 0, inProcess.stderr);
  const expected = stepLosses(inProcess.stderr);
  assert.equal(expected.length, steps);
  const remoteLosses = async (dtype: string) => {
    const remote = await runKd(['distill', '-c', student, '--teacher', `grpc://${server.address}`, ...tinyOverrides(data, join(tmp, `remote-${dtype}`), steps),
      '-o', `teacher.input_dtype=${dtype}`]);
    assert.equal(remote.status, 0, remote.stderr);
    const summary = JSON.parse(readFileSync(join(tmp, `remote-${dtype}`, 'train_summary.json'), 'utf8'));
    assert.equal(summary.steps, steps);
    assert.match(summary.teacher, new RegExp(`at grpc://${server.address}`));
    assert.equal(typeof summary.teacher_wait_s, 'number');
    return stepLosses(remote.stderr);
  };
  const worstDifference = (got: Array<Record<string, number>>, upTo: number) => {
    let worst = 0;
    for (let i = 0; i < upTo; i++) {
      for (const key of ['loss', 'distill_loss', 'teacher_loss', 'loss_obj', 'loss_cls']) {
        assert.ok(Number.isFinite(got[i][key]), `step ${i + 1} ${key}`);
        worst = Math.max(worst, Math.abs(expected[i][key] - got[i][key]) / Math.max(1, Math.abs(expected[i][key])));
      }
    }
    return worst;
  };
  // float32 images: the teacher sees exactly the student's pixels
  const exact = await remoteLosses('float32');
  assert.equal(exact.length, steps);
  assert.ok(worstDifference(exact, steps) <= 1e-4, `images as float32: largest relative loss difference ${worstDifference(exact, steps)}`);
  // float16 images (the default) round each value by up to ~1e-3: the first step's losses agree to
  // about that; later steps drift apart as any perturbation does in this tiny, unconverged run
  const halved = await remoteLosses('float16');
  assert.equal(halved.length, steps);
  assert.ok(worstDifference(halved, 1) <= 1e-3, `images as float16: first-step relative loss difference ${worstDifference(halved, 1)}`);
});

test('when one of two replicas dies mid-run, its batches go to the other: every step runs once, losses finite', async () => {
  const a = await serve();
  const b = await serve();
  const steps = 30;
  // a few steps go through both replicas, then one is killed without warning
  let killed = false;
  const result = await runKd(['distill', '-c', student, '--teacher', `grpc://${a.address},${b.address}`, ...tinyOverrides(data, join(tmp, 'failover'), steps),
    '-o', 'teacher.timeout_s=5'], (log) => {
    if (!killed && /step 5 lr/.test(log)) {
      killed = true;
      a.child.kill('SIGKILL');
    }
  });
  assert.equal(result.status, 0, result.stderr);
  assert.ok(killed);
  assert.match(result.stderr, new RegExp(`teacher replica ${a.address.replace(/[.]/g, '\\.')} failed \\(UNAVAILABLE.*\\); sending the batch to another`));
  const losses = stepLosses(result.stderr);
  assert.deepEqual([...result.stderr.matchAll(/step (\d+) lr/g)].map((m) => Number(m[1])), Array.from({ length: steps }, (_, i) => i + 1));
  for (const l of losses) assert.ok(Number.isFinite(l.loss) && Number.isFinite(l.distill_loss));
  const summary = JSON.parse(readFileSync(join(tmp, 'failover', 'model_final', 'model.json'), 'utf8'));
  assert.equal(summary.step, steps);
});

test('a teacher that does not fit the student is refused in one message before any step; an unreachable one is named', async () => {
  const server = await serve();
  const mismatched = await runKd(['distill', '-c', student, '--teacher', `grpc://${server.address}`, ...tinyOverrides(data, join(tmp, 'bad'), 2),
    '-o', 'num_classes=5']);
  assert.equal(mismatched.status, 2, mismatched.stderr);
  assert.match(mismatched.stderr, /student\/teacher heads do not pair: num classes: teacher 8, student 5/);
  assert.doesNotMatch(mismatched.stderr, /step 1 lr/);

  const anchors = await runKd(['distill', '-c', student, '--teacher', `grpc://${server.address}`, ...tinyOverrides(data, join(tmp, 'bad2'), 2),
    '-o', 'yolo_head.anchor_masks=[[0,1,2],[3,4,5],[6,7,8]]']);
  assert.equal(anchors.status, 2, anchors.stderr);
  assert.match(anchors.stderr, /heads do not pair: stride 32: teacher anchors/);

  const sparseL2 = await runKd(['distill', '-c', student, '--teacher', `grpc://${server.address}`, ...tinyOverrides(data, join(tmp, 'bad5'), 2),
    '-o', 'teacher.output_encoding=sparse', '-o', 'distill.method=l2']);
  assert.equal(sparseL2.status, 2, sparseL2.stderr);
  assert.match(sparseL2.stderr, /teacher\.output_encoding: sparse leaves out .* use fp32 or fp16 with l2/);

  const nobody = await runKd(['distill', '-c', student, '--teacher', 'grpc://127.0.0.1:1', ...tinyOverrides(data, join(tmp, 'bad3'), 2), '-o', 'teacher.timeout_s=1']);
  assert.equal(nobody.status, 2, nobody.stderr);
  assert.match(nobody.stderr, /no teacher replica answered at grpc:\/\/127\.0\.0\.1:1/);

  const badAddress = await runKd(['distill', '-c', student, '--teacher', 'grpc://nohost', ...tinyOverrides(data, join(tmp, 'bad4'), 2)]);
  assert.equal(badAddress.status, 2);
  assert.match(badAddress.stderr, /"nohost" is not HOST:PORT/);
});

test('a replica serving another model is refused by name; the run goes on with the one that fits', async () => {
  const otherDir = join(tmp, 'other-teacher');
  const trained = await runKd(['train', '-c', teacherConfig, ...tinyOverrides(data, otherDir, 1)]);
  assert.equal(trained.status, 0, trained.stderr);
  const good = await serve();
  const other = await serve(join(otherDir, 'model_final'));
  const result = await runKd(['distill', '-c', student, '--teacher', `grpc://${good.address},${other.address}`, ...tinyOverrides(data, join(tmp, 'mixed'), 4)]);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, new RegExp(`teacher replica ${other.address.replace(/[.]/g, '\\.')} \\(.*\\) refused: it serves model_final \\(sha256:`));
  assert.equal(stepLosses(result.stderr).length, 4);
});

test('with every replica gone the trainer waits, says so once, and goes on when one is back on the same address', async () => {
  const first = await serve();
  const port = first.address.split(':').pop()!;
  let restarted: Promise<TeacherProcess> | undefined;
  const result = await runKd(['distill', '-c', student, '--teacher', `grpc://${first.address}`, ...tinyOverrides(data, join(tmp, 'outage'), 12),
    '-o', 'teacher.timeout_s=5'], (log) => {
    if (!restarted && /step 4 lr/.test(log)) {
      first.child.kill('SIGKILL');
      // back after a pause the trainer has to wait through
      restarted = new Promise((r) => setTimeout(r, 1500)).then(() => serve(teacherDir, ['--port', port]));
    }
  });
  assert.equal(result.status, 0, result.stderr);
  assert.ok(restarted);
  await restarted;
  assert.equal(result.stderr.match(/no teacher replica at .* is up; waiting for one/g)?.length, 1, result.stderr);
  assert.match(result.stderr, /teacher replica .* is back/);
  assert.deepEqual([...result.stderr.matchAll(/step (\d+) lr/g)].map((m) => Number(m[1])), Array.from({ length: 12 }, (_, i) => i + 1));
});
