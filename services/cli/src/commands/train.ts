import { Command } from 'commander';
import { loadConfig } from '@kd/config';
import { initBackend } from '@kd/engine';
import { createYoloV3 } from '@kd/detection';
import { isClassifierConfig, runClassifier, runTraining } from '@kd/trainer';
import { collect, exitTwoOnUsageError, reportUserErrors, stopOnSigint } from './common.ts';
import { log } from './log.ts';

interface TrainOptions { config: string; opt: string[]; eval?: boolean; resume?: string }

/** `kd train`: PaddleDetection's tools/train.py for YOLOv3. */
export function trainCommand(): Command {
  return exitTwoOnUsageError(new Command('train'))
    .description('train a YOLOv3 detector, or a crop classifier (architecture: Classifier), from a config (PaddleDetection tools/train.py)')
    .requiredOption('-c, --config <file>', 'YAML config, e.g. configs/yolov3_mobilenet_v1_shapes.yml or configs/classifier_mobilenet_v1_shapes.yml')
    .option('-o, --opt <key=value>', 'override a config key (repeatable), e.g. -o max_iters=100', collect, [])
    .option('--eval', 'evaluate on the test split at every snapshot and keep best_model by mAP')
    .option('-r, --resume <checkpoint>', 'resume from a checkpoint folder: weights, optimizer state and step')
    .action((opts: TrainOptions) => reportUserErrors('train', () => train(opts)));
}

async function train(opts: TrainOptions): Promise<void> {
  const interrupt = stopOnSigint(log);
  try {
    if (isClassifierConfig(opts.config, opts.opt)) {
      await runClassifier({ command: 'train', configPath: opts.config, overrides: opts.opt, eval: opts.eval, resume: opts.resume, signal: interrupt.signal, log });
      return;
    }
    const config = loadConfig(opts.config, opts.opt);
    const backend = await initBackend();
    const model = createYoloV3(config);
    await runTraining({
      command: 'train', configPath: opts.config, overrides: opts.opt, config, backend: backend.name, model, eval: opts.eval, resume: opts.resume,
      signal: interrupt.signal, log,
    });
  } finally {
    // the run saved model_final and says interrupted: true; the exit status says it too
    if (interrupt.exitCode !== undefined) process.exitCode = interrupt.exitCode;
    interrupt.dispose();
  }
}
