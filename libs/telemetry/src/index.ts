// @kd/telemetry: what every kd service shares for observability: a prom-client registry
// with kd's metric-name convention, the /metrics + /healthz HTTP server, and pino logs.
export { checkMetricName, checkServiceName, METRIC_UNITS, MetricKind, MetricNameError, type MetricUnit } from './metric_names.ts';
export { defaultReplicaId, SECONDS_BUCKETS, ServiceRegistry, type HistogramSpec, type MetricSpec, type ServiceRegistryOptions } from './registry.ts';
export { startTelemetryServer, type Health, type TelemetryServer, type TelemetryServerOptions } from './http_server.ts';
export { startServingTelemetry, type ServingTelemetry } from './serving_telemetry.ts';
export { createLogger, LogFormat, LoggerConfigError, prettyLine, type Logger, type LoggerOptions } from './logger.ts';
export { serveUntilSignalled, type ServedProcess, type ServeOptions } from './lifecycle.ts';
export { integerArg, metricsPortOption, metricsPortOrNull, portArg } from './service_options.ts';
