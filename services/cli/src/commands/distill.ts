import { Command } from 'commander';
import { ConfigError, loadConfig } from '@kd/config';
import { initBackend } from '@kd/engine';
import { createYoloV3 } from '@kd/detection';
import { isClassifierConfig, isServiceAddress, prepareDistillation, runClassifier, runTraining } from '@kd/trainer';
import { collect, exitTwoOnUsageError, reportUserErrors, stopOnSigint } from './common.ts';
import { log } from './log.ts';

interface DistillOptions { config: string; teacher?: string; teacherPretrained?: string; opt: string[]; eval?: boolean; resume?: string; jobId?: string }

/** `kd distill`: PaddleDetection's slim/distillation/distill.py, with the teacher in this process or served over gRPC. */
export function distillCommand(): Command {
  return exitTwoOnUsageError(new Command('distill'))
    .description('train a student YOLOv3 (or crop classifier, architecture: Classifier) with a frozen teacher (PaddleDetection slim/distillation/distill.py)')
    .requiredOption('-c, --config <file>', 'student config, e.g. configs/yolov3_mobilenet_v1_shapes.yml or configs/classifier_mobilenet_v1_shapes.yml')
    .option('-t, --teacher <config|address>', 'teacher config (e.g. configs/yolov3_r34_shapes.yml; with --teacher-pretrained), or a teacher service: grpc://HOST:PORT[,HOST:PORT...] or dns:///NAME:PORT')
    .option('--teacher-pretrained <checkpoint>', 'trained teacher checkpoint folder, run in this process (its model.json holds its config, so -t may be left out)')
    .option('-o, --opt <key=value>', 'override a student config key (repeatable): -o use_fine_grained_loss=true, -o distill.method=fine_grained_paper, -o teacher.prefetch=4', collect, [])
    .option('--eval', 'evaluate on the test split at every snapshot and keep best_model by mAP')
    .option('-r, --resume <checkpoint>', 'resume the student from a checkpoint folder: weights, optimizer state and step')
    .option('--job-id <id>', 'name of this training job, sent with every teacher request (logs and metrics)')
    .addHelpText('after', `
Total loss = detection loss + distillation loss; log lines carry loss, distill_loss and
teacher_loss (the teacher's detection loss on the batch, logged only). Methods (distill.method):
  l2                  100 * sum over scales of mean((S - T)^2) on the raw outputs (default)
  fine_grained        split_distill, weight 1000 (also -o use_fine_grained_loss=true)
  fine_grained_paper  the paper's objectness-scaled terms after FM-NMS on the teacher

A teacher service (kd serve teacher) gets the augmented images the student trains on, so both
see the same pixels. Its config keys (-o teacher.KEY=VALUE):
  prefetch 2          batches whose soft targets are requested ahead of the one being trained
  input_dtype         float16 (default) or float32: images on the wire
  output_encoding     fp32 (default), fp16 or sparse (with sparse_threshold, 0.01)
  timeout_s 60        deadline of one request; a replica that misses it is failed over`)
    .action((opts: DistillOptions) => reportUserErrors('distill', () => distill(opts)));
}

async function distill(opts: DistillOptions): Promise<void> {
  const remote = isServiceAddress(opts.teacher);
  const interrupt = stopOnSigint(log);
  try {
    if (isClassifierConfig(opts.config, opts.opt)) {
      if (remote || !opts.teacher || !opts.teacherPretrained) throw new ConfigError('a classifier student distils from an in-process classifier teacher: give -t CONFIG and --teacher-pretrained CHECKPOINT');
      await runClassifier({
        command: 'distill', configPath: opts.config, overrides: opts.opt, eval: opts.eval, resume: opts.resume, signal: interrupt.signal, log,
        teacher: { configPath: opts.teacher, pretrained: opts.teacherPretrained },
      });
      return;
    }
    const config = loadConfig(opts.config, opts.opt);
    const backend = await initBackend();
    const model = createYoloV3(config);
    const prepared = await prepareDistillation(config, model.spec, { teacher: opts.teacher, pretrained: opts.teacherPretrained }, { jobId: opts.jobId, log });
    try {
      await runTraining({
        command: 'distill', configPath: opts.config, overrides: opts.opt, config, backend: backend.name, model, distillation: prepared.distillation,
        eval: opts.eval, resume: opts.resume, signal: interrupt.signal, log, summary: prepared.summary,
      });
    } finally {
      await prepared.close();
    }
  } finally {
    // the run saved model_final and says interrupted: true; the exit status says it too
    if (interrupt.exitCode !== undefined) process.exitCode = interrupt.exitCode;
    interrupt.dispose();
  }
}
