export { BackendChoice, BackendUnavailableError, initBackend, useBackend, type BackendInfo } from './backend.ts';
export { registerWasmTrainingKernels } from './kernels/register-all.ts';
