// The metric-name convention every kd service follows: kd_<service>_<what>_<unit>, base units
// (seconds, bytes), counters end _total. Checked when a metric is created, so a bad name fails
// at start-up instead of on a dashboard.

/** Units a kd metric name may end with (before a counter's `_total`); `value` is for dimensionless quantities (a loss, a learning rate). */
export const METRIC_UNITS = ['seconds', 'bytes', 'images', 'requests', 'batches', 'ratio', 'info', 'value'] as const;
export type MetricUnit = (typeof METRIC_UNITS)[number];

export const MetricKind = { counter: 'counter', gauge: 'gauge', histogram: 'histogram' } as const;
export type MetricKind = (typeof MetricKind)[keyof typeof MetricKind];

/** A metric name that breaks the kd_<service>_<what>_<unit> convention. */
export class MetricNameError extends Error {
  override name = 'MetricNameError';
}

const SERVICE = /^[a-z][a-z0-9]*$/;
const NAME = /^kd_[a-z][a-z0-9]*_[a-z0-9_]+$/;

/** Throws MetricNameError unless `service` is one lowercase token usable in kd_<service>_. */
export function checkServiceName(service: string): void {
  if (!SERVICE.test(service)) throw new MetricNameError(`service name ${JSON.stringify(service)} must be one lowercase token [a-z][a-z0-9]*`);
}

/**
 * Throws MetricNameError unless `name` is kd_<service>_<what>_<unit> for this service, a
 * counter ends `_<unit>_total` and a gauge or histogram does not end `_total`. Counters of
 * plain events may end in just `_total` (e.g. kd_teacher_images_total: the unit is the noun).
 */
export function checkMetricName(service: string, name: string, kind: MetricKind): void {
  checkServiceName(service);
  const prefix = `kd_${service}_`;
  if (!name.startsWith(prefix) || !NAME.test(name)) {
    throw new MetricNameError(`metric ${JSON.stringify(name)} must look like ${prefix}<what>_<unit> (lowercase, digits, underscores)`);
  }
  const rest = name.slice(prefix.length);
  if (kind === MetricKind.counter) {
    if (!rest.endsWith('_total') && rest !== 'total') throw new MetricNameError(`counter ${name} must end with _total`);
    return;
  }
  if (rest.endsWith('_total')) throw new MetricNameError(`${kind} ${name} must not end with _total (only counters do)`);
  const unit = rest.slice(rest.lastIndexOf('_') + 1);
  if (!(METRIC_UNITS as readonly string[]).includes(unit) || rest === unit) {
    throw new MetricNameError(`${kind} ${name} must end with a unit: _${METRIC_UNITS.join(', _')}`);
  }
}
