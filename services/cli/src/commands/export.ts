import { Command } from 'commander';
import { initBackend } from '@kd/engine';
import { createClassifier } from '@kd/classification';
import { createYoloV3, loadCheckpoint, readCheckpointModelConfig, saveCheckpoint } from '@kd/detection';
import { exitTwoOnUsageError, reportUserErrors } from './common.ts';

interface ExportOptions { weights: string; out: string; fp16?: boolean }

/** `kd export`: a checkpoint (detector or classifier) without optimizer state, optionally in float16, for shipping. */
export function exportCommand(): Command {
  return exitTwoOnUsageError(new Command('export'))
    .description('copy a checkpoint without its optimizer state (for eval, infer and teachers), optionally as float16')
    .requiredOption('-w, --weights <checkpoint>', 'checkpoint folder to export')
    .requiredOption('--out <dir>', 'new checkpoint folder')
    .option('--fp16', 'store weights as float16 (half the size; loads back as float32)')
    .action((opts: ExportOptions) => reportUserErrors('export', async () => {
      await initBackend();
      const config = readCheckpointModelConfig(opts.weights);
      const model = config.architecture === 'Classifier' ? createClassifier(config) : createYoloV3(config);
      const loaded = loadCheckpoint(opts.weights, model.store, config);
      const hash = await saveCheckpoint(opts.out, model.store, config, loaded.step, {
        extra: { ...loaded.extra, exported_from: loaded.contentHash }, weightsDtype: opts.fp16 ? 'float16' : 'float32',
      });
      process.stderr.write(`kd export: ${loaded.dir} (step ${loaded.step}) -> ${opts.out} (${opts.fp16 ? 'float16' : 'float32'}, ${hash.slice(0, 12)})\n`);
      model.store.dispose();
    }));
}
