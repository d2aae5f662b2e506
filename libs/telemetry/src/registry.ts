// One prom-client Registry per service (never the global one), so two services or two tests
// in one process never share or double-register metrics.
import { hostname } from 'node:os';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { checkMetricName, checkServiceName, MetricKind } from './metric_names.ts';

export interface MetricSpec<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}

export interface HistogramSpec<L extends string> extends MetricSpec<L> {
  /** Upper bounds of the buckets, in the metric's unit. */
  buckets: number[];
}

/** Latency buckets in seconds, 1 ms .. 60 s. */
export const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface ServiceRegistryOptions {
  /** Node.js process metrics (process_*, nodejs_*); default true. */
  defaultMetrics?: boolean;
  /** The `replica` label: which process of the service this is; default <hostname>-<pid>. */
  replica?: string;
  /** More labels on every series, e.g. the trainer's job_id. */
  defaultLabels?: Record<string, string>;
}

/** The replica label a process gets when none is given. */
export function defaultReplicaId(): string {
  return `${hostname()}-${process.pid}`;
}

/**
 * A service's registry plus factories that check kd's metric-name convention. Every series
 * carries `service` and `replica` labels, so one Prometheus query can tell the services and
 * their replicas apart without relying on scrape-config relabelling.
 */
export class ServiceRegistry {
  readonly registry = new Registry();

  constructor(readonly service: string, options: ServiceRegistryOptions = {}) {
    checkServiceName(service);
    this.registry.setDefaultLabels({ service, replica: options.replica ?? defaultReplicaId(), ...options.defaultLabels });
    // Standard process_*/nodejs_* names (unprefixed) so stock Node.js dashboards work.
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** A counter named kd_<service>_<what>_total. */
  counter<L extends string = never>(spec: MetricSpec<L>): Counter<L> {
    checkMetricName(this.service, spec.name, MetricKind.counter);
    return new Counter<L>({ name: spec.name, help: spec.help, labelNames: spec.labelNames ?? [], registers: [this.registry] });
  }

  /** A gauge named kd_<service>_<what>_<unit>. */
  gauge<L extends string = never>(spec: MetricSpec<L>): Gauge<L> {
    checkMetricName(this.service, spec.name, MetricKind.gauge);
    return new Gauge<L>({ name: spec.name, help: spec.help, labelNames: spec.labelNames ?? [], registers: [this.registry] });
  }

  /** A histogram named kd_<service>_<what>_<unit>. */
  histogram<L extends string = never>(spec: HistogramSpec<L>): Histogram<L> {
    checkMetricName(this.service, spec.name, MetricKind.histogram);
    return new Histogram<L>({
      name: spec.name, help: spec.help, labelNames: spec.labelNames ?? [], buckets: spec.buckets, registers: [this.registry],
    });
  }

  /** The exposition text of every metric, as /metrics serves it. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
