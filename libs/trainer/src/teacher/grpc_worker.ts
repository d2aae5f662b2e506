// The gRPC client of a remote teacher on its own thread: a training step blocks the training
// thread's event loop for a second or more, and HTTP/2 flow control moves a multi-megabyte
// message only while both ends' loops turn. Here the loop is always free.
import { parentPort, workerData } from 'node:worker_threads';
import { GrpcTeacherClient } from './grpc_client.ts';
import type { FromWorker, ToWorker, WireError, WorkerInit } from './grpc_worker_protocol.ts';

const port = parentPort!;
const send = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
const wireError = (error: unknown): WireError => {
  const e = error as Error & { code?: number };
  return { name: e?.name ?? 'Error', message: e?.message ?? String(error), code: typeof e?.code === 'number' ? e.code : undefined };
};

try {
  const client = await GrpcTeacherClient.connect({ ...(workerData as WorkerInit), log: (line) => send({ type: 'log', line }), onFailover: () => send({ type: 'failover' }) });
  port.on('message', (message: ToWorker) => {
    if (message.type === 'close') {
      void client.close().then(() => port.close());
      return;
    }
    client.infer({ images: message.images, shape: message.shape }).then(
      (outputs) => send({ type: 'result', id: message.id, outputs }, outputs.map((o) => o.values.buffer as ArrayBuffer)),
      (error: unknown) => send({ type: 'error', id: message.id, error: wireError(error) }),
    );
  });
  send({ type: 'ready', spec: client.spec });
} catch (error) {
  send({ type: 'failed', error: wireError(error) });
}
