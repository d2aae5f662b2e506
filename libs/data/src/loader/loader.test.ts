import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataProblem, TrainBatch, VocRecord } from '../types.ts';
import { generateShapesDataset, type ShapesDataset } from '../shapes/generate.ts';
import { createEvalLoader, createTrainLoader, LoaderError, type TrainLoaderOptions } from './index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kd-loader-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
let ds: ShapesDataset;
test.before(async () => {
  ds = await generateShapesDataset({ out: join(tmp, 'shapes'), train: 12, test: 5, unlabeled: 3, size: 96, seed: 3 });
});

const options = (over: Partial<TrainLoaderOptions> = {}): TrainLoaderOptions => ({
  records: ds.trainval, classes: ds.classes, batchSize: 4, sizes: [64, 96], workers: 2, seed: 1, ...over,
});

async function take(opts: TrainLoaderOptions, n: number): Promise<{ batches: TrainBatch[]; digest: string }> {
  const loader = createTrainLoader(opts);
  const batches: TrainBatch[] = [];
  const hash = createHash('sha256');
  try {
    for await (const b of loader) {
      batches.push(b);
      hash.update(`${b.size}|${b.ids.join(',')}|`);
      for (const a of [b.images, b.gtBox, b.gtClass, b.gtScore]) hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      if (batches.length === n) break;
    }
  } finally {
    await loader.close();
  }
  return { batches, digest: hash.digest('hex') };
}

test('train batches have the TrainBatch layout: NHWC images of a listed size, 50 padded normalised boxes', async () => {
  const { batches } = await take(options(), 4);
  const sizes = new Set<number>();
  for (const b of batches) {
    sizes.add(b.size);
    assert.ok([64, 96].includes(b.size));
    assert.equal(b.ids.length, 4);
    assert.equal(b.maxBoxes, 50);
    assert.equal(b.images.length, 4 * b.size * b.size * 3);
    assert.equal(b.gtBox.length, 4 * 50 * 4);
    assert.equal(b.gtClass.length, 4 * 50);
    assert.equal(b.gtScore.length, 4 * 50);
    for (let r = 0; r < 4 * 50; r++) {
      const box = b.gtBox.subarray(r * 4, r * 4 + 4);
      if (b.gtScore[r] === 0) {
        assert.deepEqual([...box], [0, 0, 0, 0]);
        continue;
      }
      assert.ok(b.gtScore[r] > 0 && b.gtScore[r] <= 1);
      assert.ok(box.every((v) => v >= 0 && v <= 1) && box[2] > 0 && box[3] > 0, `row ${r}: ${box}`);
      assert.ok(b.gtClass[r] >= 0 && b.gtClass[r] < ds.classes.length);
    }
    // Normalised pixels: (0 - .485) / .229 ~ -2.12 to (1 - .406) / .225 ~ 2.64, a little past with colour distortion.
    const min = b.images.reduce((m, v) => Math.min(m, v), Infinity);
    const max = b.images.reduce((m, v) => Math.max(m, v), -Infinity);
    assert.ok(min > -6 && max < 6 && max - min > 1, `pixel range ${min}..${max}`);
  }
  // The first epoch (3 batches of 4) covers the 12 records once (ids of mixed images start with the primary).
  const primaries = batches.slice(0, 3).flatMap((b) => b.ids.map((id) => id.split('+')[0]));
  assert.deepEqual(primaries.sort(), ds.trainval.map((r) => r.id).sort());
});

test('the same seed gives the same batches with 2 workers, 1 worker or in-process; another seed does not', async () => {
  const a = await take(options(), 4);
  const b = await take(options({ workers: 1, prefetch: 3 }), 4);
  const c = await take(options({ workers: 0 }), 4);
  const d = await take(options({ seed: 2 }), 4);
  assert.equal(a.digest, b.digest);
  assert.equal(a.digest, c.digest);
  assert.notEqual(a.digest, d.digest);
});

test('startBatch resumes the stream: batch 5 of a resumed loader is batch 5 of an unbroken one', async () => {
  const full = await take(options({ workers: 0 }), 6);
  const resumed = await take(options({ workers: 1, startBatch: 5 }), 1);
  assert.deepEqual(resumed.batches[0].ids, full.batches[5].ids);
  assert.deepEqual(resumed.batches[0].images, full.batches[5].images);
  assert.deepEqual(resumed.batches[0].gtBox, full.batches[5].gtBox);
});

test('a corrupt JPEG and a missing file are skipped with one warning each; batches stay full', async () => {
  const corrupt = join(tmp, 'corrupt.jpg');
  writeFileSync(corrupt, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 2, 3]));
  const records: VocRecord[] = ds.trainval.map((r, i) => (i === 2 ? { ...r, imagePath: corrupt } : i === 7 ? { ...r, imagePath: join(tmp, 'gone.jpg') } : r));
  const warnings: DataProblem[] = [];
  const loader = createTrainLoader(options({ records, onWarning: (p) => warnings.push(p) }));
  try {
    // 3 epochs: each bad record is met at least 3 times (plus as mixup partner).
    for (let i = 0; i < 9; i++) {
      const batch = (await loader.next()).value as TrainBatch;
      assert.equal(batch.ids.length, 4);
      const parts = batch.ids.flatMap((id) => id.split('+')); // mixed images are "primary+partner"
      assert.ok(parts.every((id) => id !== 'train_000002' && id !== 'train_000007'), parts.join(' '));
    }
    const stats = loader.stats();
    assert.deepEqual(warnings.map((w) => [w.file, w.kind]).sort(), [[corrupt, 'corrupt-image'], [join(tmp, 'gone.jpg'), 'missing-file']]);
    assert.deepEqual(Object.keys(stats.skipped).sort(), [corrupt, join(tmp, 'gone.jpg')].sort());
    assert.match(stats.skipped[corrupt], /^corrupt-image: cannot decode image/);
    assert.equal(stats.batches, 9);
    assert.equal(stats.images, 36);
    assert.ok(stats.replaced >= 6, `replaced ${stats.replaced}`);
  } finally {
    await loader.close();
  }
});

test('eval loader: every record once, in order, resized, original sizes kept; a bad file is left out', async () => {
  const records = ds.test.map((r, i) => (i === 1 ? { ...r, imagePath: join(tmp, 'missing.jpg') } : r));
  const warnings: DataProblem[] = [];
  const loader = createEvalLoader({ records, size: 64, batchSize: 2, workers: 1, onWarning: (p) => warnings.push(p) });
  const ids: string[] = [];
  for await (const b of loader) {
    assert.equal(b.images.length, b.ids.length * 64 * 64 * 3);
    b.ids.forEach((id, i) => {
      const r = ds.test.find((t) => t.id === id)!;
      assert.deepEqual([b.origWidth[i], b.origHeight[i]], [r.width, r.height]);
    });
    ids.push(...b.ids);
  }
  assert.deepEqual(ids, ['test_000000', 'test_000002', 'test_000003', 'test_000004']);
  assert.equal(warnings.length, 1);
  assert.equal(loader.stats().batches, 3);
});

test('bad options throw a LoaderError naming the option', () => {
  assert.throws(() => createTrainLoader(options({ batchSize: 0 })), /batchSize: expected an integer >= 1, got 0/);
  assert.throws(() => createTrainLoader(options({ records: [] })), LoaderError);
  assert.throws(() => createTrainLoader(options({ sizes: [] })), /sizes/);
});

test('close() terminates the workers so the process can exit', () => {
  const loaderUrl = new URL('./index.ts', import.meta.url).href;
  const script = join(tmp, 'exit.mts'); // .mts: ESM (top-level await) outside any package.json
  writeFileSync(script, `
    import { createTrainLoader } from '${loaderUrl}';
    const records = ${JSON.stringify(ds.trainval)};
    const loader = createTrainLoader({ records, classes: ${JSON.stringify(ds.classes)}, batchSize: 2, sizes: [64], workers: 2, seed: 0 });
    const { value } = await loader.next();
    await loader.close();
    console.log('got', value.ids.length);
  `);
  const root = fileURLToPath(new URL('../../../..', import.meta.url));
  const out = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: root, encoding: 'utf8', timeout: 30000 });
  assert.equal(out.signal, null, `did not exit by itself: ${out.stderr}`);
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stdout.trim(), 'got 2');
});

test('unlabeled images fill their share of every batch, flagged labeled = 0, with no boxes and no mixup', async () => {
  const { batches } = await take(options({ unlabeled: ds.unlabeled, unlabeledPerBatch: 1, workers: 0 }), 5);
  const unlabeledIds = new Set(ds.unlabeled.map((r) => r.id));
  for (const b of batches) {
    assert.deepEqual([...b.labeled], [1, 1, 1, 0]);
    assert.ok(unlabeledIds.has(b.ids[3]), b.ids[3]);
    assert.ok(b.ids.slice(0, 3).every((id) => !id.split('+').some((part) => unlabeledIds.has(part))));
    assert.ok(b.gtScore.subarray(3 * 50, 4 * 50).every((s) => s === 0));
  }
  // the three unlabeled images take turns
  assert.equal(new Set(batches.map((b) => b.ids[3])).size, 3);
});
