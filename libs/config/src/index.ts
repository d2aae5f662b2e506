export { ConfigError } from './errors.ts';
export {
  ARCHITECTURES, configArchitecture, loadClassifierConfig, loadConfig, parseClassifierConfig, parseConfig, type Architecture,
} from './load.ts';
export { classifierConfigSchema, type ClassifierConfig, type ClassifierDistillConfig } from './classifier_schema.ts';
export { applyOverrides, deepMerge } from './overrides.ts';
export {
  configSchema, type BackboneConfig, type DistillConfig, type KdConfig, type NmsConfig, type OptimizerConfig, type YoloHeadConfig,
} from './schema.ts';
