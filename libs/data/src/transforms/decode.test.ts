import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { VocRecord } from '../types.ts';
import { decodeImage, decodeRecord } from './decode.ts';
import { SampleError } from './errors.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kd-decode-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const rgb = Uint8Array.from({ length: 4 * 3 * 3 }, (_, i) => i * 7);

test('decode returns the exact RGB bytes of a lossless image, and expands greyscale', async () => {
  const png = join(tmp, 'a.png');
  await sharp(rgb, { raw: { width: 4, height: 3, channels: 3 } }).png().toFile(png);
  const d = await decodeImage(png);
  assert.deepEqual([d.width, d.height], [4, 3]);
  assert.deepEqual(d.pixels, rgb);
  const grey = join(tmp, 'g.png');
  await sharp(Uint8Array.from([5, 6]), { raw: { width: 2, height: 1, channels: 1 } }).png().toFile(grey);
  assert.deepEqual([...(await decodeImage(grey)).pixels], [5, 5, 5, 6, 6, 6]);
});

test('missing and corrupt files throw a SampleError naming the file and the kind', async () => {
  const missing = join(tmp, 'nope.jpg');
  await assert.rejects(decodeImage(missing), (e: SampleError) => e instanceof SampleError && e.problem.kind === 'missing-file' && e.message.includes(missing));
  const bad = join(tmp, 'bad.jpg');
  writeFileSync(bad, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]));
  await assert.rejects(decodeImage(bad), (e: SampleError) => e instanceof SampleError && e.problem.kind === 'corrupt-image' && e.problem.file === bad);
});

test('decodeRecord: VOC boxes to pixel edges, clipped; zero-area dropped; unknown class rejected', async () => {
  const png = join(tmp, 'r.png');
  await sharp(rgb, { raw: { width: 4, height: 3, channels: 3 } }).png().toFile(png);
  const record: VocRecord = {
    id: 'r', imagePath: png, annotationPath: join(tmp, 'r.xml'), width: 4, height: 3,
    objects: [
      { name: 'b', bbox: [1, 1, 2, 3], difficult: true, truncated: false },
      { name: 'a', bbox: [3, 2, 9, 9], difficult: false, truncated: true }, // beyond the image: clipped
      { name: 'a', bbox: [6, 1, 8, 2], difficult: false, truncated: false }, // entirely outside: dropped
    ],
  };
  const classes = new Map([['a', 0], ['b', 1]]);
  const s = await decodeRecord(record, classes);
  assert.deepEqual([...s.boxes], [0, 0, 2, 3, 2, 1, 4, 3]);
  assert.deepEqual([...s.classes], [1, 0]);
  assert.deepEqual([...s.difficult], [1, 0]);
  assert.deepEqual([...s.scores], [1, 1]);
  await assert.rejects(decodeRecord({ ...record, objects: [{ name: 'zebra', bbox: [1, 1, 2, 2], difficult: false, truncated: false }] }, classes),
    (e: SampleError) => e.problem.kind === 'unknown-class' && /r\.xml: unknown class "zebra"/.test(e.message));
});
