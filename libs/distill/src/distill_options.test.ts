import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '@kd/config';
import { distillOptions } from './distill_options.ts';
import { DistillConfigError } from './registry.ts';
import './register-all.ts';

test('distillOptions: the chosen method\'s section gives its defaults, flat keys (-o distill.weight) win, other sections are not used', () => {
  const distill = { l2: { weight: 2 }, fine_grained: { weight: 300 }, fine_grained_paper: { weight: 0.5, lambda_D: 1 } };
  assert.deepEqual(distillOptions(distill, 'l2'), { weight: 2 });
  assert.deepEqual(distillOptions({ ...distill, method: 'fine_grained' }, 'fine_grained'), { weight: 300 });
  assert.deepEqual(distillOptions({ ...distill, weight: 7 }, 'fine_grained_paper'), { weight: 7, lambda_D: 1 });
  assert.deepEqual(distillOptions({ weight: 5 }, 'l2'), { weight: 5 }, 'flat keys alone, as before');
});

test('distillOptions: a section for an unknown method, or a bad option in any section, is an error naming the key', () => {
  assert.throws(() => distillOptions({ l3: { weight: 1 } }, 'l2'), (e: Error) => e instanceof DistillConfigError && /distill\.l3: .* l3 is not one \(known: .*l2/.test(e.message));
  assert.throws(() => distillOptions({ fine_grained: { wieght: 1 } }, 'l2'), /distill\.fine_grained\.wieght: not an option of fine_grained/);
  assert.throws(() => distillOptions({ l2: { weight: -1 } }, 'l2'), /distill\.l2\.weight: -1 is below the minimum 0/);
});

test('the shapes student config carries the weights that work on this dataset; PaddleDetection\'s stay the losses\' defaults', () => {
  const config = loadConfig('configs/yolov3_mobilenet_v1_shapes.yml');
  assert.deepEqual(distillOptions(config.distill, 'l2'), { weight: 1 });
  assert.deepEqual(distillOptions(config.distill, 'fine_grained'), { weight: 300 });
  assert.deepEqual(distillOptions(config.distill, 'fine_grained_paper'), { weight: 0.5 });
  const overridden = loadConfig('configs/yolov3_mobilenet_v1_shapes.yml', ['distill.method=fine_grained', 'distill.l2.weight=9']);
  assert.deepEqual([overridden.distill.method, distillOptions(overridden.distill, 'l2')], ['fine_grained', { weight: 9 }]);
  assert.deepEqual(loadConfig('configs/yolov3_mobilenet_v1_voc.yml').distill, {}, 'the VOC config keeps PaddleDetection\'s: the losses\' defaults');
});
