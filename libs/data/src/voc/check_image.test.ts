import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkImageDecodes, checkRecordImage } from './check_image.ts';
import { tempDir, writeJpeg, writeText } from './test_fixtures.ts';

test('a real JPEG decodes to its size; random bytes, a truncated JPEG and a missing file do not', async () => {
  const dir = tempDir();
  const good = await writeJpeg(join(dir, 'good.jpg'), 37, 21);
  assert.deepEqual(await checkImageDecodes(good), { ok: true, width: 37, height: 21 });

  const bytes = Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 7919 + 13) % 256));
  const random = await checkImageDecodes(writeText(join(dir, 'random.jpg'), bytes));
  assert.equal(random.ok, false);
  if (!random.ok) {
    assert.equal(random.problem.kind, 'corrupt-image');
    assert.equal(random.problem.file, join(dir, 'random.jpg'));
  }

  // The header is intact, so only a full decode notices the missing scan data.
  const big = await writeJpeg(join(dir, 'big.jpg'), 256, 256);
  const full = readFileSync(big);
  const cut = await checkImageDecodes(writeText(join(dir, 'cut.jpg'), full.subarray(0, Math.floor(full.length * 0.6))));
  assert.equal(cut.ok ? 'ok' : cut.problem.kind, 'corrupt-image');

  const missing = await checkImageDecodes(join(dir, 'missing.jpg'));
  assert.equal(missing.ok ? 'ok' : missing.problem.kind, 'missing-file');
});

test('checkRecordImage reports a decoded size that differs from <size>', async () => {
  const dir = tempDir();
  const image = await writeJpeg(join(dir, 'a.jpg'), 20, 10);
  const record = { id: 'a', imagePath: image, annotationPath: join(dir, 'a.xml'), width: 20, height: 10, objects: [] };
  assert.deepEqual(await checkRecordImage(record), []);
  const wrong = await checkRecordImage({ ...record, width: 10, height: 20 });
  assert.equal(wrong.length, 1);
  assert.equal(wrong[0].kind, 'size-mismatch');
  assert.match(wrong[0].message, /decoded 20x10, but .*a\.xml says 10x20/);
});
