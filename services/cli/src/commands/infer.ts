import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { createEvalLoader, drawBoxes, readImageFolder, writeFilesAtomic } from '@kd/data';
import { ConfigError } from '@kd/config';
import { initBackend } from '@kd/engine';
import { createYoloV3, detect, loadCheckpoint, type DetectorEvaluation } from '@kd/detection';
import { progressReporter } from '@kd/trainer';
import { collect, exitTwoOnUsageError, reportUserErrors } from './common.ts';
import { configFor } from './eval.ts';

const log = (line: string) => process.stderr.write(`kd infer: ${line}\n`);

interface InferOptions { config?: string; weights: string; opt: string[]; images: string; out: string; drawThreshold: number; strict?: boolean }

const probability = (value: string) => {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`expected a number in [0, 1], got "${value}"`);
  return n;
};

/** `kd infer`: detections JSON (the `kd map` DETS format) and images with boxes drawn. */
export function inferCommand(): Command {
  return exitTwoOnUsageError(new Command('infer'))
    .description('detect objects in images: writes detections.json (kd map format) and the images with boxes drawn')
    .requiredOption('-w, --weights <checkpoint>', 'checkpoint folder')
    .requiredOption('--images <dir>', 'a folder of .jpg/.png images, or one image')
    .requiredOption('--out <dir>', 'output folder')
    .option('-c, --config <file>', 'YAML config (default: the one saved in the checkpoint)')
    .option('-o, --opt <key=value>', 'override a config key (repeatable)', collect, [])
    .option('--draw-threshold <p>', 'draw boxes scoring at least this (all go to the JSON)', probability, 0.5)
    .option('--strict', 'exit 1 if any image could not be read (it is still skipped: every good one is written)')
    .action((opts: InferOptions) => reportUserErrors('infer', () => infer(opts)));
}

async function infer(opts: InferOptions): Promise<void> {
  // before any work: an output that cannot be written would waste the whole run
  if (existsSync(opts.out) && !statSync(opts.out).isDirectory()) throw new ConfigError(`--out ${opts.out}: exists and is not a folder`);
  const config = configFor(opts);
  const records = readImageFolder(opts.images);
  await initBackend();
  const model = createYoloV3(config);
  const loaded = loadCheckpoint(opts.weights, model.store, config);
  const saved = loaded.extra.classes;
  const classes = Array.isArray(saved) && saved.length === config.num_classes ? saved.map(String)
    : config.dataset.classes ?? Array.from({ length: config.num_classes }, (_, i) => `class_${i}`);
  // an unreadable file is skipped (warned as it is met, listed at the end): every good one is detected and drawn
  const bad = new Map<string, string>();
  const loader = createEvalLoader({
    records, size: config.eval_reader.size, batchSize: config.eval_reader.batch_size, workers: config.train_reader.workers,
    onWarning: (p) => { bad.set(p.file, p.message); log(`${p.file}: ${p.message} (skipped)`); },
  });
  const progress = progressReporter('kd infer');
  let result: Pick<DetectorEvaluation, 'detections' | 'images' | 'inferenceSeconds'>;
  try {
    result = await detect(model, loader, config, classes, (done) => progress('detecting', done + bad.size, records.length));
  } finally {
    await loader.close();
  }
  model.store.dispose();
  mkdirSync(opts.out, { recursive: true });
  const jsonPath = join(opts.out, 'detections.json');
  writeFilesAtomic([{ path: jsonPath, content: `${JSON.stringify(result.detections)}\n` }]);
  const good = records.filter((r) => !bad.has(r.imagePath));
  let drawn = 0;
  for (const [i, record] of good.entries()) {
    const boxes = result.detections.filter((d) => d.image_id === record.id && d.score >= opts.drawThreshold)
      .map((d) => ({ bbox: d.bbox, label: d.class, score: d.score }));
    try {
      await drawBoxes(record.imagePath, boxes, join(opts.out, `${record.id}.jpg`));
      drawn++;
    } catch (e) {
      bad.set(record.imagePath, `cannot draw on it: ${(e as Error).message}`);
    }
    progress('drawing', i + 1, good.length);
  }
  const fps = result.images / Math.max(result.inferenceSeconds, 1e-9);
  log(`${result.detections.length} detections on ${result.images} images (${fps.toFixed(1)} fps) -> ${jsonPath}; ${drawn} images drawn in ${opts.out}`);
  if (bad.size === 0) return;
  log(`${bad.size} of ${records.length} images skipped${opts.strict ? ' (--strict: exit 1)' : ''}:\n${[...bad].map(([file, why]) => `  ${file}: ${why}`).join('\n')}`);
  if (opts.strict) process.exitCode = 1;
}
