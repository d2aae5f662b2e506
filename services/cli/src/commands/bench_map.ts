import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Command, Option } from 'commander';
import { Rng } from '@kd/data';
import { evaluateVoc, type Box, type Detection, type GroundTruthImage } from '@kd/metrics';
import { nonNegativeInt, positiveInt } from './common.ts';

const NUMPY_SCRIPT = fileURLToPath(new URL('../../../../scripts/bench/voc_eval_numpy.py', import.meta.url));
const AGREEMENT = 1e-9;

interface BenchMapConfig { images: number; dets: number; classes: number; seed: number; metric: '11point' | 'area'; iou: number; repeats: number }

export interface BenchMapResult {
  images: number;
  dets_per_image: number;
  detections: number;
  gt_objects: number;
  classes: number;
  metric: string;
  iou: number;
  repeats: number;
  ours_ms: number;
  numpy_ms: number | null;
  speedup: number | null;
  map_ours: number;
  map_numpy: number | null;
  /** Largest |ours - numpy| over the mAP and every per-class AP. */
  max_abs_diff: number | null;
  /** Why the numpy column is empty (python3 or numpy missing), else null. */
  numpy_skipped: string | null;
}

/**
 * A seeded, VOC-like set: 1..5 GT per image (10% difficult) on 300..500 px images; per image
 * `dets` detections: up to two jittered copies of each GT (scores 0.5..1, 15% with a wrong
 * class), the rest random boxes (scores 0..0.6). Scores on a 1e-4 grid so ties occur.
 */
function generate(cfg: BenchMapConfig): { classes: string[]; images: GroundTruthImage[]; detections: Detection[] } {
  const rng = new Rng(cfg.seed);
  const rand = () => rng.next();
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const classes = Array.from({ length: cfg.classes }, (_, i) => `class${i}`);
  const pick = () => classes[int(0, classes.length - 1)];
  const score = (lo: number, hi: number) => Math.round((lo + rand() * (hi - lo)) * 1e4) / 1e4;
  const randomBox = (w: number, h: number): Box => {
    const bw = int(16, Math.floor(w / 2));
    const bh = int(16, Math.floor(h / 2));
    const x = int(0, w - bw - 1);
    const y = int(0, h - bh - 1);
    return [x, y, x + bw, y + bh];
  };
  const images: GroundTruthImage[] = [];
  const detections: Detection[] = [];
  for (let i = 0; i < cfg.images; i++) {
    const id = `img${String(i).padStart(6, '0')}`;
    const w = int(300, 500);
    const h = int(300, 500);
    const objects = Array.from({ length: int(1, 5) }, () => ({ class: pick(), bbox: randomBox(w, h), difficult: rand() < 0.1 }));
    images.push({ id, objects });
    let left = cfg.dets;
    for (const o of objects) {
      for (let k = 0; k < 2 && left > 0; k++, left--) {
        const [x1, y1, x2, y2] = o.bbox;
        const jx = 0.15 * (x2 - x1);
        const jy = 0.15 * (y2 - y1);
        const j = (v: number, s: number) => Math.round((v + (rand() * 2 - 1) * s) * 10) / 10;
        const box: Box = [j(x1, jx), j(y1, jy), 0, 0];
        box[2] = Math.max(box[0], j(x2, jx));
        box[3] = Math.max(box[1], j(y2, jy));
        detections.push({ image_id: id, class: rand() < 0.15 ? pick() : o.class, score: score(0.5, 1), bbox: box });
      }
    }
    for (; left > 0; left--) detections.push({ image_id: id, class: pick(), score: score(0, 0.6), bbox: randomBox(w, h) });
  }
  return { classes, images, detections };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

type NumpyRun = { ok: true; mAP: number; perClass: Record<string, number>; ms: number } | { ok: false; reason: string };

// The data goes through a temp JSON file; the script times only its evaluation, not python's
// start or the JSON load, so both sides are timed from parsed data to mAP.
function runNumpy(data: object): NumpyRun {
  const dir = mkdtempSync(join(tmpdir(), 'kd-bench-map-'));
  try {
    const input = join(dir, 'input.json');
    writeFileSync(input, JSON.stringify(data));
    const out = spawnSync('python3', [NUMPY_SCRIPT, input], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (out.error) return { ok: false, reason: `python3 not found (${out.error.message})` };
    let parsed: { mAP?: number; per_class?: Record<string, number>; eval_ms?: number; error?: string };
    try {
      parsed = JSON.parse(out.stdout);
    } catch {
      throw new Error(`${NUMPY_SCRIPT} failed (exit ${out.status}): ${out.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
    if (parsed.error) return { ok: false, reason: parsed.error };
    return { ok: true, mAP: parsed.mAP!, perClass: parsed.per_class!, ms: parsed.eval_ms! };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Times evaluateVoc and the numpy devkit-style script on the same generated set; checks they agree. */
export function runBenchMap(cfg: BenchMapConfig, progress: (line: string) => void = () => {}): BenchMapResult {
  const data = generate(cfg);
  progress(`${data.images.length} images, ${data.detections.length} detections, ${cfg.classes} classes`);
  const runs: number[] = [];
  let ours = evaluateVoc(data.images, data.detections, data.classes, cfg.metric, cfg.iou); // warm-up (JIT)
  for (let r = 0; r < cfg.repeats; r++) {
    const t0 = performance.now();
    ours = evaluateVoc(data.images, data.detections, data.classes, cfg.metric, cfg.iou);
    runs.push(performance.now() - t0);
  }
  progress(`ours: ${median(runs).toFixed(1)} ms; running numpy`);
  const numpy = runNumpy({ ...data, metric: cfg.metric, iou: cfg.iou, repeats: cfg.repeats });
  let maxAbsDiff: number | null = null;
  if (numpy.ok) {
    const keys = new Set([...Object.keys(ours.perClass), ...Object.keys(numpy.perClass)]);
    // A class present on one side only is a disagreement of its whole AP.
    maxAbsDiff = Math.max(Math.abs(ours.mAP - numpy.mAP), ...[...keys].map((k) => Math.abs((ours.perClass[k] ?? -1) - (numpy.perClass[k] ?? -1))));
  }
  const oursMs = median(runs);
  return {
    images: cfg.images, dets_per_image: cfg.dets, detections: data.detections.length,
    gt_objects: data.images.reduce((n, im) => n + im.objects.length, 0), classes: cfg.classes,
    metric: cfg.metric, iou: cfg.iou, repeats: cfg.repeats,
    ours_ms: oursMs,
    numpy_ms: numpy.ok ? numpy.ms : null,
    speedup: numpy.ok ? numpy.ms / oursMs : null,
    map_ours: ours.mAP,
    map_numpy: numpy.ok ? numpy.mAP : null,
    max_abs_diff: maxAbsDiff,
    numpy_skipped: numpy.ok ? null : numpy.reason,
  };
}

function formatTable(r: BenchMapResult): string {
  const skipped = `skipped: ${r.numpy_skipped}`;
  const rows: Array<[string, string]> = [
    ['data', `${r.images} images x ${r.dets_per_image} detections (${r.detections}), ${r.gt_objects} GT, ${r.classes} classes, ${r.metric}, IoU ${r.iou.toFixed(2)}`],
    ['ours', `${r.ours_ms.toFixed(1)} ms (evaluateVoc, median of ${r.repeats})`],
    ['numpy', r.numpy_ms == null ? skipped : `${r.numpy_ms.toFixed(1)} ms (scripts/bench/voc_eval_numpy.py, median of ${r.repeats})`],
    ['speedup', r.speedup == null ? '-' : `${r.speedup.toFixed(1)}x (numpy time / ours)`],
    ['mAP ours', r.map_ours.toFixed(12)],
    ['mAP numpy', r.map_numpy == null ? '-' : r.map_numpy.toFixed(12)],
    ['max |diff|', r.max_abs_diff == null ? '-' : `${r.max_abs_diff.toExponential(1)} (mAP and per-class AP; must be <= ${AGREEMENT})`],
  ];
  return rows.map(([k, v]) => `${k.padEnd(12)}${v}`).join('\n');
}

/** `kd bench map`: evaluateVoc vs a vectorised numpy voc_eval on a seeded random set. */
export function benchMapCommand(): Command {
  return new Command('map')
    .description('VOC mAP speed: evaluateVoc vs a numpy voc_eval.py (python3) on a seeded random set; checks they agree to 1e-9')
    .option('--images <n>', 'images', positiveInt, 5000)
    .option('--dets <n>', 'detections per image', positiveInt, 50)
    .option('--classes <n>', 'classes', positiveInt, 20)
    .option('--seed <n>', 'PRNG seed of the generated set', nonNegativeInt, 0)
    .addOption(new Option('--metric <m>', 'AP metric (the devkit has no integral)').choices(['11point', 'area']).default('11point'))
    .option('--repeats <n>', 'timed runs per side (median reported)', positiveInt, 3)
    .option('--quick', '300 images x 20 detections, 1 run (seconds, for tests)')
    .option('--json', 'print one JSON object instead of a table')
    .action((opts: BenchMapConfig & { quick?: boolean; json?: boolean }) => {
      const cfg: BenchMapConfig = opts.quick
        ? { ...opts, images: 300, dets: 20, repeats: 1, iou: 0.5 }
        : { ...opts, iou: 0.5 };
      const result = runBenchMap(cfg, (line) => process.stderr.write(`kd bench map: ${line}\n`));
      process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `${formatTable(result)}\n`);
      if (result.numpy_skipped) process.stderr.write(`kd bench map: numpy column skipped: ${result.numpy_skipped}\n`);
      if (result.max_abs_diff != null && !(result.max_abs_diff <= AGREEMENT)) {
        process.stderr.write(`kd bench map: ours and numpy disagree by ${result.max_abs_diff} (> ${AGREEMENT})\n`);
        process.exitCode = 1;
      }
    });
}
