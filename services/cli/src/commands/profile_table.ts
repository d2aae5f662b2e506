import type { KernelProfileRow } from '@kd/engine';

/** The per-kernel table of `kd bench engine --profile` and `kd bench train --profile`. */
export function formatProfile(rows: KernelProfileRow[]): string {
  const total = rows.reduce((sum, r) => sum + r.ms, 0);
  const lines = rows.map((r) => `${r.kernel.padEnd(40)}${r.ms.toFixed(1).padStart(9)} ms${String(r.calls).padStart(7)} calls`);
  return [`${'kernel'.padEnd(40)}${'time'.padStart(12)}${'calls'.padStart(13)}`, ...lines, `${'total kernel time'.padEnd(40)}${total.toFixed(1).padStart(9)} ms`].join('\n');
}
