// Every PromQL query kd ships (the Grafana dashboards and the alert rules), and what each one
// reads: metric names and label names, pulled out of the expression.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { EvaluatorMetrics } from '@kd/evaluator-service/metrics';
import { TeacherMetrics } from '@kd/teacher-service/metrics';
import { TrainerMetrics } from '@kd/trainer-service/metrics';
import { DEPLOY } from './tools.ts';

export const DASHBOARDS = join(DEPLOY, 'grafana/dashboards');
export const RULES = join(DEPLOY, 'prometheus/rules');

export interface ShippedQuery {
  /** Where it is, for messages: "kd-teacher.json: Throughput (images/s)" or "kd-alerts.yml: KdReplicaDown". */
  where: string;
  /** Dashboard uid, or "rules". */
  group: string;
  expr: string;
}

export function dashboardFiles(): string[] {
  return readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json')).map((f) => join(DASHBOARDS, f));
}

export function dashboardQueries(): ShippedQuery[] {
  return dashboardFiles().flatMap((file) => {
    const d = JSON.parse(readFileSync(file, 'utf8')) as { uid: string; panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
    return d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `${file.slice(DASHBOARDS.length + 1)}: ${p.title}`, group: d.uid, expr: t.expr })));
  });
}

export function ruleFiles(): string[] {
  return readdirSync(RULES).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(RULES, f));
}

export function ruleQueries(): ShippedQuery[] {
  return ruleFiles().flatMap((file) => {
    const doc = YAML.parse(readFileSync(file, 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string; record?: string; expr: string }> }> };
    return doc.groups.flatMap((g) => g.rules.map((r) => ({ where: `${file.slice(RULES.length + 1)}: ${r.alert ?? r.record}`, group: 'rules', expr: String(r.expr) })));
  });
}

/** One metric as a service registers it. */
export interface KnownMetric { name: string; type: string; labels: Set<string> }

/**
 * Every kd_* metric the services register, with its type and label names (the service's
 * default labels included), from the services' own metrics classes.
 */
export async function knownMetrics(): Promise<Map<string, KnownMetric>> {
  const registries = [
    { r: new TeacherMetrics({ defaultMetrics: false }).registry.registry, defaults: ['service', 'replica'] },
    { r: new TrainerMetrics({ defaultMetrics: false, jobId: 'x' }).registry.registry, defaults: ['service', 'replica', 'job_id'] },
    { r: new EvaluatorMetrics({ defaultMetrics: false }).registry.registry, defaults: ['service', 'replica'] },
  ];
  const known = new Map<string, KnownMetric>();
  for (const { r, defaults } of registries) {
    for (const m of await r.getMetricsAsJSON()) {
      const labelNames = (r.getSingleMetric(m.name) as unknown as { labelNames: string[] }).labelNames ?? [];
      known.set(m.name, { name: m.name, type: String(m.type), labels: new Set([...labelNames, ...defaults]) });
    }
  }
  return known;
}

/** Labels Prometheus itself adds to every series of a target (and `le` of histogram buckets). */
export const TARGET_LABELS = new Set(['job', 'instance', 'namespace', 'pod', 'container', 'endpoint']);

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'or', 'and', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** The series names, label names in matchers, and label names in by/without/on of a PromQL expression. */
export function readsOf(expr: string): { metrics: string[]; matchers: Array<{ metric: string; label: string; value: string }>; grouping: string[] } {
  const matchers: Array<{ metric: string; label: string; value: string }> = [];
  for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)) {
    for (const l of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"([^"]*)"/g)) matchers.push({ metric: m[1], label: l[1], value: l[2] });
  }
  const grouping = [...expr.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)].flatMap((m) => m[1].split(',').map((s) => s.trim()).filter(Boolean));
  const bare = expr
    .replace(/"[^"]*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const metrics = [...bare.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:]|\s*\()/g)].map((m) => m[1]).filter((n) => !KEYWORDS.has(n.toLowerCase()));
  return { metrics: [...new Set(metrics)], matchers, grouping: [...new Set(grouping)] };
}

/** The registered metric a series name belongs to (a histogram's _bucket/_sum/_count too), or undefined. */
export function metricOf(series: string, known: Map<string, KnownMetric>): { metric: KnownMetric; extra: string[] } | undefined {
  const direct = known.get(series);
  if (direct) return { metric: direct, extra: [] };
  const m = /^(.*)_(bucket|sum|count)$/.exec(series);
  const base = m ? known.get(m[1]) : undefined;
  return base && base.type === 'histogram' ? { metric: base, extra: m![2] === 'bucket' ? ['le'] : [] } : undefined;
}
