// The Grafana dashboards and the Prometheus alert rules query only what the services export:
// every metric name is one a service registers (a histogram's _bucket/_sum/_count included),
// every label is one that metric carries, every job is one the scrape config defines. The
// rules pass promtool, and the Operator's PrometheusRule carries exactly the same groups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { status } from '@grpc/grpc-js';
import { TeacherMethod } from '@kd/teacher-service/metrics';
import {
  dashboardFiles, dashboardQueries, knownMetrics, metricOf, readsOf, ruleFiles, ruleQueries, TARGET_LABELS, type KnownMetric, type ShippedQuery,
} from './queries.ts';
import { DEPLOY, ensureDebianProgram, skipUnless } from './tools.ts';

const scrapeJobs = (): string[] =>
  (YAML.parse(readFileSync(join(DEPLOY, 'prometheus/prometheus.yml'), 'utf8')) as { scrape_configs: Array<{ job_name: string }> }).scrape_configs.map((j) => j.job_name);

/** What is wrong with one query: unknown series, labels, jobs or label values; [] when nothing. */
function problems(q: ShippedQuery, known: Map<string, KnownMetric>, jobs: string[]): string[] {
  const out: string[] = [];
  const reads = readsOf(q.expr);
  const labelsInExpr = new Set<string>(TARGET_LABELS);
  for (const series of reads.metrics) {
    if (series === 'up') continue;
    const m = metricOf(series, known);
    if (!m) out.push(`${q.where}: ${series} is not a metric any service exports`);
    else [...m.metric.labels, ...m.extra].forEach((l) => labelsInExpr.add(l));
  }
  for (const { metric, label, value } of reads.matchers) {
    const alternatives = value.split('|');
    if (metric === 'up') {
      if (label !== 'job' && !TARGET_LABELS.has(label)) out.push(`${q.where}: up has no label ${label}`);
      if (label === 'job') for (const j of alternatives) if (!jobs.includes(j)) out.push(`${q.where}: job "${j}" is not a scrape job of deploy/prometheus/prometheus.yml (${jobs.join(', ')})`);
      continue;
    }
    const m = metricOf(metric, known);
    if (m && !m.metric.labels.has(label) && !m.extra.includes(label) && !TARGET_LABELS.has(label)) out.push(`${q.where}: ${metric} has no label ${label} (it has ${[...m.metric.labels].join(', ')})`);
    if (label === 'method' && metric.startsWith('kd_teacher_')) for (const v of alternatives) if (!Object.values(TeacherMethod).includes(v as TeacherMethod)) out.push(`${q.where}: method "${v}" is not a TeacherMethod`);
    if (label === 'code') for (const v of alternatives) if (!(v in status)) out.push(`${q.where}: code "${v}" is not a gRPC status name`);
  }
  for (const l of reads.grouping) if (!labelsInExpr.has(l)) out.push(`${q.where}: groups by ${l}, which none of its series carries`);
  return out;
}

test('every dashboard and alert query reads metrics, labels and jobs that exist; the checker catches ones that do not', async () => {
  const known = await knownMetrics();
  const jobs = scrapeJobs();
  const queries = [...dashboardQueries(), ...ruleQueries()];
  assert.ok(queries.length >= 20, `only ${queries.length} queries found`);
  assert.deepEqual(queries.flatMap((q) => problems(q, known, jobs)), []);

  // the checker bites: a misspelt metric, a label the metric lacks, an unknown job, a bad method
  const bad = (expr: string) => problems({ where: 'probe', group: 'probe', expr }, known, jobs);
  assert.match(bad('sum(rate(kd_teacher_imagez_total[1m]))').join(), /kd_teacher_imagez_total is not a metric/);
  assert.match(bad('max by (job_id) (kd_teacher_queue_depth_images)').join(), /groups by job_id/);
  assert.match(bad('kd_trainer_loss_value{phase="x"}').join(), /has no label phase/);
  assert.match(bad('up{job="kd-teachers"}').join(), /job "kd-teachers" is not a scrape job/);
  assert.match(bad('rate(kd_teacher_requests_total{method="Predict"}[1m])').join(), /method "Predict"/);
  assert.match(bad('kd_teacher_queue_depth_images_bucket').join(), /is not a metric/, 'only histograms have buckets');
});

test('the dashboards show what an operator needs, from the provisioned datasource', () => {
  // the series each dashboard reads, and label=value for each alternative of its matchers
  const reads = (uid: string) => new Set(dashboardQueries().filter((q) => q.group === uid).flatMap((q) => {
    const r = readsOf(q.expr);
    return [...r.metrics, ...r.matchers.flatMap((m) => m.value.split('|').map((v) => `${m.label}=${v}`))];
  }));
  const need: Record<string, string[]> = {
    'kd-teacher': ['kd_teacher_images_total', 'kd_teacher_request_duration_seconds_bucket', 'kd_teacher_batch_size_images_sum', 'kd_teacher_queue_depth_images', 'up'],
    'kd-trainer': ['kd_trainer_loss_value', 'kind=loss', 'kind=distill_loss', 'kind=teacher_loss', 'kd_trainer_images_total', 'kd_trainer_teacher_wait_seconds_total', 'kd_trainer_teacher_failovers_total'],
    'kd-evaluator': ['kd_evaluator_map_ratio'],
  };
  for (const [uid, metrics] of Object.entries(need)) for (const m of metrics) assert.ok(reads(uid).has(m), `dashboard ${uid} does not read ${m}`);

  const datasource = YAML.parse(readFileSync(join(DEPLOY, 'grafana/provisioning/datasources/prometheus.yaml'), 'utf8')).datasources[0];
  for (const file of dashboardFiles()) {
    const d = JSON.parse(readFileSync(file, 'utf8'));
    for (const p of d.panels) {
      assert.equal(p.datasource?.uid, datasource.uid, `${file}: panel ${p.title}`);
      for (const t of p.targets) assert.equal(t.datasource?.uid, datasource.uid, `${file}: panel ${p.title}`);
    }
  }
});

test('the alert rules: the four alerts, promtool check rules passes, and the PrometheusRule carries the same groups', { skip: skipUnless(ensureDebianProgram('promtool', 'prometheus') !== undefined, 'promtool (Debian package prometheus) not available') }, () => {
  const alerts = ruleQueries().map((q) => q.where.split(': ')[1]);
  for (const a of ['KdTeacherQueueSaturated', 'KdTrainerStalled', 'KdReplicaDown', 'KdMapRegression']) assert.ok(alerts.includes(a), `no alert ${a}`);
  const check = spawnSync('promtool', ['check', 'rules', ...ruleFiles()], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const config = spawnSync('promtool', ['check', 'config', '--syntax-only', join(DEPLOY, 'prometheus/prometheus.yml')], { encoding: 'utf8' });
  assert.equal(config.status, 0, config.stdout + config.stderr);

  const file = YAML.parse(readFileSync(join(DEPLOY, 'prometheus/rules/kd-alerts.yml'), 'utf8'));
  const cr = YAML.parse(readFileSync(join(DEPLOY, 'k8s/base/prometheus-rule.yaml'), 'utf8'));
  assert.equal(cr.kind, 'PrometheusRule');
  assert.deepEqual(cr.spec.groups, file.groups, 'deploy/k8s/base/prometheus-rule.yaml must carry the groups of deploy/prometheus/rules/kd-alerts.yml');
});
