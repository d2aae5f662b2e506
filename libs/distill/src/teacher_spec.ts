// The one place where a detector's HeadSpec and the wire's TeacherSpec meet: the teacher
// service builds its spec here, and every trainer converts a spec that came over the wire
// back to a HeadSpec here before the head-pairing check runs against it.
import { ChannelOrder, HeadLayout, specHash, type TeacherSpec } from '@kd/proto';
import type { HeadSpec } from '@kd/detection';

/** ImageNet mean/std on [0, 1] RGB: the normalisation every kd detector trains with. */
const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } as const;

/** A spec that came over the wire and cannot describe a kd teacher; lists every problem. */
export class TeacherSpecError extends Error {
  override name = 'TeacherSpecError';

  constructor(readonly problems: string[], options?: ErrorOptions) {
    super(`teacher spec is not usable: ${problems.join('; ')}`, options);
  }
}

export interface TeacherSpecSource {
  modelName: string;
  /** sha256 hex of the weights (a checkpoint's content hash), without the "sha256:" prefix. */
  contentHash: string;
  head: HeadSpec;
  classNames: string[];
  /** Network input size in pixels (the eval size: square). */
  inputSize: number;
}

/** The proto TeacherSpec of a kd YOLOv3 detector; pair it with specHash() for responses. */
export function teacherSpecOf(s: TeacherSpecSource): TeacherSpec {
  return {
    modelName: s.modelName,
    modelHash: `sha256:${s.contentHash}`,
    numClasses: s.head.numClasses,
    classNames: [...s.classNames],
    inputSize: { height: s.inputSize, width: s.inputSize },
    preprocessing: { channelOrder: ChannelOrder.CHANNEL_ORDER_RGB, scale: 255, mean: [...IMAGENET.mean], std: [...IMAGENET.std] },
    anchors: s.head.anchors.map(([w, h]) => ({ w, h })),
    anchorMasks: s.head.anchorMasks.map((m) => ({ anchorIndices: [...m] })),
    strides: [...s.head.strides],
    headLayout: HeadLayout.HEAD_LAYOUT_YOLO_XYWH_OBJ_CLS,
  };
}

const close = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) < 1e-6);

/**
 * The HeadSpec a wire TeacherSpec describes, after checking what a kd student relies on:
 * the YOLO channel layout, three strides with one anchor mask each, masks inside the anchor
 * list, class names for every class and ImageNet RGB normalisation. Throws TeacherSpecError.
 */
export function headSpecOf(spec: TeacherSpec): HeadSpec {
  const problems: string[] = [];
  if (spec.headLayout !== HeadLayout.HEAD_LAYOUT_YOLO_XYWH_OBJ_CLS) problems.push(`head_layout ${spec.headLayout} is not HEAD_LAYOUT_YOLO_XYWH_OBJ_CLS`);
  if (spec.strides.length !== 3) problems.push(`${spec.strides.length} strides [${spec.strides}], kd heads have 3`);
  if (spec.anchorMasks.length !== spec.strides.length) problems.push(`${spec.strides.length} strides but ${spec.anchorMasks.length} anchor masks`);
  if (spec.numClasses < 1) problems.push(`num_classes ${spec.numClasses}`);
  if (spec.classNames.length !== spec.numClasses) problems.push(`${spec.classNames.length} class names for num_classes ${spec.numClasses}`);
  spec.anchorMasks.forEach((m, s) => {
    if (m.anchorIndices.length === 0 || m.anchorIndices.some((a) => a >= spec.anchors.length)) {
      problems.push(`anchor mask ${s} [${m.anchorIndices}] points outside the ${spec.anchors.length} anchors`);
    }
  });
  const p = spec.preprocessing;
  if (!p || p.channelOrder !== ChannelOrder.CHANNEL_ORDER_RGB || p.scale !== 255 || !close(p.mean, IMAGENET.mean) || !close(p.std, IMAGENET.std)) {
    problems.push(`preprocessing ${JSON.stringify(p)} is not kd's (RGB, /255, ImageNet mean and std)`);
  }
  if (problems.length > 0) throw new TeacherSpecError(problems);
  return {
    numClasses: spec.numClasses,
    strides: [spec.strides[0], spec.strides[1], spec.strides[2]],
    anchors: spec.anchors.map((a) => [a.w, a.h]),
    anchorMasks: spec.anchorMasks.map((m) => [...m.anchorIndices]),
  };
}

/** The spec and its hash, as GetSpec answers them. */
export function describeTeacher(s: TeacherSpecSource): { spec: TeacherSpec; specHash: string } {
  const spec = teacherSpecOf(s);
  return { spec, specHash: specHash(spec) };
}
