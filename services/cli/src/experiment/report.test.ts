import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { experimentGain, experimentMarkdown, formatGain, meanCurve, pairedGain, type ExperimentRun } from './report.ts';

const run = (method: string, seed: number, map: number): ExperimentRun => ({
  method, seed, steps: 40, wall_s: 1, map_11point: map, map_area: map, curve: { step: [], loss: [], distill_loss: [] },
});
// per-seed differences of l2 to the baseline: +2, +5, -1 points (seed 3 has no baseline: left out)
const runs = [
  run('baseline', 0, 0.10), run('baseline', 1, 0.20), run('baseline', 2, 0.30),
  run('l2', 0, 0.12), run('l2', 1, 0.25), run('l2', 2, 0.29), run('l2', 3, 0.90),
];

test('pairedGain: mean and standard error of the per-seed differences, by hand', () => {
  const g = pairedGain(runs, 'l2')!;
  assert.equal(g.seeds, 3);
  assert.ok(Math.abs(g.mean - 2) < 1e-9, String(g.mean));
  // differences 2, 5, -1: sample std sqrt((0 + 9 + 9) / 2) = 3, standard error 3 / sqrt(3)
  assert.ok(Math.abs(g.se - Math.sqrt(3)) < 1e-9, String(g.se));
  assert.equal(formatGain(g), '+2.00 +- 1.73');
  assert.equal(pairedGain(runs, 'fine_grained'), undefined);
});

test('experiment.md has the paired gain and its t; experimentGain reads it back from a file', () => {
  const md = experimentMarkdown(runs, ['baseline', 'l2'], { checkpoint: 't', map_11point: 0.5, map_area: 0.5 }, 'kd experiment');
  assert.match(md, /\| l2 \| 4 \| [\d.]+ \+- [\d.]+ \| \+[\d.]+ \| \+2\.00 \+- 1\.73 \| 1\.15 \|/);
  const dir = mkdtempSync(join(tmpdir(), 'kd-report-'));
  try {
    const file = join(dir, 'experiment.json');
    writeFileSync(file, JSON.stringify({ command: 'kd experiment', runs }));
    const g = experimentGain(file, 'l2')!;
    assert.deepEqual([g.method, g.seeds, g.steps, formatGain(g)], ['l2', 3, 40, '+2.00 +- 1.73']);
    assert.equal(experimentGain(join(dir, 'missing.json'), 'l2'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('meanCurve: the mean over seeds at each step, loss on curve.step and map on curve.map_step; a shorter run repeats its last value', () => {
  const withCurves = (seed: number, loss: number[], map?: number[]): ExperimentRun => ({
    ...run('l2', seed, 0), curve: { step: [20, 40], loss, distill_loss: [], ...(map ? { map_step: [10, 30, 40], map } : {}) },
  });
  const two = [withCurves(0, [4, 2], [0.1, 0.2, 0.3]), withCurves(1, [6], [0.3, 0.4, 0.5])];
  assert.deepEqual(meanCurve(two, 'l2', 'loss'), [[20, 5], [40, 4]]);
  assert.deepEqual(meanCurve(two, 'l2', 'map').map(([s, v]) => [s, +v.toFixed(9)]), [[10, 0.2], [30, 0.3], [40, 0.4]]);
  assert.deepEqual(meanCurve(two, 'l2', 'distill_loss'), []);
  assert.deepEqual(meanCurve([withCurves(0, [1, 1])], 'l2', 'map'), [], 'no --eval-every: no map curve');
});
