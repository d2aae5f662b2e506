import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../backend.ts';
import { benchmarkConvMacs, profileStepParts, stepParts } from './engine_profile.ts';

await useBackend('wasm');

// By hand, one 160x160 image: the stem 80*80 * 3*16 * 9; the 1x1 convs 16->32 at 80x80,
// 32->64 at 40, 64->64 at 40, 64->128 at 20, 128->128 at 20, 128->256 at 10, 256->256 twice
// at 10, 256->512 at 5, and the head 512->75 at 5; the 3x3 depthwise convs 9 taps per output
// channel at 80 (16 ch), 40 (32, 64), 20 (64, 128), 10 (128, 256, 256), 5 (256).
test('benchmarkConvMacs counts the benchmark model\'s multiply-adds', () => {
  const stem = 6400 * 3 * 16 * 9;
  const dense = 6400 * 16 * 32 + 1600 * 32 * 64 + 1600 * 64 * 64 + 400 * 64 * 128 + 400 * 128 * 128
    + 100 * 128 * 256 + 2 * 100 * 256 * 256 + 25 * 256 * 512 + 25 * 512 * 75;
  const depthwise = 9 * (6400 * 16 + 1600 * 32 + 1600 * 64 + 400 * 64 + 400 * 128 + 100 * 128 + 100 * 256 * 2 + 25 * 256);
  assert.deepEqual(benchmarkConvMacs(1, 160), {
    dense_conv_forward: stem + dense,
    depthwise_conv_forward: depthwise,
    dense_conv_gradients: stem + 2 * dense, // the image needs no gradient
    depthwise_conv_gradients: 2 * depthwise,
  });
  assert.equal(benchmarkConvMacs(8, 160).dense_conv_forward, 8 * (stem + dense));
});

test('profileStepParts: every part timed, the parts add up to the step', async () => {
  const parts = await profileStepParts({ batch: 2, size: 32, warmup: 1, repeats: 1 });
  assert.deepEqual(Object.keys(parts), [...stepParts]);
  // "other" is a difference of two runs' times (see profileStepParts): only finite here
  for (const part of stepParts) assert.ok(part === 'other' ? Number.isFinite(parts[part]) : parts[part] > 0, `${part}: ${parts[part]}`);
  const sum = stepParts.filter((p) => p !== 'step').reduce((s, p) => s + parts[p], 0);
  assert.ok(Math.abs(sum - parts.step) < 1e-6, `parts ${sum} vs step ${parts.step}`);
});
