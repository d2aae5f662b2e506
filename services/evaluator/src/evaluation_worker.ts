// The evaluation thread. The detector runs on the single-threaded wasm backend for seconds to
// minutes; on the service thread it would stall gRPC (health checks, GetReport) and the bus's
// keep-alives for that long. Runs one evaluation at a time, as the queue hands them over.
import { parentPort } from 'node:worker_threads';
import { initBackend } from '@kd/engine';
import type { FromEvaluation, ToEvaluation } from './evaluation_protocol.ts';
import { failureOf, runEvaluation } from './evaluate.ts';

const port = parentPort!;
const send = (message: FromEvaluation) => port.postMessage(message);

try {
  const backend = await initBackend(undefined, (line) => send({ type: 'log', line }));
  port.on('message', (m: ToEvaluation) => {
    runEvaluation(m.task).then(
      (result) => send({ type: 'done', id: m.id, result }),
      (error: unknown) => send({ type: 'error', id: m.id, failure: failureOf(error) }),
    );
  });
  send({ type: 'ready', backend: backend.name });
} catch (error) {
  send({ type: 'failed', message: (error as Error)?.message ?? String(error) });
}
