// `kd bench engine`: the fixed benchmark model's forward and train step on our engine, on one
// thread and over two replicas, against the tfjs cpu backend and (--vs-pytorch) PyTorch.
import { loadavg } from 'node:os';
import { Command } from 'commander';
import { benchmarkConvMacs, createBenchmarkModel, defaultEngineBench, profileStepParts, profileTrainStep, runEngineBench, type EngineBenchResult, type StepPart } from '@kd/engine';
import { exitTwoOnUsageError, positiveInt } from './common.ts';
import { formatProfile } from './profile_table.ts';
import { defaultPythons, findTorchPython, isReferenceBlas, runTorchBench, runTorchProfile, torchInstallHint, type TorchRow, type TorchRun } from './bench_engine_pytorch.ts';
import { formatStepParts, type StepPartsComparison } from './bench_engine_parts.ts';

/** PyTorch's figures in the JSON: per thread count, the median over rounds. */
interface PytorchPart {
  torch_version: string;
  blas: string | null;
  params: number;
  rows: TorchRow[];
  rounds: TorchRow[][];
}

export type EngineBenchJson = EngineBenchResult & {
  params: number;
  /**
   * The machine's 1-minute load average before and after the run: with 2 cores, other
   * processes slow both sides, PyTorch's 2 threads most (its OpenMP threads wait on each other).
   */
  load_avg: [number, number];
  pytorch?: PytorchPart;
  /** PyTorch's train step with `pytorch_threads` threads, the peer of replicas2_train_step_ms. */
  pytorch_train_step_ms?: number;
  pytorch_threads?: number;
  /** replicas2_train_step_ms / pytorch_train_step_ms: both cores each. */
  replicas2_over_pytorch?: number;
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function parameterCount(): number {
  const model = createBenchmarkModel(1);
  const count = model.variables.reduce((sum, v) => sum + v.size, 0);
  model.variables.forEach((v) => v.dispose());
  return count;
}

function pytorchPart(runs: TorchRun[]): PytorchPart {
  const threads = runs[0].rows.map((r) => r.threads);
  const rows = threads.map((t) => {
    const of = runs.map((run) => run.rows.find((r) => r.threads === t) as TorchRow);
    return { threads: t, forward_ms: median(of.map((r) => r.forward_ms)), train_step_ms: median(of.map((r) => r.train_step_ms)) };
  });
  return { torch_version: runs[0].torch_version, blas: runs[0].blas, params: runs[0].params, rows, rounds: runs.map((r) => r.rows) };
}

const ms = (v: number | null | undefined): string => (v == null ? '-' : `${v.toFixed(1)} ms`);
const ratio = (a: number | null | undefined, b: number | null | undefined): string => (a == null || b == null ? '-' : `${(a / b).toFixed(2)}x`);

function formatEngineTable(r: EngineBenchJson): string {
  const torch = r.pytorch;
  const at = (threads: number) => torch?.rows.find((row) => row.threads === threads);
  const head = [
    `model             benchmark model (${r.params} parameters), batch ${r.batch}, ${r.input_size}x${r.input_size}x3, Adam 1e-3`,
    `kd                ${r.backend}${r.rounds.length > 1 ? `; medians of ${r.rounds.length} rounds, kd and PyTorch in turn` : ''}`,
  ];
  if (torch) head.push(`PyTorch           ${torch.torch_version} (CPU, BLAS ${torch.blas ?? 'unknown'})`);
  head.push(`load average      ${r.load_avg.map((l) => l.toFixed(2)).join(' before, ')} after (2 cores: other work slows both sides)`);
  const cols = (a: string, b: string, c: string, d: string) => `${a.padEnd(28)}${b.padStart(12)}${c.padStart(12)}${d.padStart(14)}`;
  const lines = [...head, '', cols('', 'kd', 'PyTorch', 'kd / PyTorch')];
  lines.push(cols('forward, 1 thread', ms(r.forward_ms), ms(at(1)?.forward_ms), ratio(r.forward_ms, at(1)?.forward_ms)));
  lines.push(cols('train step, 1 thread', ms(r.train_step_ms), ms(at(1)?.train_step_ms), ratio(r.train_step_ms, at(1)?.train_step_ms)));
  if (r.replicas2_train_step_ms != null || at(2)) {
    lines.push(cols('train step, 2 cores', ms(r.replicas2_train_step_ms), ms(at(2)?.train_step_ms), ratio(r.replicas2_train_step_ms, at(2)?.train_step_ms)));
    lines.push('  (kd: two replicas, as replicas: 2 trains; PyTorch: 2 threads)');
  }
  const p = r.replicas2_phases;
  if (p) {
    lines.push(`  kd's 2-core step, main thread: share weights ${p.share_ms.toFixed(1)} ms, own half's gradients ${p.own_gradients_ms.toFixed(1)},`);
    lines.push(`  wait for the worker's ${p.wait_ms.toFixed(1)}, average + Adam ${p.update_ms.toFixed(1)} (the worker idles)`);
  }
  lines.push('');
  lines.push(`train step / forward  ${r.train_step_over_forward.toFixed(2)}x (kd, 1 thread; median of each step over the forward just before it)`);
  lines.push(`cpu train step        ${r.cpu_train_step_ms == null ? 'skipped' : `${r.cpu_train_step_ms.toFixed(0)} ms (${r.speedup_over_cpu?.toFixed(1)}x slower)`}`);
  lines.push(`grad max rel err      ${r.grad_max_rel_err == null ? 'skipped' : `${r.grad_max_rel_err.toExponential(2)} (vs the cpu backend)`}`);
  return lines.join('\n');
}

interface EngineOpts {
  json?: boolean; quick?: boolean; cpu: boolean; replicas: boolean; repeats?: number; rounds?: number; profile?: boolean; vsPytorch?: boolean; python?: string;
}

/** The `bench engine` subcommand. */
export function benchEngineCommand(): Command {
  return exitTwoOnUsageError(new Command('engine'))
    .description('forward and train-step time of the fixed engine benchmark model: one thread, two replicas, vs the tfjs cpu backend and (--vs-pytorch) PyTorch')
    .option('--json', 'print one JSON object instead of a table')
    .option('--quick', 'batch 2 at 64x64 with few repeats (seconds, for tests)')
    .option('--no-cpu', 'skip the cpu backend (minutes per step at the full size)')
    .option('--no-replicas', 'skip the step over two replicas (a worker thread)')
    .option('--repeats <n>', 'timed repetitions per round', positiveInt)
    .option('--rounds <n>', 'rounds of timing, each side in turn; medians over rounds (default 1, or 3 with --vs-pytorch)', positiveInt)
    .option('--vs-pytorch', 'also time the same model in PyTorch (scripts/bench/torch_engine.py) with 1 and 2 threads, alternating with kd')
    .option('--python <path>', `python with torch for --vs-pytorch (default: the first of ${defaultPythons.join(', ')} that imports torch)`)
    .option('--profile', 'instead: time one train step per tfjs kernel (tf.profile); with --vs-pytorch, both sides\' steps by part (convolutions, the rest, Adam), one thread')
    .action(async (opts: EngineOpts) => {
      const base = opts.quick ? { ...defaultEngineBench, batch: 2, size: 64, repeats: 3, warmup: 1 } : defaultEngineBench;
      const log = (line: string) => process.stderr.write(`kd bench engine: ${line}\n`);
      let python: string | null = null;
      if (opts.vsPytorch) {
        const candidates = opts.python ? [opts.python] : defaultPythons;
        python = findTorchPython(candidates);
        if (python == null) {
          log(`--vs-pytorch needs PyTorch, but \`python3 -c "import torch"\` fails with ${candidates.join(' and ')}: ${torchInstallHint}`);
          process.exitCode = 2;
          return;
        }
      }
      const repeats = opts.repeats ?? base.repeats;
      if (opts.profile && python != null) {
        log(`profiling ${repeats} train steps by part, kd then PyTorch (${python}), one thread each`);
        const kd = await profileStepParts({ ...base, repeats });
        const torch = runTorchProfile(python, { batch: base.batch, size: base.size, repeats, warmup: base.warmup });
        const comparison: StepPartsComparison = {
          batch: base.batch, input_size: base.size, threads: 1, macs: benchmarkConvMacs(base.batch, base.size),
          kd, pytorch: torch.profile.parts as Record<StepPart, number>, torch_version: torch.torch_version,
        };
        process.stdout.write(opts.json ? `${JSON.stringify(comparison)}\n` : `${formatStepParts(comparison)}\n`);
        return;
      }
      if (opts.profile) {
        const rows = await profileTrainStep(base);
        process.stdout.write(opts.json ? `${JSON.stringify(rows)}\n` : `${formatProfile(rows)}\n`);
        return;
      }
      const loadBefore = loadavg()[0];
      const torchRuns: TorchRun[] = [];
      const result = await runEngineBench({
        ...base,
        repeats,
        cpu: opts.cpu,
        replicas2: opts.replicas,
        rounds: opts.rounds ?? (python ? 3 : 1),
        progress: log,
        betweenRounds: python == null ? undefined : async () => {
          log(`timing PyTorch (${python}) with 1 and 2 threads`);
          torchRuns.push(runTorchBench(python as string, { threads: [1, 2], batch: base.batch, size: base.size, repeats, warmup: base.warmup }));
        },
      });
      const json: EngineBenchJson = { ...result, params: parameterCount(), load_avg: [loadBefore, loadavg()[0]] };
      if (torchRuns.length > 0) {
        const pytorch = pytorchPart(torchRuns);
        const two = pytorch.rows.find((r) => r.threads === 2) as TorchRow;
        Object.assign(json, { pytorch, pytorch_train_step_ms: two.train_step_ms, pytorch_threads: 2 });
        if (result.replicas2_train_step_ms != null) json.replicas2_over_pytorch = result.replicas2_train_step_ms / two.train_step_ms;
        if (pytorch.params !== json.params) log(`warning: PyTorch's model has ${pytorch.params} parameters, kd's ${json.params}: not the same model`);
        if (isReferenceBlas(pytorch.blas)) log(`warning: PyTorch runs on the reference BLAS (${pytorch.blas}), about 10x slower than it should: apt-get install -y libopenblas0-openmp`);
      }
      process.stdout.write(opts.json ? `${JSON.stringify(json)}\n` : `${formatEngineTable(json)}\n`);
    });
}
