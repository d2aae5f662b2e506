import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { BackendUnavailableError, initBackend } from './backend.ts';

const nativeInstalled = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].some((pkg) => {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
});

test('KD_BACKEND picks the backend and the pick is logged once', async () => {
  const lines: string[] = [];
  const info = await initBackend('cpu', (l) => lines.push(l));
  assert.equal(info.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  await initBackend('cpu', (l) => lines.push(l));
  assert.deepEqual(lines, ['kd: tfjs backend cpu (@tensorflow/tfjs-backend-cpu)']);
});

test('auto prefers tfjs-node where installed, else wasm', async () => {
  const info = await initBackend('auto', () => {});
  assert.equal(info.name, nativeInstalled ? 'tensorflow' : 'wasm');
  assert.equal(tf.getBackend(), info.name);
});

test('an unknown or unavailable backend is a clear error', async () => {
  await assert.rejects(initBackend('gpu', () => {}), (e: unknown) =>
    e instanceof BackendUnavailableError && /KD_BACKEND=gpu is not one of auto, tensorflow, wasm, cpu/.test(e.message));
  if (!nativeInstalled) {
    await assert.rejects(initBackend('tensorflow', () => {}), (e: unknown) =>
      e instanceof BackendUnavailableError && /npm i @tensorflow\/tfjs-node-gpu/.test(e.message));
  }
});
