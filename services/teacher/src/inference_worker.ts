// The teacher network on its own thread. A forward takes most of a second on the CPU; run on
// the gRPC thread it would stall every transfer in flight (HTTP/2 moves a message only while
// the event loop turns), so a replica would receive the next batch only after the current one.
import { parentPort, workerData } from 'node:worker_threads';
import { loadTeacherModel } from '@kd/distill';
import { initBackend } from '@kd/engine';
import type { FromInference, InferenceInit, ToInference } from './inference_protocol.ts';
import { runMerged } from './runner.ts';

const port = parentPort!;
const send = (message: FromInference, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

try {
  const backend = await initBackend(undefined, (line) => send({ type: 'log', line }));
  const teacher = loadTeacherModel((workerData as InferenceInit).weights);
  const { height, width } = teacher.spec.inputSize!;
  // one forward at the spec's size, so the first request does not pay for kernel setup
  const t = performance.now();
  await runMerged(teacher.model, [{ values: new Float32Array(height * width * 3), n: 1, height, width }]);
  port.on('message', (m: ToInference) => {
    runMerged(teacher.model, m.inputs).then(
      (outputs) => {
        const buffers = new Set(outputs.flat().map((o) => o.values.buffer as ArrayBuffer));
        send({ type: 'done', id: m.id, outputs }, [...buffers]);
      },
      (error: unknown) => send({ type: 'error', id: m.id, message: (error as Error)?.message ?? String(error) }),
    );
  });
  send({
    type: 'ready', spec: teacher.spec, specHash: teacher.specHash, dir: teacher.dir, step: teacher.step, backend: backend.name,
    warmUpSeconds: (performance.now() - t) / 1000,
  });
} catch (error) {
  const e = error as Error;
  send({ type: 'failed', message: e?.message ?? String(error), name: e?.name ?? 'Error' });
}
