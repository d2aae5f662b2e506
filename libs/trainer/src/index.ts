// @kd/trainer: the one training loop (detectors and classifiers) and what runs around it:
// data, resume, checkpoints, summaries, and the teacher a student distils from (in this
// process or a teacher service over gRPC). Services and the cli call it; it never logs to
// anything but the injected log.
export { trainLoop, type LoopLosses, type LoopStep, type StepReport, type TrainLoopOptions, type TrainSummary } from './loop.ts';
export { formatDuration, SmoothedValue } from './smoothed.ts';
export { ProgressBar, progressReporter } from './progress.ts';
export { stderrLog, stderrWarning, type Log } from './log.ts';
export { evaluateOnTest, runTraining, type Distillation, type RunTrainingOptions } from './detection_training.ts';
export { isServiceAddress, prepareDistillation, type PreparedDistillation, type TeacherChoice } from './distillation_setup.ts';
export { isClassifierConfig, runClassifier, type ClassifierRunOptions } from './classifier_training.ts';
export {
  ensureShapesDataset, loadTeacher, parseMethod, QUICK_DATASET, QUICK_OVERRIDES, scheduleOverrides, SHIPPED_BACKBONE, SHIPPED_STUDENT, SHIPPED_TEACHER,
  testMaps, trainStudent, type StudentRun, type StudentRunOptions, type TestMaps,
} from './student_runs.ts';
export type { ImageBatch, TeacherSource } from './teacher/source.ts';
export { InProcessTeacher } from './teacher/in_process.ts';
export { CachedTeacher } from './teacher/cached.ts';
export { GrpcTeacher } from './teacher/grpc_teacher.ts';
export { GrpcTeacherClient, TEACHER_AUTH_PREFIX, TeacherUnavailableError, type GrpcTeacherOptions } from './teacher/grpc_client.ts';
export { parseTeacherAddress, TeacherAddressError } from './teacher/address.ts';
export { TeacherResponseError } from './teacher/wire.ts';
export { TeacherTargets, type TeacherWait } from './teacher/targets.ts';
