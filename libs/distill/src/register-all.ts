import { fineGrainedDistill } from './fine_grained.ts';
import { fineGrainedPaperDistill, PaperReduction, SuppressedCandidates } from './fine_grained_paper.ts';
import { l2Distill } from './l2.ts';
import { checkOutputLayout } from './pairing.ts';
import { registerDistillLoss, type DistillLossDefinition } from './registry.ts';

// The fine-grained losses read the channel layout from the spec (declared in `inputs`, so
// createDistillLoss checks it is given) and check the student's outputs against it; the
// teacher's shapes are then checked against the student's by the loss itself.
const builtins: DistillLossDefinition[] = [
  {
    name: 'l2',
    doc: "PaddleDetection's l2_distill: weight * sum_s mean((S_s - T_s)^2) on raw head outputs",
    inputs: ['student', 'teacher'],
    options: { weight: { type: 'number', default: 100, min: 0, doc: 'multiplies the summed per-scale MSE' } },
    create: (o) => ({ student, teacher }) => l2Distill(student, teacher, o.weight as number),
  },
  {
    name: 'fine_grained',
    doc: "PaddleDetection's split_distill: objectness-weighted box/cls terms plus a hard-mask objectness term",
    inputs: ['student', 'teacher', 'spec'],
    options: { weight: { type: 'number', default: 1000, min: 0, doc: 'multiplies reg + cls + obj' } },
    create: (o) => ({ student, teacher, spec }) => {
      checkOutputLayout(student, spec!);
      return fineGrainedDistill(student, teacher, spec!.numClasses, o.weight as number);
    },
  },
  {
    name: 'fine_grained_paper',
    doc: 'Mehta & Ozturk 2018: FM-NMS on the teacher, then objectness-weighted box/cls terms and lambda_D * teacher objectness',
    inputs: ['student', 'teacher', 'spec'],
    options: {
      lambda_D: { type: 'number', default: 1, min: 0, doc: 'weight of the teacher objectness term' },
      weight: { type: 'number', default: 1, min: 0, doc: 'multiplies all terms' },
      reduction: { type: 'enum', values: Object.values(PaperReduction), default: PaperReduction.image, doc: 'image: per-image sums averaged over the batch; element: means' },
      suppressed: {
        type: 'enum', values: Object.values(SuppressedCandidates), default: SuppressedCandidates.ignored,
        doc: 'candidates FM-NMS suppresses: ignored (no distillation term) or background (objectness target 0)',
      },
    },
    create: (o) => ({ student, teacher, spec }) => {
      checkOutputLayout(student, spec!);
      return fineGrainedPaperDistill(student, teacher, spec!.numClasses, {
        lambdaD: o.lambda_D as number, weight: o.weight as number, reduction: o.reduction as PaperReduction,
        suppressed: o.suppressed as SuppressedCandidates,
      });
    },
  },
];

/** Registers the built-in distillation losses (idempotent: re-registering replaces). */
export function registerAllDistillLosses(): void {
  for (const definition of builtins) registerDistillLoss(definition);
}

registerAllDistillLosses();
