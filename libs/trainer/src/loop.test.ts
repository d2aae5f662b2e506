import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainLoop, type TrainLoopOptions } from './loop.ts';

// The loop's own contract, with a step whose loss is its step number (the loop, not a model, is under test).
function options(extra: Partial<TrainLoopOptions<number>> = {}): TrainLoopOptions<number> & { saved: string[]; hooked: Array<[string, number, string]> } {
  const saved: string[] = [];
  const hooked: Array<[string, number, string]> = [];
  return {
    saved, hooked,
    maxIters: 5, logIter: 2, snapshotIter: 2, saveDir: '/ckpt',
    step: { run: async (batch) => ({ loss: batch, extra_part: undefined, lr: 0.1 }) },
    nextBatch: (step) => step + 1,
    imagesIn: () => 4,
    save: async (dir, step) => {
      saved.push(`${dir}@${step}`);
      return `hash${step}`;
    },
    onCheckpoint: (dir, step, hash) => void hooked.push([dir, step, hash]),
    score: { key: 'best', describe: (best, step) => `best ${best} at ${step}` },
    log: () => {},
    ...extra,
  };
}

test('snapshots every snapshot_iter and model_final, each announced through onCheckpoint with its hash', async () => {
  const o = options();
  const summary = await trainLoop(o);
  assert.deepEqual(o.saved, ['/ckpt/2@2', '/ckpt/4@4', '/ckpt/model_final@5']);
  assert.deepEqual(o.hooked, [['/ckpt/2', 2, 'hash2'], ['/ckpt/4', 4, 'hash4'], ['/ckpt/model_final', 5, 'hash5']]);
  assert.equal(summary.steps, 5);
  assert.equal(summary.images, 20);
  assert.equal(summary.finalLoss, 5);
  assert.equal(summary.interrupted, false);
});

test('evaluation keeps best_model by score; an aborted run stops after its step, saves model_final and says it was interrupted', async () => {
  const scores = [0.3, 0.5, 0.4];
  const evaluated = options({ evaluate: async () => scores.shift()!, evaluateAtSnapshots: true });
  const summary = await trainLoop(evaluated);
  assert.deepEqual(evaluated.saved, ['/ckpt/2@2', '/ckpt/best_model@2', '/ckpt/4@4', '/ckpt/best_model@4', '/ckpt/model_final@5']);
  assert.equal(summary.bestScore, 0.5);
  assert.equal(summary.bestStep, 4);
  assert.equal(summary.finalScore, 0.4);

  const abort = new AbortController();
  const interrupted = options({ signal: abort.signal, onStep: (r) => { if (r.step === 3) abort.abort(); } });
  const stopped = await trainLoop(interrupted);
  assert.equal(stopped.steps, 3);
  assert.equal(stopped.interrupted, true);
  assert.deepEqual(interrupted.saved, ['/ckpt/2@2', '/ckpt/model_final@3']);
});
