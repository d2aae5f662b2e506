import { mean, std } from './stats.ts';

/** One student run of the experiment. */
export interface ExperimentRun {
  method: string;
  seed: number;
  steps: number;
  wall_s: number;
  map_11point: number;
  map_area: number;
  /** Smoothed loss (and distill_loss) every log_iter steps. */
  curve: { step: number[]; loss: number[]; distill_loss: number[] };
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

/** results/experiment.md: the table, the teacher, PaddleDetection's published numbers. */
export function experimentMarkdown(runs: ExperimentRun[], methods: string[], teacher: TeacherResult, command: string): string {
  const rows = summarize(runs, methods);
  const baseline = rows.find((r) => r.method === 'baseline');
  const lines = [
    '# Distillation experiment on the built-in dataset',
    '',
    `Made by \`${command}\`. Students: the same config, steps, schedule and seeds per method;`,
    'mAP(0.50) on the test split, mean +- std over seeds (sample std).',
    '',
    '| method | runs | mAP 11point | vs baseline | mAP area | wall s / run |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.method} | ${r.n} | ${r.mean11.toFixed(2)} +- ${r.std11.toFixed(2)} | ${baseline && r.method !== 'baseline' ? `${(r.mean11 - baseline.mean11 >= 0 ? '+' : '')}${(r.mean11 - baseline.mean11).toFixed(2)}` : ''} | ${r.meanArea.toFixed(2)} +- ${r.stdArea.toFixed(2)} | ${r.wall.toFixed(0)} |`),
    `| teacher (\`${teacher.checkpoint}\`) | 1 | ${(100 * teacher.map_11point).toFixed(2)} | | ${(100 * teacher.map_area).toFixed(2)} | |`,
    '',
    'For reference, PaddleDetection on Pascal VOC (mAP(0.50, 11point), MobileNetV1-YOLOv3 student,',
    'ResNet34 teacher, l2_distill): 608: 76.2 -> 79.0 (+2.8), teacher 82.6; 416: 76.7 -> 78.2;',
    '320: 75.3 -> 75.5. COCO, split_distill (fine-grained): 29.3 -> 31.4 at 608, teacher 36.2.',
    '',
    'Charts: `experiment-map.svg` (mAP per method), `experiment-loss.svg` and',
    '`experiment-distill-loss.svg` (training curves, mean over seeds).',
    '',
  ];
  return lines.join('\n');
}

/** Mean curve of a method over its seeds (runs share the step grid). */
export function meanCurve(runs: ExperimentRun[], method: string, key: 'loss' | 'distill_loss'): Array<[number, number]> {
  const mine = runs.filter((r) => r.method === method && r.curve[key].length > 0);
  if (mine.length === 0) return [];
  const steps = mine[0].curve.step;
  return steps.map((s, i) => [s, mean(mine.map((r) => r.curve[key][i] ?? r.curve[key][r.curve[key].length - 1]))]);
}
