import './register-all.ts';

export { l2Distill } from './l2.ts';
export { fineGrainedDistill } from './fine_grained.ts';
export { fineGrainedPaperDistill, PaperReduction, type PaperDistillOptions } from './fine_grained_paper.ts';
export { fmNmsKeep, fmNmsKeepData } from './fm_nms.ts';
export { logitL2, softKl } from './classification.ts';
export { alignTeacherOutputs, checkHeadPairing, checkOutputLayout, checkOutputShapes, HeadPairingError, type HeadPair, type HeadPairing } from './pairing.ts';
export { stopGradient } from './stop_gradient.ts';
export {
  createDistillLoss, DistillConfigError, distillLossNames, getDistillLoss, registerDistillLoss, resolveDistillOptions,
  type DistillInputName, type DistillInputs, type DistillLossDefinition, type DistillLossFn, type DistillOptionSpec, type DistillOptionValues,
} from './registry.ts';
export { registerAllDistillLosses } from './register-all.ts';
export type { DistillLossResult } from './types.ts';
export { distillOptions } from './distill_options.ts';
export { distillMethod, MissingTeacherOutputsError, teacherDistillation, type TeacherDistillationOptions } from './teacher_distillation.ts';
export { describeTeacher, headSpecOf, teacherSpecOf, TeacherSpecError, type TeacherSpecSource } from './teacher_spec.ts';
export { loadTeacherModel, type LoadedTeacher } from './teacher_model.ts';
