import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ApMetric,
  apMetricFromName,
  apMetricName,
  CLUSTER_JOB,
  eventSubject,
  InvalidSubjectError,
  jobEventsSubject,
  parseEventSubject,
} from './index.ts';

test('eventSubject builds kd.<job>.<event> and parseEventSubject inverts it', () => {
  assert.equal(eventSubject('voc-l2-01', 'checkpoint_saved'), 'kd.voc-l2-01.checkpoint_saved');
  assert.equal(eventSubject(CLUSTER_JOB, 'replica_up'), 'kd._cluster.replica_up');
  assert.equal(jobEventsSubject('voc-l2-01'), 'kd.voc-l2-01.>');
  assert.deepEqual(parseEventSubject('kd.voc-l2-01.evaluation_done'), { job: 'voc-l2-01', event: 'evaluation_done' });
});

test('bad job ids and subjects are rejected with InvalidSubjectError', () => {
  for (const job of ['', 'a.b', 'a*', '>', 'has space']) {
    assert.throws(() => eventSubject(job, 'training_progress'), InvalidSubjectError, JSON.stringify(job));
  }
  // @ts-expect-error not an event name
  assert.throws(() => eventSubject('job', 'nope'), /unknown event "nope"/);
  for (const s of ['kd.job', 'kd.job.nope', 'other.job.replica_up', 'kd.a.b.replica_up']) {
    assert.throws(() => parseEventSubject(s), InvalidSubjectError, s);
  }
});

test('AP metric names map both ways', () => {
  assert.equal(apMetricFromName('11point'), ApMetric.AP_METRIC_11POINT);
  assert.equal(apMetricFromName('integral'), ApMetric.AP_METRIC_INTEGRAL);
  assert.equal(apMetricName(ApMetric.AP_METRIC_AREA), 'area');
  assert.equal(apMetricName(ApMetric.AP_METRIC_UNSPECIFIED), '11point');
  assert.throws(() => apMetricFromName('voc'), /unknown AP metric "voc"/);
  assert.throws(() => apMetricFromName('toString'), RangeError);
});
