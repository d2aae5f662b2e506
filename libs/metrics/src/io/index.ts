export { MapInputError } from './errors.ts';
export { parseJsonText } from './json.ts';
export { parseGroundTruth, type GroundTruthSet, type SizedGroundTruthImage } from './ground_truth.ts';
export { parseDetections } from './detections.ts';
