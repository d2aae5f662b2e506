import type * as tf from '@tensorflow/tfjs-core';
import type { HeadSpec } from '@kd/detection';

/** Student and teacher heads that cannot be distilled into one another; lists every difference. */
export class HeadPairingError extends Error {
  override name = 'HeadPairingError';

  constructor(readonly differences: string[], options?: ErrorOptions) {
    super(`student/teacher heads do not pair: ${differences.join('; ')}`, options);
  }
}

/** One paired scale: the stride and its index in the student's and the teacher's outputs. */
export interface HeadPair {
  stride: number;
  student: number;
  teacher: number;
}

/** Student scales in order, each with its teacher scale; teacherOrder[s] = teacher index for student scale s. */
export interface HeadPairing {
  pairs: HeadPair[];
  teacherOrder: number[];
}

const show = (xs: unknown) => JSON.stringify(xs);

/** Anchors of scale s in input pixels, or undefined if its mask points outside the anchor list. */
function scaleAnchors(spec: HeadSpec, s: number): Array<[number, number]> | undefined {
  const mask = spec.anchorMasks[s] ?? [];
  return mask.every((a) => Number.isInteger(a) && a >= 0 && a < spec.anchors.length) ? mask.map((a) => spec.anchors[a]) : undefined;
}

function selfCheck(role: string, spec: HeadSpec, out: string[]): void {
  if (spec.anchorMasks.length !== spec.strides.length) out.push(`${role}: ${spec.strides.length} strides but ${spec.anchorMasks.length} anchor masks`);
  if (new Set(spec.strides).size !== spec.strides.length) out.push(`${role}: strides ${show(spec.strides)} repeat a stride`);
  spec.anchorMasks.forEach((mask, s) => {
    if (scaleAnchors(spec, s) === undefined) out.push(`${role} stride ${spec.strides[s]}: mask ${show(mask)} points outside its ${spec.anchors.length} anchors`);
  });
}

/**
 * Matches the student's head scales to the teacher's by stride and checks that each pair has
 * the same anchors (via the masks), class count and channel layout A*(5+C), so raw outputs
 * can be compared channel by channel. Throws HeadPairingError naming every difference.
 */
export function checkHeadPairing(studentSpec: HeadSpec, teacherSpec: HeadSpec): HeadPairing {
  const diffs: string[] = [];
  selfCheck('student', studentSpec, diffs);
  selfCheck('teacher', teacherSpec, diffs);
  if (diffs.length > 0) throw new HeadPairingError(diffs);

  const S = studentSpec.numClasses;
  const T = teacherSpec.numClasses;
  if (S !== T) diffs.push(`num classes: teacher ${T}, student ${S}`);
  const pairs: HeadPair[] = [];
  studentSpec.strides.forEach((stride, s) => {
    const t = teacherSpec.strides.indexOf(stride);
    if (t < 0) {
      diffs.push(`stride ${stride}: student has it, teacher has none (teacher strides ${teacherSpec.strides.join(', ')})`);
      return;
    }
    pairs.push({ stride, student: s, teacher: t });
    const sMask = studentSpec.anchorMasks[s];
    const tMask = teacherSpec.anchorMasks[t];
    const sAnchors = scaleAnchors(studentSpec, s)!;
    const tAnchors = scaleAnchors(teacherSpec, t)!;
    // Masks may index differently ordered anchor lists; what must agree is the anchor each channel block decodes with.
    if (show(sAnchors) !== show(tAnchors)) {
      diffs.push(`stride ${stride}: teacher anchors ${show(tAnchors)} (mask ${show(tMask)}) vs student ${show(sAnchors)} (mask ${show(sMask)})`);
    }
    const sChannels = sMask.length * (5 + S);
    const tChannels = tMask.length * (5 + T);
    if (sChannels !== tChannels) {
      diffs.push(`stride ${stride}: teacher channels ${tChannels} = ${tMask.length}*(5+${T}) vs student ${sChannels} = ${sMask.length}*(5+${S})`);
    }
  });
  for (const stride of teacherSpec.strides) {
    if (!studentSpec.strides.includes(stride)) {
      diffs.push(`stride ${stride}: teacher has it, student has none (student strides ${studentSpec.strides.join(', ')})`);
    }
  }
  if (diffs.length > 0) throw new HeadPairingError(diffs);
  return { pairs, teacherOrder: pairs.map((p) => p.teacher) };
}

/** Reorders the teacher's outputs to the student's scale order. */
export function alignTeacherOutputs<T>(pairing: HeadPairing, teacher: readonly T[]): T[] {
  return pairing.teacherOrder.map((t) => teacher[t]);
}

/** Checks that paired outputs have equal shapes (same batch, map size, channels); throws HeadPairingError. */
export function checkOutputShapes(student: readonly tf.Tensor[], teacher: readonly tf.Tensor[]): void {
  const diffs: string[] = [];
  if (student.length !== teacher.length) diffs.push(`scales: teacher ${teacher.length}, student ${student.length}`);
  student.forEach((s, i) => {
    const t = teacher[i];
    if (t !== undefined && show(s.shape) !== show(t.shape)) diffs.push(`scale ${i}: teacher shape ${show(t.shape)} vs student ${show(s.shape)}`);
  });
  if (diffs.length > 0) throw new HeadPairingError(diffs);
}

/** Checks raw outputs [N,H,W,A*(5+C)] against a spec (one per stride, A = that scale's mask length); throws HeadPairingError. */
export function checkOutputLayout(outputs: readonly tf.Tensor[], spec: HeadSpec, role = 'student'): void {
  const diffs: string[] = [];
  if (outputs.length !== spec.strides.length) diffs.push(`${role}: ${outputs.length} outputs for ${spec.strides.length} strides`);
  outputs.forEach((output, s) => {
    const A = spec.anchorMasks[s]?.length ?? 0;
    const expected = A * (5 + spec.numClasses);
    const channels = output.shape[output.rank - 1];
    if (output.rank !== 4 || channels !== expected) {
      diffs.push(`${role} scale ${s} (stride ${spec.strides[s]}): shape ${show(output.shape)}, spec says [N,H,W,${A}*(5+${spec.numClasses})=${expected}]`);
    }
  });
  if (diffs.length > 0) throw new HeadPairingError(diffs);
}
