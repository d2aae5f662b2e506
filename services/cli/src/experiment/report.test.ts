import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { experimentGain, experimentMarkdown, formatGain, pairedGain, type ExperimentRun } from './report.ts';

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
