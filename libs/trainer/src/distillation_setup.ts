import { ConfigError, loadConfig, type KdConfig } from '@kd/config';
import { headSpecOf, loadTeacherModel, teacherDistillation } from '@kd/distill';
import type { HeadSpec } from '@kd/detection';
import type { Distillation } from './detection_training.ts';
import type { Log } from './log.ts';
import { GrpcTeacher } from './teacher/grpc_teacher.ts';
import { InProcessTeacher } from './teacher/in_process.ts';
import { CachedTeacher } from './teacher/cached.ts';
import type { TeacherSource } from './teacher/source.ts';

/** Where the teacher is: a service address (grpc://..., dns:///...) or a checkpoint run in this process. */
export interface TeacherChoice {
  /** grpc://HOST:PORT[,...] or dns:///NAME:PORT; or, with `pretrained`, the teacher's config file. */
  teacher?: string;
  /** A teacher checkpoint folder to run in this process. */
  pretrained?: string;
}

/** True for a --teacher value that names a teacher service rather than a config file. */
export const isServiceAddress = (teacher: string | undefined): boolean => teacher !== undefined && /^(grpc|dns):/.test(teacher);

export interface PreparedDistillation {
  distillation: Distillation;
  /** Fields for train_summary.json: method, teacher, its model hash. */
  summary: Record<string, unknown>;
  close(): Promise<void>;
}

/**
 * The teacher side of a distillation run, for kd distill and the trainer service alike: the
 * teacher (in this process or connected over gRPC, its spec fetched), the student/teacher head
 * pairing checked against that spec, and the configured loss. Throws ConfigError,
 * HeadPairingError or TeacherUnavailableError before any step.
 */
export async function prepareDistillation(
  config: KdConfig, student: HeadSpec, choice: TeacherChoice, o: { jobId?: string; log: Log; onFailover?: () => void },
): Promise<PreparedDistillation> {
  const remote = isServiceAddress(choice.teacher);
  if (remote && choice.pretrained) throw new ConfigError(`--teacher ${choice.teacher} is a teacher service; --teacher-pretrained runs one in this process: give one of them`);
  if (!remote && !choice.pretrained) throw new ConfigError('no teacher: give --teacher-pretrained CHECKPOINT (with -t CONFIG) or --teacher grpc://HOST:PORT');
  const { source: teacher, about } = remote ? await connectTeacher(choice.teacher!, config, o) : inProcessTeacher(choice);
  // a served teacher's answers depend on how they travel too: part of each answer's key
  const { input_dtype, output_encoding, sparse_threshold } = config.teacher;
  const variant = remote ? `grpc ${input_dtype} ${output_encoding}${output_encoding === 'sparse' ? ` ${sparse_threshold}` : ''}` : 'fp32';
  const source = config.teacher.cache_dir ? new CachedTeacher(teacher, config.teacher.cache_dir, { variant, warn: o.log }) : teacher;
  try {
    const spec = await source.spec();
    const extraLoss = teacherDistillation({
      student, teacher: headSpecOf(spec), distill: config.distill, useFineGrainedLoss: config.use_fine_grained_loss,
      ignoreThresh: config.yolo_head.ignore_thresh, labelSmooth: config.yolo_head.label_smooth,
    });
    if (remote && config.teacher.output_encoding === 'sparse' && extraLoss.method === 'l2') {
      // l2 compares every raw value; a sparse answer leaves out the low-objectness anchors
      throw new ConfigError('teacher.output_encoding: sparse leaves out the anchors whose objectness is below teacher.sparse_threshold, and l2 compares every raw output: use fp32 or fp16 with l2 (sparse suits fine_grained and fine_grained_paper, which weight by the teacher\'s objectness)');
    }
    o.log(`kd distill: teacher ${source.describe()} (${about}), method ${extraLoss.method}`);
    return {
      distillation: { extraLoss, teacher: source, prefetch: remote ? config.teacher.prefetch : 0 },
      summary: { method: extraLoss.method, teacher: choice.teacher ?? null, teacher_pretrained: choice.pretrained ?? null, teacher_hash: spec.modelHash },
      close: async () => {
        if (source instanceof CachedTeacher) o.log(`kd distill: teacher answers: ${source.misses} computed, ${source.hits} read from ${config.teacher.cache_dir}`);
        await source.close();
      },
    };
  } catch (error) {
    await source.close();
    throw error;
  }
}

/** The teacher checkpoint in this process; a config file, when given, must describe the same model. */
function inProcessTeacher(choice: TeacherChoice): { source: TeacherSource; about: string } {
  const config = choice.teacher ? loadConfig(choice.teacher) : undefined;
  const loaded = loadTeacherModel(choice.pretrained!, config);
  return {
    source: new InProcessTeacher(loaded.model, loaded.spec, `${loaded.config.backbone.name} from ${loaded.dir}`),
    about: `step ${loaded.step}, ${loaded.contentHash.slice(0, 12)}`,
  };
}

async function connectTeacher(address: string, config: KdConfig, o: { jobId?: string; log: Log; onFailover?: () => void }): Promise<{ source: TeacherSource; about: string }> {
  const t = config.teacher;
  const source = await GrpcTeacher.connect({
    address, inputDtype: t.input_dtype, outputEncoding: t.output_encoding, sparseThreshold: t.sparse_threshold, timeoutSeconds: t.timeout_s,
    jobId: o.jobId, log: o.log, connectSeconds: t.timeout_s, onFailover: o.onFailover,
  });
  return { source, about: `prefetch ${t.prefetch}, images as ${t.input_dtype}, outputs as ${t.output_encoding}` };
}
