export { cropWindow, CropBatcher, evalBatches, extractCrops, type CropBatch, type CropOptions, type CropSet } from './crops.ts';
export { createClassifier, type Classifier } from './model.ts';
export {
  CLASSIFIER_DISTILL_LOSSES, classifierDistillation, TeacherMismatchError, type ClassifierDistill, type TeacherInfo,
} from './distill.ts';
export { ClassifierTrainStep, softmaxCrossEntropy, type ClassifierStepLosses } from './train_step.ts';
export { evaluateClassifier, type ClassifierEvaluation } from './evaluate.ts';
