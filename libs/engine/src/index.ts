export { BackendChoice, BackendUnavailableError, initBackend, useBackend, type BackendInfo } from './backend.ts';
export { registerWasmTrainingKernels } from './kernels/register-all.ts';
export { fusedMomentumUpdate, type MomentumStep } from './kernels/momentum_update.ts';
export {
  defaultEngineBench, runEngineBench, type EngineBenchOptions, type EngineBenchResult,
} from './bench/engine_bench.ts';
export {
  benchmarkConvMacs, profileKernels, profileStepParts, profileTrainStep, stepParts, type KernelProfileRow, type StepPart, type StepParts,
} from './bench/engine_profile.ts';
export { createBenchmarkModel, type BenchmarkModel } from './bench/benchmark_model.ts';
export type { ReplicaStepPhases } from './bench/replicated_bench_step.ts';
export { median, medianPhases } from './bench/median.ts';
export { batchNormTrain, type BatchNormTrainResult } from './ops/batch_norm_train.ts';
export { upsampleNearest2x } from './ops/upsample_nearest.ts';
export { decodeTensor, encodeSparse, encodeTensor, TensorCodecError, WireDtype, type WireTensor } from './codec/tensor_codec.ts';
export { float16ToFloat32, float32ToFloat16 } from './codec/float16.ts';
