import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSameInputs, checkSameProtocol, mergeExperimentRecords, type ExperimentProtocol, type ExperimentRecord } from './record.ts';
import type { ExperimentRun } from './report.ts';

const METHODS = ['baseline', 'l2', 'fine_grained_paper', 'fine_grained_paper+unlabeled'];
const run = (method: string, seed: number): ExperimentRun => ({
  method, seed, steps: 800, wall_s: 1, map_11point: 0.1, map_area: 0.1, curve: { step: [], loss: [], distill_loss: [] },
});
const protocol = (over: Partial<ExperimentProtocol> = {}): ExperimentProtocol => ({
  student: 'configs/s.yml', methods: [], seeds: [], steps: 800, schedule: ['max_iters=800'], init: null,
  overrides: ['eval_reader.size=320'], eval_size: 320, eval_every: 200, split: 'test', validation: null, ...over,
});
const record = (command: string, runs: ExperimentRun[], over: Partial<ExperimentProtocol> = {}): ExperimentRecord => ({
  command, protocol: protocol({ methods: [...new Set(runs.map((r) => r.method))], seeds: [...new Set(runs.map((r) => r.seed))], ...over }),
  split: 'test', teacher: { checkpoint: 'models/t', map_11point: 0.8, map_area: 0.85 }, runs,
});

test('merge: the runs of experiments of one protocol, methods in the experiment\'s order, seeds sorted, commands joined', () => {
  const merged = mergeExperimentRecords([
    { dir: 'a', record: record('kd experiment --first-seed 1', [run('l2', 1), run('baseline', 1)], { overrides: ['eval_reader.size=320', 'fine_grained_paper:distill.suppressed=ignored'] }) },
    { dir: 'b', record: record('kd experiment', [run('fine_grained_paper+unlabeled', 0), run('baseline', 0), run('l2', 0)], { eval_every: null }) },
  ], METHODS);
  assert.deepEqual(merged.runs.map((r) => `${r.method}:${r.seed}`), ['baseline:0', 'baseline:1', 'l2:0', 'l2:1', 'fine_grained_paper+unlabeled:0']);
  assert.deepEqual(merged.protocol!.methods, ['baseline', 'l2', 'fine_grained_paper+unlabeled']);
  assert.deepEqual(merged.protocol!.seeds, [0, 1]);
  assert.equal(merged.command, 'kd experiment --first-seed 1 ; kd experiment');
  assert.equal(merged.protocol!.eval_every, null, 'different --eval-every: none recorded');
  assert.deepEqual(merged.protocol!.overrides, ['eval_reader.size=320', 'fine_grained_paper:distill.suppressed=ignored']);
  assert.equal(merged.split, 'test');
});

test('merge refuses what would mix protocols or count a run twice, naming the folders', () => {
  const a = { dir: 'a', record: record('x', [run('baseline', 0), run('fine_grained_paper+unlabeled', 0)]) };
  const cases: Array<[ExperimentRecord, RegExp]> = [
    [record('y', [run('baseline', 1)], { steps: 400 }), /b differs from a in protocol\.steps: 400 against 800/],
    [record('y', [run('baseline', 1)], { overrides: ['eval_reader.size=224'] }), /b differs from a in protocol\.overrides/],
    [record('y', [run('baseline', 1)], { split: 'validation' }), /b differs from a in protocol\.split/],
    [{ ...record('y', [run('baseline', 1)]), teacher: { checkpoint: 'models/t', map_11point: 0.7, map_area: 0.85 } }, /b differs from a in the teacher or its score/],
    [record('y', [run('baseline', 0)]), /baseline, seed 0 is in both a and b/],
    // a scope on the loss reaches its +unlabeled variant too
    [record('y', [run('fine_grained_paper+unlabeled', 1)], { overrides: ['eval_reader.size=320', 'fine_grained_paper:distill.weight=2'] }),
      /fine_grained_paper\+unlabeled has the overrides .*distill\.weight=2.* in b but \["eval_reader\.size=320"\] in a/],
    [{ ...record('y', [run('baseline', 1)]), protocol: undefined }, /b\/experiment\.json records no protocol/],
  ];
  for (const [b, message] of cases) assert.throws(() => mergeExperimentRecords([a, { dir: 'b', record: b }], METHODS), message, message.source);
});

test('--resume refuses another protocol, another teacher or another dataset, naming the record; a record without its dataset is not checked for it', () => {
  const previous = { ...record('x', [run('baseline', 0)]), data: 'data/shapes' };
  const file = 'out/experiment.json';
  checkSameProtocol(previous, previous.protocol!, file);
  assert.throws(() => checkSameProtocol(previous, { ...previous.protocol!, steps: 400 }, file), /--resume: out\/experiment\.json was made with other settings: steps 800, now 400/);
  checkSameInputs(previous, { data: './data/shapes' }, file);
  checkSameInputs(previous, { teacher: 'models/./t', data: 'data/shapes' }, file);
  assert.throws(() => checkSameInputs(previous, { teacher: 'models/other', data: 'data/shapes' }, file),
    /--resume: --teacher models\/other, but out\/experiment\.json was made with the teacher models\/t/);
  assert.throws(() => checkSameInputs(previous, { data: 'data/voc' }, file), /--resume: --data data\/voc, but out\/experiment\.json was made on data\/shapes/);
  checkSameInputs({ ...previous, data: undefined }, { data: 'data/voc' }, file);
});
