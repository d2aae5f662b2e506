import { Command } from 'commander';
import { benchMapCommand } from './bench_map.ts';
import { benchDataCommand } from './bench_data.ts';
import { benchTrainCommand } from './bench_train.ts';
import { benchTeacherCommand } from './bench_teacher.ts';
import { benchDistillCommand } from './bench_distill.ts';
import { benchEngineCommand } from './bench_engine.ts';

export function benchCommand(): Command {
  const bench = new Command('bench').description('benchmarks that print a table, or one JSON object with --json');
  bench.addCommand(benchEngineCommand());
  bench.addCommand(benchMapCommand());
  bench.addCommand(benchDataCommand());
  bench.addCommand(benchTrainCommand());
  bench.addCommand(benchTeacherCommand());
  bench.addCommand(benchDistillCommand());
  return bench;
}
