// The PyTorch side of `kd bench engine --vs-pytorch`: finds a python with torch and runs
// scripts/bench/torch_engine.py (the same benchmark model in PyTorch), one run per round.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const TORCH_SCRIPT = fileURLToPath(new URL('../../../../scripts/bench/torch_engine.py', import.meta.url));

/** Where to look for torch when --python is not given: pyenv's or a venv's python3 first, then Debian's. */
export const defaultPythons = ['python3', '/usr/bin/python3'];

export const torchInstallHint = 'install it with `apt-get install -y python3-torch` (as root; Debian\'s python3), or pass --python PATH';

export interface TorchRow { threads: number; forward_ms: number; train_step_ms: number }

export interface TorchRun {
  torch_version: string;
  batch: number;
  input_size: number;
  params: number;
  /** The BLAS library torch loaded (null if it could not tell). */
  blas: string | null;
  rows: TorchRow[];
}

/**
 * The first of `candidates` that has torch, else null. Looks the module up without importing
 * it (an import takes seconds; torch_engine.py reports a torch that fails to import).
 */
export function findTorchPython(candidates: readonly string[]): string | null {
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import importlib.util, sys; sys.exit(importlib.util.find_spec("torch") is None)'], { encoding: 'utf8' });
    if (probe.status === 0) return python;
  }
  return null;
}

/**
 * Debian's torch calls whatever libblas.so.3 points to; the reference libblas3 (installed
 * with it when nothing else provides BLAS) makes its convolutions about 10x slower, a
 * PyTorch no pip user would see.
 */
export function isReferenceBlas(blas: string | null): boolean {
  return blas != null && /\/blas\/libblas\.so/.test(blas);
}

export interface TorchBenchOptions { threads: number[]; batch: number; size: number; repeats: number; warmup: number }

/** One run of torch_engine.py; throws with its stderr if it fails. */
export function runTorchBench(python: string, opts: TorchBenchOptions): TorchRun {
  const args = [
    TORCH_SCRIPT, '--threads', opts.threads.join(','), '--batch', String(opts.batch), '--size', String(opts.size),
    '--repeats', String(opts.repeats), '--warmup', String(opts.warmup),
  ];
  const out = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (out.status !== 0) throw new Error(`${python} ${TORCH_SCRIPT} failed (exit ${out.status}): ${out.stdout}${out.stderr}`);
  return JSON.parse(out.stdout) as TorchRun;
}

/** PyTorch's train step by part (torch_engine.py --profile), as kd's profileStepParts groups its kernels. */
export interface TorchProfile { torch_version: string; blas: string | null; profile: { threads: number; steps: number; parts: Record<string, number> } }

/** torch_engine.py --profile with one thread; throws with its output if it fails. */
export function runTorchProfile(python: string, opts: Omit<TorchBenchOptions, 'threads'>): TorchProfile {
  const args = [
    TORCH_SCRIPT, '--profile', '--threads', '1', '--batch', String(opts.batch), '--size', String(opts.size),
    '--repeats', String(opts.repeats), '--warmup', String(opts.warmup),
  ];
  const out = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (out.status !== 0) throw new Error(`${python} ${TORCH_SCRIPT} --profile failed (exit ${out.status}): ${out.stdout}${out.stderr}`);
  return JSON.parse(out.stdout) as TorchProfile;
}
