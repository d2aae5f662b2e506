import { readFileSync } from 'node:fs';
import { mean, standardError, std } from './stats.ts';

/** One student run of the experiment. */
export interface ExperimentRun {
  method: string;
  seed: number;
  steps: number;
  wall_s: number;
  map_11point: number;
  map_area: number;
  /**
   * Smoothed loss (and distill_loss) every log_iter steps; with --eval-every, also the mAP(0.50,
   * map_type) (0..1) at each evaluated step (map_step, map; absent in runs without it).
   */
  curve: { step: number[]; loss: number[]; distill_loss: number[]; map_step?: number[]; map?: number[] };
}

export interface TeacherResult { checkpoint: string; map_11point: number; map_area: number }

/** Mean and std of a method's runs, in mAP points (0..100). */
export function summarize(runs: ExperimentRun[], methods: string[]) {
  return methods.map((method) => {
    const mine = runs.filter((r) => r.method === method);
    const p11 = mine.map((r) => 100 * r.map_11point);
    const pArea = mine.map((r) => 100 * r.map_area);
    return { method, n: mine.length, mean11: mean(p11), std11: std(p11), meanArea: mean(pArea), stdArea: std(pArea), wall: mean(mine.map((r) => r.wall_s)) };
  });
}

/** A method's gain over the baseline, paired by seed, in mAP(0.50, 11point) points. */
export interface PairedGain {
  method: string;
  /** Seeds run by both the method and the baseline. */
  seeds: number;
  /** Mean of the per-seed differences (method - baseline). */
  mean: number;
  /** Its standard error; mean / se is the paired t statistic. */
  se: number;
}

/**
 * The per-seed difference of a method to the baseline (same seed: same initial weights and
 * batches), its mean and standard error: the paired comparison that removes the spread between
 * seeds, which is larger than the effect here. Undefined when no seed has both runs.
 */
export function pairedGain(runs: ExperimentRun[], method: string): PairedGain | undefined {
  const baseline = new Map(runs.filter((r) => r.method === 'baseline').map((r) => [r.seed, r.map_11point]));
  const diffs = runs.filter((r) => r.method === method && baseline.has(r.seed)).map((r) => 100 * (r.map_11point - baseline.get(r.seed)!));
  return diffs.length === 0 ? undefined : { method, seeds: diffs.length, mean: mean(diffs), se: standardError(diffs) };
}

/** `+1.66 +- 0.95` (the paired gain and its standard error, points). */
export function formatGain(g: PairedGain): string {
  return `${g.mean >= 0 ? '+' : ''}${g.mean.toFixed(2)} +- ${g.se.toFixed(2)}`;
}

/** The paired gain of a method in a committed experiment.json; undefined if the file or the method is missing. */
export function experimentGain(file: string, method: string): (PairedGain & { steps: number }) | undefined {
  let runs: ExperimentRun[];
  try {
    runs = (JSON.parse(readFileSync(file, 'utf8')) as { runs: ExperimentRun[] }).runs;
  } catch {
    return undefined;
  }
  const gain = pairedGain(runs, method);
  return gain && { ...gain, steps: runs[0].steps };
}

/** results/experiment.md: the table, the teacher, PaddleDetection's published numbers. */
export function experimentMarkdown(runs: ExperimentRun[], methods: string[], teacher: TeacherResult, command: string, split = 'test'): string {
  const rows = summarize(runs, methods);
  const baseline = rows.find((r) => r.method === 'baseline');
  const lines = [
    '# Distillation experiment on the built-in dataset',
    '',
    `Made by \`${command}\`. Students: the same config, steps, schedule and seeds per method;`,
    `mAP(0.50) on the ${split === 'validation' ? 'validation split (carved from the training images; not the test split)' : 'test split'}, mean +- std over seeds (sample std). "paired gain": the mean of`,
    'the per-seed differences to the baseline (same seed: same start and batches) +- its standard',
    'error, and their ratio t.',
    '',
    '| method | runs | mAP 11point | vs baseline | paired gain | t | mAP area | wall s / run |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const gain = r.method === 'baseline' ? undefined : pairedGain(runs, r.method);
      const vs = baseline && r.method !== 'baseline' ? `${(r.mean11 - baseline.mean11 >= 0 ? '+' : '')}${(r.mean11 - baseline.mean11).toFixed(2)}` : '';
      const t = gain && gain.se > 0 ? (gain.mean / gain.se).toFixed(2) : '';
      return `| ${r.method} | ${r.n} | ${r.mean11.toFixed(2)} +- ${r.std11.toFixed(2)} | ${vs} | ${gain ? formatGain(gain) : ''} | ${t} | ${r.meanArea.toFixed(2)} +- ${r.stdArea.toFixed(2)} | ${r.wall.toFixed(0)} |`;
    }),
    `| teacher (\`${teacher.checkpoint}\`) | 1 | ${(100 * teacher.map_11point).toFixed(2)} | | | | ${(100 * teacher.map_area).toFixed(2)} | |`,
    '',
    'For reference, PaddleDetection on Pascal VOC (mAP(0.50, 11point), MobileNetV1-YOLOv3 student,',
    'ResNet34 teacher, l2_distill): 608: 76.2 -> 79.0 (+2.8), teacher 82.6; 416: 76.7 -> 78.2;',
    '320: 75.3 -> 75.5. COCO, split_distill (fine-grained): 29.3 -> 31.4 at 608, teacher 36.2.',
    '',
    'Charts: `experiment-map.svg` (mAP per method, a dot per seed), `experiment-loss.svg` and',
    `\`experiment-distill-loss.svg\` (training curves, mean over seeds)${runs.some((r) => r.curve.map_step?.length) ? ', `experiment-map-curve.svg` (mAP during training, mean over seeds)' : ''}.`,
    '',
  ];
  return lines.join('\n');
}

/**
 * Mean curve of a method over its seeds (runs share the step grid): loss and distill_loss at
 * curve.step, map (0..1; [] without --eval-every) at curve.map_step.
 */
export function meanCurve(runs: ExperimentRun[], method: string, key: 'loss' | 'distill_loss' | 'map'): Array<[number, number]> {
  const values = (r: ExperimentRun) => r.curve[key] ?? [];
  const mine = runs.filter((r) => r.method === method && values(r).length > 0);
  if (mine.length === 0) return [];
  const steps = (key === 'map' ? mine[0].curve.map_step : mine[0].curve.step) ?? [];
  return steps.map((s, i) => [s, mean(mine.map((r) => values(r)[i] ?? values(r)[values(r).length - 1]))]);
}
