import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const kd = fileURLToPath(new URL('../../bin/kd.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [kd, ...args], { encoding: 'utf8' });
const tmp = mkdtempSync(join(tmpdir(), 'kd-make-dataset-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('kd make-dataset shapes writes a VOC tree and prints a summary', () => {
  const out = join(tmp, 'shapes');
  const r = run('make-dataset', 'shapes', '--out', out, '--train', '4', '--test', '2', '--unlabeled', '3', '--size', '64', '--seed', '7');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /images {5}trainval 4, test 2, unlabeled 3/);
  assert.match(r.stdout, /yellow_hexagon/);
  assert.match(r.stderr, /kd make-dataset: images 9\/9 \(100%\) done/);
  assert.equal(readdirSync(join(out, 'VOCdevkit/VOC2012/JPEGImages')).length, 6);
  assert.equal(readdirSync(join(out, 'VOCdevkit/VOC2012/Annotations')).length, 6);
  assert.equal(readdirSync(join(out, 'unlabeled')).length, 3);
  assert.equal(readFileSync(join(out, 'trainval.txt'), 'utf8').trim().split('\n').length, 4);
  assert.equal(readFileSync(join(out, 'label_list.txt'), 'utf8').trim().split('\n').length, 8);
});

test('an unknown dataset or a bad option exits non-zero naming it, and writes nothing', () => {
  const out = join(tmp, 'none');
  const bad = run('make-dataset', 'circles', '--out', out);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /'circles' is invalid.*shapes/);
  const small = run('make-dataset', 'shapes', '--out', out, '--size', '8');
  assert.notEqual(small.status, 0);
  assert.match(small.stderr, /--size.*expected an integer >= 32, got "8"/);
  assert.equal(existsSync(out), false);
});
