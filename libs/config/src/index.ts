export { ConfigError } from './errors.ts';
export { loadConfig, parseConfig } from './load.ts';
export { applyOverrides, deepMerge } from './overrides.ts';
export {
  configSchema, type BackboneConfig, type DistillConfig, type KdConfig, type NmsConfig, type OptimizerConfig, type YoloHeadConfig,
} from './schema.ts';
