// kd cluster's results: what a checkpoint folder says about its model (without loading it),
// the teacher service's mean batch from its /metrics, the closing table and its one sentence.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One row of the closing table (also in demo.json). */
export interface ClusterRow {
  model: string;
  /** Trainable parameters, millions (BN running statistics left out, as countTrainable does). */
  params_m?: number;
  map_11point: number;
  train_images_per_s?: number;
  /** Distilled student: seconds its loop waited on the teacher service, and that as a share of its wall time. */
  teacher_wait_s?: number;
  teacher_wait_fraction?: number;
  /** Distilled student: mean images per network run of the teacher service. */
  teacher_batch_mean?: number;
  /** Test images / seconds of the evaluator's evaluation (model load included). */
  eval_images_per_s?: number;
  checkpoint: string;
  evaluation_id: string;
}

interface Manifest {
  model_definition?: { backbone?: { name?: string } };
  config?: { backbone?: { name?: string } };
  weightsManifest?: Array<{ weights: Array<{ name: string; shape: number[] }> }>;
}

/** Backbone name and trainable parameters of a kd checkpoint folder, from its model.json alone. */
export function checkpointModel(dir: string): { backbone: string; params: number } {
  const m = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Manifest;
  let params = 0;
  for (const group of m.weightsManifest ?? []) {
    for (const w of group.weights) {
      // batch-norm running statistics are weights on disk but not trained
      if (w.name.endsWith('.mean') || w.name.endsWith('.variance')) continue;
      params += w.shape.reduce((a, b) => a * b, 1);
    }
  }
  return { backbone: m.model_definition?.backbone?.name ?? m.config?.backbone?.name ?? '?', params };
}

/** Mean of a Prometheus histogram (`NAME_sum / NAME_count`, all label sets together) in an exposition text; undefined if it has no samples. */
export function histogramMean(exposition: string, name: string): number | undefined {
  let sum = 0;
  let count = 0;
  for (const line of exposition.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})? (\S+)/.exec(line);
    if (!m) continue;
    if (m[1] === `${name}_sum`) sum += Number(m[2]);
    else if (m[1] === `${name}_count`) count += Number(m[2]);
  }
  return count > 0 ? sum / count : undefined;
}

/** The closing table, aligned, "-" where a column does not apply. */
export function clusterTable(rows: readonly ClusterRow[]): string {
  const head = ['model', 'params', 'mAP(0.50, 11point)', 'train img/s', 'teacher wait', 'teacher batch', 'eval img/s'];
  const opt = (v: number | undefined, f: (v: number) => string) => (v === undefined ? '-' : f(v));
  const cells = rows.map((r) => [
    r.model,
    opt(r.params_m, (v) => `${v.toFixed(2)}M`),
    `${(100 * r.map_11point).toFixed(2)}%`,
    opt(r.train_images_per_s, (v) => v.toFixed(1)),
    opt(r.teacher_wait_s, (v) => `${v.toFixed(1)}s${r.teacher_wait_fraction === undefined ? '' : ` (${(100 * r.teacher_wait_fraction).toFixed(0)}%)`}`),
    opt(r.teacher_batch_mean, (v) => v.toFixed(1)),
    opt(r.eval_images_per_s, (v) => v.toFixed(1)),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

/** What `kd experiment` measured for the distilled method, quoted by the verdict. */
export interface ExperimentEvidence {
  /** The committed experiment.json it comes from, relative to the repository. */
  file: string;
  method: string;
  seeds: number;
  steps: number;
  /** Paired gain over the baseline and its standard error, points. */
  mean: number;
  se: number;
}

/**
 * What the table shows: the distilled student against the baseline (and the start), on one
 * seed; then, since one seed cannot tell an effect from noise, what `kd experiment` measured
 * for the method over several seeds, when a committed experiment has it.
 */
export function verdict(o: { baseline: number; distilled: number; start?: number; method: string; weight?: number; steps: number; seed: number; evidence?: ExperimentEvidence }): string {
  const diff = 100 * (o.distilled - o.baseline);
  const how = `${o.method}${o.weight === undefined ? '' : `, weight ${o.weight}`}`;
  const relation = Math.abs(diff) < 0.005 ? 'ends level with the baseline' : `ends ${Math.abs(diff).toFixed(2)} points ${diff > 0 ? 'above' : 'below'} the baseline`;
  const start = o.start === undefined
    ? ''
    : o.distilled < o.start && o.baseline < o.start ? `; both end below their start (${pct(o.start)})`
      : o.distilled > o.start && o.baseline > o.start ? `; both end above their start (${pct(o.start)})` : '';
  const e = o.evidence;
  const several = e
    ? `One seed (${o.seed}), so a difference this size may be noise: over ${e.seeds} seeds of ${e.steps} steps, kd experiment measured ${e.method} at `
      + `${e.mean >= 0 ? '+' : ''}${e.mean.toFixed(2)} +- ${e.se.toFixed(2)} points over the baseline (paired by seed, +- standard error; ${e.file}).`
    : `One seed (${o.seed}), so a difference this size may be noise: kd experiment runs several.`;
  return `The distilled student (${how}) ${relation} (${pct(o.distilled)} vs ${pct(o.baseline)} mAP) after ${o.steps} steps on the same batches${start}. ${several}`;
}
