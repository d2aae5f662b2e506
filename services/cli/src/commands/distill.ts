import { Command } from 'commander';
import { loadConfig } from '@kd/config';
import { teacherDistillation } from '@kd/distill';
import { initBackend } from '@kd/engine';
import { createYoloV3, loadCheckpoint } from '@kd/detection';
import { isClassifierConfig, runClassifier } from './classifier.ts';
import { collect, exitTwoOnUsageError, reportUserErrors } from './common.ts';
import { runTraining } from './train.ts';

interface DistillOptions { config: string; teacher: string; teacherPretrained: string; opt: string[]; eval?: boolean; resume?: string }

/** `kd distill`: PaddleDetection's slim/distillation/distill.py with an in-process teacher. */
export function distillCommand(): Command {
  return exitTwoOnUsageError(new Command('distill'))
    .description('train a student YOLOv3 (or crop classifier, architecture: Classifier) with a frozen teacher (PaddleDetection slim/distillation/distill.py)')
    .requiredOption('-c, --config <file>', 'student config, e.g. configs/yolov3_mobilenet_v1_shapes.yml or configs/classifier_mobilenet_v1_shapes.yml')
    .requiredOption('-t, --teacher <file>', 'teacher config, e.g. configs/yolov3_r34_shapes.yml')
    .requiredOption('--teacher-pretrained <checkpoint>', 'trained teacher checkpoint folder')
    .option('-o, --opt <key=value>', 'override a student config key (repeatable): -o use_fine_grained_loss=true, -o distill.method=fine_grained_paper', collect, [])
    .option('--eval', 'evaluate on the test split at every snapshot and keep best_model by mAP')
    .option('-r, --resume <checkpoint>', 'resume the student from a checkpoint folder: weights, optimizer state and step')
    .addHelpText('after', `
Total loss = detection loss + distillation loss; log lines carry loss, distill_loss and
teacher_loss (the teacher's detection loss on the batch, logged only). Methods (distill.method):
  l2                  100 * sum over scales of mean((S - T)^2) on the raw outputs (default)
  fine_grained        split_distill, weight 1000 (also -o use_fine_grained_loss=true)
  fine_grained_paper  the paper's objectness-scaled terms after FM-NMS on the teacher`)
    .action((opts: DistillOptions) => reportUserErrors('distill', async () => {
      if (isClassifierConfig(opts.config, opts.opt)) {
        await runClassifier({
          command: 'distill', configPath: opts.config, overrides: opts.opt, eval: opts.eval, resume: opts.resume,
          teacher: { configPath: opts.teacher, pretrained: opts.teacherPretrained },
        });
        return;
      }
      const config = loadConfig(opts.config, opts.opt);
      const teacherConfig = loadConfig(opts.teacher);
      const backend = await initBackend();
      const teacher = createYoloV3(teacherConfig);
      const loaded = loadCheckpoint(opts.teacherPretrained, teacher.store, teacherConfig);
      const model = createYoloV3(config);
      const extraLoss = teacherDistillation({
        student: model.spec, teacher, distill: config.distill, useFineGrainedLoss: config.use_fine_grained_loss,
        ignoreThresh: config.yolo_head.ignore_thresh, labelSmooth: config.yolo_head.label_smooth,
      });
      process.stderr.write(`kd distill: teacher ${teacherConfig.backbone.name} from ${loaded.dir} (step ${loaded.step}, ${loaded.contentHash.slice(0, 12)}), method ${extraLoss.method}\n`);
      await runTraining({
        command: 'distill', configPath: opts.config, overrides: opts.opt, config, backend: backend.name, model, extraLoss,
        eval: opts.eval, resume: opts.resume,
        summary: { method: extraLoss.method, teacher: opts.teacher, teacher_pretrained: loaded.dir, teacher_hash: loaded.contentHash },
      });
    }));
}
