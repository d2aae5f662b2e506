export { createTrainLoader, TrainLoader, type TrainLoaderOptions } from './train_loader.ts';
export { createEvalLoader, EvalLoader, type EvalLoaderOptions } from './eval_loader.ts';
export { TrainSchedule, type BatchPlan, type SamplePlan } from './schedule.ts';
export { LoaderError } from './errors.ts';
export type { LoaderStats, WarningHandler } from './stats.ts';
export { runLoaderBench, LOADER_BENCH_DEFAULTS, type LoaderBenchOptions, type LoaderBenchResult, type LoaderBenchRow } from './bench.ts';
