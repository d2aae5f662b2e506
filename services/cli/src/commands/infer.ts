import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { createEvalLoader, drawBoxes, readImageFolder, writeFilesAtomic } from '@kd/data';
import { ConfigError } from '@kd/config';
import { initBackend } from '@kd/engine';
import { createYoloV3, detect, loadCheckpoint, type DetectorEvaluation } from '@kd/detection';
import { ProgressBar } from '@kd/trainer';
import { collect, exitTwoOnUsageError, reportUserErrors } from './common.ts';
import { configFor } from './eval.ts';

interface InferOptions { config?: string; weights: string; opt: string[]; images: string; out: string; drawThreshold: number }

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
    .action((opts: InferOptions) => reportUserErrors('infer', async () => {
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
      const loader = createEvalLoader({ records, size: config.eval_reader.size, batchSize: config.eval_reader.batch_size, workers: config.train_reader.workers });
      const bar = new ProgressBar('infer', records.length);
      let result: Pick<DetectorEvaluation, 'detections' | 'images' | 'inferenceSeconds'>;
      try {
        result = await detect(model, loader, config, classes, (done) => bar.update(done));
      } finally {
        await loader.close();
      }
      bar.done();
      mkdirSync(opts.out, { recursive: true });
      const jsonPath = join(opts.out, 'detections.json');
      writeFilesAtomic([{ path: jsonPath, content: `${JSON.stringify(result.detections)}\n` }]);
      for (const record of records) {
        const boxes = result.detections.filter((d) => d.image_id === record.id && d.score >= opts.drawThreshold)
          .map((d) => ({ bbox: d.bbox, label: d.class, score: d.score }));
        await drawBoxes(record.imagePath, boxes, join(opts.out, `${record.id}.jpg`));
      }
      process.stderr.write(`kd infer: ${result.detections.length} detections on ${result.images} images (${(result.images / result.inferenceSeconds).toFixed(1)} fps) -> ${jsonPath}\n`);
      model.store.dispose();
    }));
}
