import { Command } from 'commander';
import { benchMapCommand } from './bench_map.ts';
import { benchDataCommand } from './bench_data.ts';
import { benchTrainCommand } from './bench_train.ts';
import { benchTeacherCommand } from './bench_teacher.ts';
import { benchDistillCommand } from './bench_distill.ts';
import { defaultEngineBench, profileTrainStep, runEngineBench, type EngineBenchResult } from '@kd/engine';
import { positiveInt } from './common.ts';
import { formatProfile } from './profile_table.ts';

function formatEngineTable(r: EngineBenchResult): string {
  const rows: Array<[string, string]> = [
    ['backend', r.backend],
    ['model', `benchmark model, batch ${r.batch}, ${r.input_size}x${r.input_size}x3, Adam 1e-3`],
    ['forward', `${r.forward_ms.toFixed(1)} ms`],
    ['train step', `${r.train_step_ms.toFixed(1)} ms (${r.train_step_over_forward.toFixed(2)}x forward)`],
    ['cpu train step', r.cpu_train_step_ms == null ? 'skipped' : `${r.cpu_train_step_ms.toFixed(0)} ms (${r.speedup_over_cpu?.toFixed(1)}x slower)`],
    ['grad max rel err', r.grad_max_rel_err == null ? 'skipped' : r.grad_max_rel_err.toExponential(2)],
  ];
  return rows.map(([k, v]) => `${k.padEnd(18)}${v}`).join('\n');
}

export function benchCommand(): Command {
  const bench = new Command('bench').description('benchmarks that print a table, or one JSON object with --json');
  bench
    .command('engine')
    .description('forward and train-step time of the fixed engine benchmark model, vs the tfjs cpu backend')
    .option('--json', 'print one JSON object instead of a table')
    .option('--quick', 'batch 2 at 64x64 with few repeats (seconds, for tests)')
    .option('--no-cpu', 'skip the cpu backend (minutes per step at full size)')
    .option('--repeats <n>', 'timed repetitions', positiveInt)
    .option('--profile', 'instead: time one train step per tfjs kernel (tf.profile)')
    .action(async (opts: { json?: boolean; quick?: boolean; cpu: boolean; repeats?: number; profile?: boolean }) => {
      const base = opts.quick ? { ...defaultEngineBench, batch: 2, size: 64, repeats: 3, warmup: 1 } : defaultEngineBench;
      if (opts.profile) {
        const rows = await profileTrainStep(base);
        process.stdout.write(opts.json ? `${JSON.stringify(rows)}\n` : `${formatProfile(rows)}\n`);
        return;
      }
      const result = await runEngineBench({
        ...base,
        repeats: opts.repeats ?? base.repeats,
        cpu: opts.cpu,
        progress: (line) => process.stderr.write(`kd bench engine: ${line}\n`),
      });
      process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `${formatEngineTable(result)}\n`);
    });
  bench.addCommand(benchMapCommand());
  bench.addCommand(benchDataCommand());
  bench.addCommand(benchTrainCommand());
  bench.addCommand(benchTeacherCommand());
  bench.addCommand(benchDistillCommand());
  return bench;
}
