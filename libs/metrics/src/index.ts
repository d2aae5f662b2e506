export { ApMetric, averagePrecision } from './ap.ts';
export { evaluateVoc, vocIou, type Box, type Detection, type GroundTruthImage, type GroundTruthObject, type VocEvaluation } from './voc_eval.ts';
export * from './io/index.ts';
