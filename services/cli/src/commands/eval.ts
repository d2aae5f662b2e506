import { Command } from 'commander';
import { ConfigError, loadConfig, type KdConfig } from '@kd/config';
import { initBackend } from '@kd/engine';
import { createYoloV3, evalLoaderFor, evaluateDetector, loadCheckpoint, openSplit, readCheckpointConfig } from '@kd/detection';
import { collect, exitTwoOnUsageError, formatApTable, reportUserErrors } from './common.ts';
import { progressReporter } from '@kd/trainer';

interface EvalOptions { config?: string; weights: string; opt: string[]; json?: boolean }

/** The config from -c (with -o overrides), else the one stored in the checkpoint. */
export function configFor(opts: { config?: string; weights: string; opt: string[] }): KdConfig {
  if (opts.config) return loadConfig(opts.config, opts.opt);
  if (opts.opt.length > 0) throw new ConfigError('-o needs -c: overrides apply to a config file');
  return readCheckpointConfig(opts.weights);
}

/** `kd eval`: VOC mAP of a checkpoint on the config's test split, and inference fps. */
export function evalCommand(): Command {
  return exitTwoOnUsageError(new Command('eval'))
    .description('VOC mAP of trained weights on the test split (PaddleDetection tools/eval.py), and inference fps')
    .requiredOption('-w, --weights <checkpoint>', 'checkpoint folder, e.g. output/yolov3_r34_shapes/best_model')
    .option('-c, --config <file>', 'YAML config (default: the one saved in the checkpoint)')
    .option('-o, --opt <key=value>', 'override a config key (repeatable)', collect, [])
    .option('--json', 'print one JSON object {"mAP", "per_class", "fps", ...}')
    .action((opts: EvalOptions) => reportUserErrors('eval', async () => {
      const config = configFor(opts);
      await initBackend();
      const model = createYoloV3(config);
      const loaded = loadCheckpoint(opts.weights, model.store, config);
      const testSet = await openSplit(config, 'test');
      // progress on stderr (a bar on a TTY, a line every 5 s otherwise): the full test split takes a while
      const progress = progressReporter('kd eval');
      const loader = evalLoaderFor(config, testSet);
      const skipped = () => Object.keys(loader.stats().skipped).length;
      let evaluation: Awaited<ReturnType<typeof evaluateDetector>>;
      try {
        evaluation = await evaluateDetector(model, loader, testSet.records, config, testSet.classes,
          (done) => progress('images', done + skipped(), testSet.records.length));
      } finally {
        await loader.close();
      }
      const result = { ...evaluation, fps: evaluation.images / evaluation.inferenceSeconds };
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({
          mAP: result.mAP, per_class: result.perClass, metric: config.map_type, fps: result.fps, images: result.images,
          size: config.eval_reader.size, weights: opts.weights, step: loaded.step, content_hash: loaded.contentHash,
        })}\n`);
      } else {
        process.stdout.write(formatApTable(result.perClass, result.mAP, config.map_type));
        process.stdout.write(`${result.images} images at ${config.eval_reader.size}x${config.eval_reader.size}, ${result.fps.toFixed(1)} fps (forward + decode + NMS)\n`);
      }
      model.store.dispose();
    }));
}
