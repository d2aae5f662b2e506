// What fine_grained_paper's objectness term asks of a student, measured on the shipped teacher:
// how many of the teacher's confident anchors FM-NMS zeroes, and what target the term gives the
// anchors the ground truth makes responsible for an object (YOLOv3's assignment).
//   npx tsx scripts/analysis/fm_nms_targets.ts [--teacher DIR] [--data DIR] [--images N] [--size S]
// Prints one JSON object (results/fm-nms-targets.json holds a run).
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@kd/engine';
import { buildTargets, inferenceContext, openSplit, trainLoaderFor } from '@kd/detection';
import { fmNmsKeepData, loadTeacherModel } from '@kd/distill';

/** Index of the objectness channel in an anchor's [x, y, w, h, obj, cls..] block. */
const OBJ = 4;

const { values: a } = parseArgs({ options: {
  teacher: { type: 'string', default: 'models/yolov3_r34_shapes' }, data: { type: 'string', default: 'data/shapes' },
  images: { type: 'string', default: '200' }, size: { type: 'string', default: '224' },
} });
await initBackend('wasm');
const size = Number(a.size);
const teacher = loadTeacherModel(a.teacher!);
const config = { ...teacher.config, dataset: { ...teacher.config.dataset, dir: a.data! } };
const train_reader = { ...config.train_reader, sizes: [size], batch_size: 8, augment: { mixup: false, color_distort: false, expand: false, crop: false, flip: false } };
// the test split through the training loader (no augmentation): images and ground truth as a training step sees them
const testSet = await openSplit(config, 'test');
const loader = trainLoaderFor({ ...config, train_reader }, { ...testSet, records: testSet.records.slice(0, Number(a.images)) });
const C = teacher.model.spec.numClasses;
const K = 5 + C;
const sig = (x: number) => 1 / (1 + Math.exp(-x));
const totals = { images: 0, anchors: 0, confident: 0, confidentKept: 0, positives: 0, posTeacher: 0, posTarget: 0, posSuppressed: 0, posTargetBelowHalf: 0, targetMass: 0, pushDown: 0 };
for (let done = 0; done < Number(a.images);) {
  const next = await loader.next();
  if (next.done) break;
  const b = next.value;
  const n = b.ids.length;
  // the loader fills its last batch from the next epoch: count only images not seen yet
  const fresh = Math.min(n, Number(a.images) - done);
  const outputs = tf.tidy(() => teacher.model.forward(tf.tensor4d(b.images, [n, b.size, b.size, 3]), inferenceContext()));
  const targets = buildTargets({ batch: n, maxBoxes: b.maxBoxes, gtBox: b.gtBox, gtClass: b.gtClass, gtScore: b.gtScore }, b.size, teacher.model.spec, false);
  outputs.forEach((out, s) => {
    const data = out.dataSync() as Float32Array;
    const keep = fmNmsKeepData(data, out.shape, C);
    const pos = targets[s].positive;
    const perImage = keep.length / n;
    for (let m = 0; m < fresh * perImage; m++) {
      const o = sig(data[m * K + OBJ]);
      const target = o * keep[m];
      totals.anchors++;
      totals.targetMass += target;
      totals.pushDown += o - target; // the term's pull below the teacher's own objectness
      if (o >= 0.5) { totals.confident++; if (keep[m]) totals.confidentKept++; }
      if (pos[m]) {
        totals.positives++;
        totals.posTeacher += o;
        totals.posTarget += target;
        if (!keep[m]) totals.posSuppressed++;
        if (target < 0.5) totals.posTargetBelowHalf++;
      }
    }
  });
  tf.dispose(outputs);
  done += fresh;
  totals.images += fresh;
}
await loader.close?.();
const r = (x: number) => Math.round(x * 1e4) / 1e4;
console.log(JSON.stringify({
  command: `npx tsx scripts/analysis/fm_nms_targets.ts --teacher ${a.teacher} --data ${a.data} --images ${a.images} --size ${size}`,
  teacher: teacher.dir, images: totals.images, size, anchors_per_image: r(totals.anchors / totals.images),
  teacher_confident_anchors_per_image: r(totals.confident / totals.images),
  confident_kept_by_fm_nms: r(totals.confidentKept / totals.confident),
  gt_positives: totals.positives,
  positives_teacher_objectness_mean: r(totals.posTeacher / totals.positives),
  positives_paper_target_mean: r(totals.posTarget / totals.positives),
  positives_suppressed_by_fm_nms: r(totals.posSuppressed / totals.positives),
  positives_paper_target_below_half: r(totals.posTargetBelowHalf / totals.positives),
  paper_target_mass_per_image: r(totals.targetMass / totals.images),
  teacher_objectness_removed_by_fm_nms_per_image: r(totals.pushDown / totals.images),
}, null, 1));
