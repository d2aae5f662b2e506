// Wiring of one teacher replica: model, batcher, gRPC server (teacher, health, reflection)
// and the telemetry endpoint, plus the orderly shutdown of all of it.
import { Server } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { startServingTelemetry, type Logger } from '@kd/telemetry';
import { DynamicBatcher } from './batcher.ts';
import { InferenceThread } from './inference_thread.ts';
import { TeacherMetrics } from './metrics.ts';
import type { TeacherOptions } from './options.ts';
import { InferPipeline, type TeacherBatcher } from './pipeline.ts';
import { addReflection } from './reflection.ts';
import { TeacherService } from './server.ts';

/** How long calls on a connection past its --max-connection-age-s may still run, ms. */
const MAX_CONNECTION_AGE_GRACE_MS = 30_000;

/** Health-checked service names: "" is the whole server. */
export const HEALTH_SERVICES = ['', 'kd.v1.TeacherService'] as const;

export interface RunningTeacher {
  /** Bound gRPC port. */
  port: number;
  /** Bound /metrics port, or null when off. */
  metricsPort: number | null;
  /** Goes NOT_SERVING, lets requests in flight finish, closes everything; resolves when done. */
  shutdown(): Promise<void>;
}

/** Loads the teacher and starts serving it; rejects if the model or a port cannot be had. */
export async function startTeacher(options: TeacherOptions, log: Logger): Promise<RunningTeacher> {
  // the network runs on its own thread, so gRPC transfers go on while it computes
  const inference = await InferenceThread.start(options.weights, (line) => log.info(line));
  const { spec, specHash } = inference.loaded;
  log.info({ weights: inference.loaded.dir, model: spec.modelName, step: inference.loaded.step, specHash, backend: inference.loaded.backend,
    warmUpSeconds: inference.loaded.warmUpSeconds }, 'teacher loaded');

  const metrics = new TeacherMetrics({ replica: options.replicaId });
  metrics.modelInfo.set({ replica_id: options.replicaId, model_name: spec.modelName, spec_hash: specHash }, 1);
  const batcher: TeacherBatcher = new DynamicBatcher((inputs) => inference.run(inputs), {
    maxBatch: options.maxBatch, maxDelayMs: options.maxQueueDelayMs, maxQueue: options.maxQueue, name: options.replicaId,
  });
  batcher.onDepth = (images) => metrics.queueDepth.set(images);
  batcher.onBatch = (b) => {
    metrics.batches.inc();
    metrics.images.inc(b.images);
    metrics.batchSize.observe(b.images);
    metrics.inferenceDuration.observe(b.runSeconds);
    for (const q of b.queueSeconds) metrics.queueDuration.observe(q);
  };

  const pipeline = new InferPipeline({ spec, specHash, replicaId: options.replicaId, maxBatch: options.maxBatch, batcher, metrics });
  const service = new TeacherService({ spec, specHash, replicaId: options.replicaId, pipeline, metrics, log });
  const health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((s) => [s, 'SERVING' as const])));
  const server = new Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
    // a connection lives at most this long, then drains: clients reconnect, re-resolve, and
    // replicas added since (an autoscaled Deployment) get their share
    ...(options.maxConnectionAgeMs > 0 ? {
      'grpc.max_connection_age_ms': options.maxConnectionAgeMs, 'grpc.max_connection_age_grace_ms': MAX_CONNECTION_AGE_GRACE_MS,
    } : {}),
    interceptors: options.auth.interceptors((refused) => log.warn({ ...refused }, 'call refused: bearer token')),
  });
  service.addToServer(server);
  health.addToServer(server);
  addReflection(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, options.auth.credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );

  const telemetry = await startServingTelemetry({ registry: metrics.registry.registry, port: options.metricsPort, host: options.host, log });

  return {
    port,
    metricsPort: telemetry.port,
    async shutdown() {
      telemetry.stopServing();
      for (const s of HEALTH_SERVICES) health.setStatus(s, 'NOT_SERVING');
      const drained = service.shutdown();
      batcher.close(); // what is queued runs now, without waiting for fuller batches
      await drained;
      // Health Watch streams never end on their own: give answered calls a moment to flush, then cut.
      await new Promise<void>((resolve) => {
        const cut = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 500);
        server.tryShutdown(() => {
          clearTimeout(cut);
          resolve();
        });
      });
      await telemetry.close();
      await inference.close();
    },
  };
}
