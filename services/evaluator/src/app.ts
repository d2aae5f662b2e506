// Wiring of one evaluator: state store, evaluation thread, the queue, the gRPC server
// (evaluator, health, reflection), the CheckpointSaved consumer and the telemetry endpoint,
// plus the orderly shutdown of all of it.
import { resolve } from 'node:path';
import { Server } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { connectBus } from '@kd/bus';
import { startServingTelemetry, type Logger } from '@kd/telemetry';
import { CHECKPOINT_SUBJECT, CheckpointConsumer } from './consumer.ts';
import { EvaluationThread } from './evaluation_thread.ts';
import { Evaluator } from './evaluator.ts';
import { EvaluatorMetrics } from './metrics.ts';
import type { EvaluatorOptions } from './options.ts';
import { addReflection } from './reflection.ts';
import { EvaluatorService } from './server.ts';
import { EvaluationStore } from './store.ts';

/** Health-checked service names: "" is the whole server. */
export const HEALTH_SERVICES = ['', 'kd.v1.EvaluatorService'] as const;

/** On shutdown, the running evaluation gets this long to finish before its event is handed back, ms. */
export const EVALUATION_GRACE_MS = 6000;
/** On shutdown, longest wait for EvaluationDone events still buffered to reach NATS, ms. */
const BUS_CLOSE_TIMEOUT_MS = 1500;

export interface RunningEvaluator {
  /** Bound gRPC port. */
  port: number;
  /** Bound /metrics port, or null when off. */
  metricsPort: number | null;
  /**
   * Goes NOT_SERVING, stops consuming, lets the running evaluation finish (or, past
   * EVALUATION_GRACE_MS, cuts it and leaves its event unacked), closes everything.
   */
  shutdown(): Promise<void>;
}

const sleep = (ms: number) => new Promise<false>((r) => setTimeout(() => r(false), ms).unref());

/** Opens the state, starts the evaluation thread and serves; rejects if a port, the thread or the bus consumer cannot be had. */
export async function startEvaluator(options: EvaluatorOptions, log: Logger): Promise<RunningEvaluator> {
  const stateDir = resolve(options.state);
  const store = EvaluationStore.open(stateDir, (fields, line) => log.warn(fields, line));
  const thread = await EvaluationThread.start((line) => log.info(line));
  log.info({ state: stateDir, evaluations: store.size, jobs: store.bestJobs().length, backend: thread.backend }, 'evaluator state loaded');

  const metrics = new EvaluatorMetrics();
  const bus = await connectBus({
    url: options.nats, name: `kd-evaluator-${process.pid}`, log: (line) => log.warn({ component: 'bus' }, line), stream: options.stream,
    subjectPrefix: options.subjectPrefix || undefined, ackWaitMs: options.ackWaitMs, closeTimeoutMs: BUS_CLOSE_TIMEOUT_MS,
  });
  if (!options.nats) log.warn('no --nats and no NATS_URL: events come only from this process (in-process bus)');
  const evaluator = new Evaluator({ store, thread, metrics, bus, log });
  const service = new EvaluatorService({ evaluator, metrics, log });
  const health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((s) => [s, 'SERVING' as const])));
  const server = new Server({ interceptors: options.auth.interceptors((refused) => log.warn({ ...refused }, 'call refused: bearer token')) });
  service.addToServer(server);
  health.addToServer(server);
  addReflection(server);
  const port = await new Promise<number>((res, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, options.auth.credentials, (err, p) => (err ? reject(err) : res(p))),
  );

  const consumer = new CheckpointConsumer({ bus, evaluator, metrics, log, durable: options.durable });
  await consumer.start();
  log.info({ durable: options.durable, subject: CHECKPOINT_SUBJECT, stream: options.stream, nats: options.nats ?? 'in-process' }, 'consuming checkpoint events');

  const telemetry = await startServingTelemetry({ registry: metrics.registry.registry, port: options.metricsPort, host: options.host, log });

  return {
    port,
    metricsPort: telemetry.port,
    async shutdown() {
      telemetry.stopServing();
      for (const s of HEALTH_SERVICES) health.setStatus(s, 'NOT_SERVING');
      const answered = service.shutdown();
      consumer.pause();
      evaluator.close(); // waiting calls get UNAVAILABLE, waiting events go back unacked
      const finished = await Promise.race([evaluator.idle().then(() => true), sleep(EVALUATION_GRACE_MS)]);
      if (finished) {
        await Promise.race([consumer.settled(), sleep(1000)]);
        await new Promise((r) => setImmediate(r)); // the bus sends the ack of a handler that just resolved
      } else {
        log.warn({ graceMs: EVALUATION_GRACE_MS }, 'evaluation still running: cutting it short; its event will be redelivered');
        await evaluator.abort(); // before the consumer stops: a cut evaluation must not store a result
      }
      await consumer.stop();
      await Promise.race([answered, sleep(500)]);
      await bus.close();
      // Health Watch streams never end on their own: give answered calls a moment to flush, then cut.
      await new Promise<void>((res) => {
        const cut = setTimeout(() => {
          server.forceShutdown();
          res();
        }, 500);
        server.tryShutdown(() => {
          clearTimeout(cut);
          res();
        });
      });
      await telemetry.close();
      await thread.close();
    },
  };
}
