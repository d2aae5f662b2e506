export { applyStatUpdates, inferenceContext, type ForwardContext } from './model/layers.ts';
export { ParamStore, type Param } from './model/params.ts';
export { createYoloV3, modelDefinition, type HeadSpec, type YoloV3 } from './model/yolov3.ts';
export { buildTargets, type GroundTruthBatch, type ScaleTargets } from './loss/targets.ts';
export { yoloV3Loss, type YoloLossOptions, type YoloLossParts } from './loss/yolov3_loss.ts';
export { bceWithLogits } from './loss/bce.ts';
export { centreToCorners, decodeBoxes } from './loss/decode_boxes.ts';
export { multiclassNms, type DetectedBox, type NmsOptions } from './postprocess/nms.ts';
export { nmsOptions, postprocess, type ImageSize } from './postprocess/decode.ts';
