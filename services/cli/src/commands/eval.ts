import { Command } from 'commander';
import { ConfigError, loadConfig, type KdConfig } from '@kd/config';
import { initBackend } from '@kd/engine';
import { createYoloV3, loadCheckpoint, openSplit, readCheckpointConfig } from '@kd/detection';
import { collect, exitTwoOnUsageError, formatApTable, reportUserErrors } from './common.ts';
import { evaluateOnTest } from '@kd/trainer';

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
      const result = await evaluateOnTest(model, config, testSet);
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
