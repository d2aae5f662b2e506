import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelOrder, HeadLayout, specHash } from '@kd/proto';
import { describeTeacher, headSpecOf, teacherSpecOf, TeacherSpecError } from './teacher_spec.ts';

const head = {
  numClasses: 2, strides: [32, 16, 8] as [number, number, number],
  anchors: [[10, 13], [16, 30], [33, 23], [30, 61], [62, 45], [59, 119]] as Array<[number, number]>, anchorMasks: [[4, 5], [2, 3], [0, 1]],
};
const source = { modelName: 'yolov3_r34', contentHash: 'ab'.repeat(32), head, classNames: ['cat', 'dog'], inputSize: 224 };

test('a HeadSpec survives the trip through the wire spec; the hash is the spec\'s', () => {
  const spec = teacherSpecOf(source);
  assert.equal(spec.modelHash, `sha256:${'ab'.repeat(32)}`);
  assert.deepEqual(spec.inputSize, { height: 224, width: 224 });
  assert.equal(spec.preprocessing?.channelOrder, ChannelOrder.CHANNEL_ORDER_RGB);
  assert.deepEqual(headSpecOf(spec), head);
  assert.equal(describeTeacher(source).specHash, specHash(spec));
  assert.notEqual(specHash(teacherSpecOf({ ...source, contentHash: 'cd'.repeat(32) })), specHash(spec));
});

test('a wire spec kd cannot use is refused with every problem named', () => {
  const spec = teacherSpecOf(source);
  const bad = {
    ...spec, headLayout: HeadLayout.HEAD_LAYOUT_UNSPECIFIED, classNames: ['cat'],
    anchorMasks: [{ anchorIndices: [4, 9] }, ...spec.anchorMasks.slice(1)],
    preprocessing: { ...spec.preprocessing!, channelOrder: ChannelOrder.CHANNEL_ORDER_BGR },
  };
  assert.throws(() => headSpecOf(bad), (e: Error) => e instanceof TeacherSpecError
    && /head_layout 0 is not HEAD_LAYOUT_YOLO_XYWH_OBJ_CLS/.test(e.message)
    && /1 class names for num_classes 2/.test(e.message)
    && /anchor mask 0 \[4,9\] points outside the 6 anchors/.test(e.message)
    && /preprocessing .* is not kd's/.test(e.message));
});
