import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ApMetric, EvaluationReport, EvaluationState } from '@kd/proto';
import { EvaluationStore, type StoredEvaluation } from './store.ts';

const root = mkdtempSync(join(tmpdir(), 'kd-evaluator-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `s${++n}`);

function evaluation(over: Partial<EvaluationReport> & { evaluationId: string }, created: number, input: StoredEvaluation['input'] = 'checkpoint'): StoredEvaluation {
  const report = EvaluationReport.fromPartial({
    jobId: 'job', state: EvaluationState.EVALUATION_STATE_DONE, metric: ApMetric.AP_METRIC_11POINT, iouThreshold: 0.5,
    perClassAp: { a: over.meanAp ?? 0 }, numImages: 4, seconds: 1.5, source: `runs/${over.evaluationId}`, ...over,
  });
  return { report, trigger: 'event', input, contentHash: 'sha256:ab', createdUnixSeconds: created, finishedUnixSeconds: created + 2, evaluationDonePublished: false };
}

test('evaluations survive a reopen; latest is the highest step, then the newest', () => {
  const dir = fresh();
  const s = EvaluationStore.open(dir);
  s.put(evaluation({ evaluationId: 'a', step: 200, meanAp: 0.5 }, 1));
  s.put(evaluation({ evaluationId: 'b', step: 100, meanAp: 0.7 }, 2));
  s.put(evaluation({ evaluationId: 'c', step: 200, meanAp: 0.1 }, 3));
  s.put(evaluation({ evaluationId: 'other', jobId: 'job2', step: 900 }, 4));
  const again = EvaluationStore.open(dir);
  assert.equal(again.size, 4);
  assert.equal(again.latest('job')?.report.evaluationId, 'c');
  assert.deepEqual(again.get('b')?.report, s.get('b')?.report);
  assert.equal(again.latest('nobody'), undefined);
  assert.deepEqual(readdirSync(join(dir, 'evaluations')).sort(), ['a.json', 'b.json', 'c.json', 'other.json']);
});

test('best.json: only a strictly better finished checkpoint evaluation replaces it', () => {
  const dir = fresh();
  const s = EvaluationStore.open(dir);
  assert.deepEqual(s.put(evaluation({ evaluationId: 'a', step: 1, meanAp: 0.4 }, 1)), { newBest: true });
  assert.deepEqual(s.put(evaluation({ evaluationId: 'b', step: 2, meanAp: 0.4 }, 2)), { newBest: false }, 'a tie keeps the earlier');
  assert.deepEqual(s.put(evaluation({ evaluationId: 'c', step: 3, meanAp: 0.9, state: EvaluationState.EVALUATION_STATE_FAILED }, 3)), { newBest: false });
  assert.deepEqual(s.put(evaluation({ evaluationId: 'd', step: 4, meanAp: 0.95 }, 4, 'detections')), { newBest: false }, 'detections have no model');
  assert.deepEqual(s.put(evaluation({ evaluationId: 'e', step: 5, meanAp: 0.6 }, 5)), { newBest: true });
  const best = JSON.parse(readFileSync(join(dir, 'jobs', 'job', 'best.json'), 'utf8'));
  assert.deepEqual([best.evaluation_id, best.step, best.mean_ap, best.best_model, best.metric], ['e', 5, 0.6, 'runs/e', '11point']);
});

test('open() rebuilds a stale or missing best.json from the evaluations, drops temp files and skips unreadable ones', () => {
  const dir = fresh();
  const s = EvaluationStore.open(dir);
  s.put(evaluation({ evaluationId: 'a', step: 1, meanAp: 0.4, jobId: 'j/with/slashes' }, 1));
  s.put(evaluation({ evaluationId: 'b', step: 2, meanAp: 0.8, jobId: 'j/with/slashes' }, 2));
  const bestFile = join(dir, 'jobs', encodeURIComponent('j/with/slashes'), 'best.json');
  // a crash after writing b.json and before best.json: best.json still names a
  const stale = JSON.parse(readFileSync(bestFile, 'utf8'));
  writeFileSync(bestFile, JSON.stringify({ ...stale, evaluation_id: 'a', mean_ap: 0.4 }));
  writeFileSync(join(dir, 'evaluations', 'c.json.tmp-123'), '{"half');
  writeFileSync(join(dir, 'evaluations', 'broken.json'), '{"half');
  const warnings: string[] = [];
  const again = EvaluationStore.open(dir, (_f, line) => warnings.push(line));
  assert.equal(again.best('j/with/slashes')?.evaluation_id, 'b');
  assert.equal(JSON.parse(readFileSync(bestFile, 'utf8')).evaluation_id, 'b');
  assert.ok(!existsSync(join(dir, 'evaluations', 'c.json.tmp-123')));
  assert.equal(again.size, 2);
  assert.match(warnings.join('\n'), /broken\.json/);
  rmSync(bestFile);
  assert.equal(EvaluationStore.open(dir).best('j/with/slashes')?.evaluation_id, 'b');
  assert.ok(existsSync(bestFile));
});

test('markPublished is stored', () => {
  const dir = fresh();
  const s = EvaluationStore.open(dir);
  s.put(evaluation({ evaluationId: 'a', step: 1 }, 1));
  s.markPublished('a');
  assert.equal(EvaluationStore.open(dir).get('a')?.evaluationDonePublished, true);
});
