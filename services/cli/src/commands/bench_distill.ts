// `kd bench distill`: distillation throughput with the teacher in the trainer's process (one
// thread does both), with the teacher served from its own process (the point of serving a
// teacher: the student and the teacher run at once), and data-parallel training beside them.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { generateShapesDataset } from '@kd/data';
import { initBackend } from '@kd/engine';
import { SHIPPED_TEACHER } from '@kd/trainer';
import { startService } from '../service_process.ts';
import { exitTwoOnUsageError, positiveInt, reportUserErrors } from './common.ts';
import { TINY_MODEL, tinyTeacher } from './bench_fixtures.ts';
import { withTempDir } from './bench_util.ts';

const kdBin = fileURLToPath(new URL('../../bin/kd.js', import.meta.url));
const STUDENT = fileURLToPath(new URL('../../../../configs/yolov3_mobilenet_v1_shapes.yml', import.meta.url));

interface Options { weights?: string; steps: number; json?: boolean; quick?: boolean }

/** Runs `kd ...args`; resolves with train_summary.json of save_dir, rejects with the run's stderr. */
function kdRun(args: string[], saveDir: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [kdBin, ...args, '-o', `save_dir=${saveDir}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(readFileSync(join(saveDir, 'train_summary.json'), 'utf8'))) : reject(new Error(`kd ${args[0]} exited ${code}:\n${stderr}`))));
  });
}

export function benchDistillCommand(): Command {
  return exitTwoOnUsageError(new Command('distill'))
    .description('images/s of kd distill with the teacher in-process vs served from its own process, and kd train with replicas: 2')
    .option('--weights <dir>', `teacher checkpoint (default ${SHIPPED_TEACHER})`)
    .option('--steps <n>', 'training steps per run (images/s over the whole run)', positiveInt, 48)
    .option('--quick', 'tiny models at 64 px, 3 steps (seconds, for tests)')
    .option('--json', 'print one JSON object instead of a table')
    .action((opts: Options) => reportUserErrors('bench distill', () => withTempDir('kd-bench-distill-', (tmp) => benchDistill(opts, tmp))));
}

async function benchDistill(opts: Options, tmp: string): Promise<void> {
  const say = (line: string) => process.stderr.write(`kd bench distill: ${line}\n`);
  const data = join(tmp, 'data');
  const steps = opts.quick ? 3 : opts.steps;
  await generateShapesDataset({ out: data, train: opts.quick ? 8 : 64, test: 1, unlabeled: 0, size: opts.quick ? 96 : 320, seed: 11 });
  if (opts.quick) await initBackend(); // the tiny teacher is made here
  const weights = opts.quick ? await tinyTeacher(join(tmp, 'teacher')) : opts.weights ?? SHIPPED_TEACHER;
  const common = ['-c', STUDENT, '-o', `dataset.dir=${data}`, '-o', `max_iters=${steps}`, '-o', 'snapshot_iter=100000', '-o', `log_iter=${steps}`,
    ...(opts.quick ? [...TINY_MODEL, 'train_reader.batch_size=2', 'train_reader.workers=0'].flatMap((o) => ['-o', o]) : [])];
  const ips = (summary: Record<string, unknown>) => summary.train_images_per_s as number;

  say(`teacher in-process (one thread runs teacher and student), ${steps} steps`);
  const sequential = await kdRun(['distill', ...common, '--teacher-pretrained', weights], join(tmp, 'sequential'));
  const service = await startService('teacher', ['--weights', weights, '--port', '0', '--metrics-port', 'none']);
  let remote: Record<string, unknown>;
  const finalLoss: Record<string, number> = {};
  try {
    say(`teacher served from its own process at ${service.address}, ${steps} steps`);
    remote = await kdRun(['distill', ...common, '--teacher', `grpc://${service.address}`], join(tmp, 'remote'));
    // what sparse answers do to a short distillation: the same run with fp32 and sparse outputs
    // (fine_grained: sparse leaves out low-objectness anchors, which l2 would need)
    for (const encoding of ['fp32', 'sparse']) {
      say(`fine_grained with ${encoding} teacher outputs, ${steps} steps`);
      const run = await kdRun(['distill', ...common, '--teacher', `grpc://${service.address}`, '-o', 'distill.method=fine_grained', '-o', `teacher.output_encoding=${encoding}`],
        join(tmp, `fine_grained_${encoding}`));
      finalLoss[encoding] = run.final_loss as number;
    }
  } finally {
    await service.stop();
  }
  say(`kd train with replicas: 2 (no teacher: kd distill runs with replicas: 1), ${steps} steps`);
  const replicas2 = await kdRun(['train', ...common, '-o', 'replicas=2'], join(tmp, 'replicas2'));
  const result = {
    weights, steps, batch: opts.quick ? 2 : 8,
    sequential_img_s: ips(sequential), remote_img_s: ips(remote), replicas2_img_s: ips(replicas2),
    speedup: ips(remote) / ips(sequential),
    remote_teacher_wait_s: remote.teacher_wait_s, remote_wall_s: remote.wall_s,
    fine_grained_final_loss: { fp32: finalLoss.fp32, sparse: finalLoss.sparse },
    replicas2_note: 'kd train (detection loss only) with replicas: 2; kd distill runs with replicas: 1',
  };
  process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : [
    `student ${STUDENT.split('/').pop()}, teacher ${weights}, ${steps} steps`,
    `teacher in-process (1 thread)    ${result.sequential_img_s.toFixed(2)} images/s`,
    `teacher in its own process       ${result.remote_img_s.toFixed(2)} images/s (${result.speedup.toFixed(2)}x; waited ${Number(remote.teacher_wait_s).toFixed(1)} s of ${Number(remote.wall_s).toFixed(1)} s on it)`,
    `kd train, replicas: 2 (no teacher) ${result.replicas2_img_s.toFixed(2)} images/s`,
    `fine_grained final loss          fp32 outputs ${finalLoss.fp32.toFixed(4)}, sparse ${finalLoss.sparse.toFixed(4)}`,
  ].join('\n') + '\n');
}
