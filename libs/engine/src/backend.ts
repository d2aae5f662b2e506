import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node build registers no gradients; the union package's Node build does.
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './kernels/register-all.ts';

/** What KD_BACKEND may say. `auto` tries tfjs-node-gpu, tfjs-node, wasm, then cpu. */
export const BackendChoice = {
  auto: 'auto',
  tensorflow: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
} as const;
export type BackendChoice = (typeof BackendChoice)[keyof typeof BackendChoice];

export interface BackendInfo {
  /** tfjs backend name: tensorflow | wasm | cpu. */
  name: string;
  /** Where it came from, e.g. "@tensorflow/tfjs-node-gpu" or "@tensorflow/tfjs-backend-wasm (simd)". */
  source: string;
}

export class BackendUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackendUnavailableError';
  }
}

registerWasmTrainingKernels();
// PROD silences tfjs' console banners ("install tfjs-node..."), which we replace by one log line.
tf.env().set('PROD', true);

// tfjs-node(-gpu) cannot be a dependency (its install downloads libtensorflow), so it is
// loaded only if a user installed it on a GPU host: `npm i @tensorflow/tfjs-node-gpu@4.22.0`.
const nativePackages = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

async function tryNative(): Promise<BackendInfo | undefined> {
  for (const pkg of nativePackages) {
    try {
      await import(pkg);
    } catch {
      continue;
    }
    if (await tf.setBackend('tensorflow')) return { name: 'tensorflow', source: pkg };
  }
  return undefined;
}

/** Switches tfjs to one backend, or throws BackendUnavailableError naming it. */
export async function useBackend(name: 'tensorflow' | 'wasm' | 'cpu'): Promise<BackendInfo> {
  if (name === 'tensorflow') {
    const native = await tryNative();
    if (native == null) {
      throw new BackendUnavailableError(
        `KD_BACKEND=tensorflow but neither ${nativePackages.join(' nor ')} is installed (npm i @tensorflow/tfjs-node-gpu@4.22.0 on a GPU host)`);
    }
    return native;
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (cause) {
    throw new BackendUnavailableError(`tfjs backend ${name} failed to start`, { cause });
  }
  if (!ok) throw new BackendUnavailableError(`tfjs backend ${name} failed to start`);
  await tf.ready();
  const source = name === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : '@tensorflow/tfjs-backend-cpu';
  return { name, source };
}

let selected: BackendInfo | undefined;

/**
 * Picks the backend from `choice` (default: the KD_BACKEND environment variable, else auto)
 * and logs the pick once per process.
 */
export async function initBackend(
  choice: string = process.env.KD_BACKEND ?? BackendChoice.auto,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<BackendInfo> {
  if (!(choice in BackendChoice)) {
    throw new BackendUnavailableError(`KD_BACKEND=${choice} is not one of ${Object.keys(BackendChoice).join(', ')}`);
  }
  let info: BackendInfo | undefined;
  if (choice === BackendChoice.auto) {
    info = await tryNative();
    for (const name of ['wasm', 'cpu'] as const) {
      if (info != null) break;
      info = await useBackend(name).catch(() => undefined);
    }
    if (info == null) throw new BackendUnavailableError('no tfjs backend could start (tried tensorflow, wasm, cpu)');
  } else {
    info = await useBackend(choice as 'tensorflow' | 'wasm' | 'cpu');
  }
  if (selected?.name !== info.name) log(`kd: tfjs backend ${info.name} (${info.source})`);
  selected = info;
  return info;
}
