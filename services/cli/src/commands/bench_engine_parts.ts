// `kd bench engine --profile --vs-pytorch`: one thread's train step by part on both sides
// (convolutions dense and depthwise, forward and gradients; the rest; the optimizer), with
// the GFLOP/s each side's convolutions reach on the same arithmetic.
import { benchmarkConvMacs, stepParts, type StepPart, type StepParts } from '@kd/engine';

export interface StepPartsComparison {
  batch: number;
  input_size: number;
  threads: 1;
  /** Multiply-adds per conv part (the same on both sides). */
  macs: ReturnType<typeof benchmarkConvMacs>;
  kd: StepParts;
  pytorch: Record<StepPart, number>;
  torch_version: string;
}

const labels: Record<StepPart, string> = {
  dense_conv_forward: 'dense conv, forward',
  depthwise_conv_forward: 'depthwise conv, forward',
  dense_conv_gradients: 'dense conv, gradients',
  depthwise_conv_gradients: 'depthwise conv, gradients',
  other: 'bias, ReLU, loss, overhead',
  optimizer: 'Adam update',
  step: 'train step',
};

const gflops = (macs: number | undefined, ms: number): string => (macs == null ? '' : (2 * macs / ms / 1e6).toFixed(1));

export function formatStepParts(c: StepPartsComparison): string {
  const cols = (a: string, b: string, c2: string, d: string, e: string, f: string) =>
    `${a.padEnd(30)}${b.padStart(9)}${c2.padStart(9)}${d.padStart(12)}${e.padStart(9)}${f.padStart(14)}`;
  const macs = c.macs as Partial<Record<StepPart, number>>;
  const lines = [
    `one thread, batch ${c.batch} at ${c.input_size}x${c.input_size}; medians over steps (convolutions from a profiled run of each, the rest timed); PyTorch ${c.torch_version}`,
    '',
    cols('part', 'kd ms', 'GFLOP/s', 'PyTorch ms', 'GFLOP/s', 'kd / PyTorch'),
  ];
  for (const part of stepParts) {
    const kd = c.kd[part];
    const torch = c.pytorch[part];
    lines.push(cols(labels[part], kd.toFixed(1), gflops(macs[part], kd), torch.toFixed(1), gflops(macs[part], torch), `${(kd / torch).toFixed(2)}x`));
  }
  return lines.join('\n');
}
