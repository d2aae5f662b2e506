// gRPC server reflection, so grpcurl and other generic clients can call the service knowing
// only its address: the descriptors come from the .proto files themselves (proto/ at the repo
// root and grpc-health-check's health.proto), not from the generated TypeScript.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { protoPath as healthProtoPath } from 'grpc-health-check';

/** The repository's proto/ folder (the API's source of truth). */
export const PROTO_ROOT = fileURLToPath(new URL('../../../proto/', import.meta.url));

/** Adds grpc.reflection.v1 and v1alpha describing kd.v1.EvaluatorService and grpc.health.v1.Health. */
export function addReflection(server: Server): void {
  // health.proto lives at <pkg>/proto/health/v1/health.proto and is imported as health/v1/health.proto.
  const healthRoot = dirname(dirname(dirname(healthProtoPath)));
  const definition = loadSync([join('kd', 'v1', 'evaluator.proto'), join('health', 'v1', 'health.proto')], {
    includeDirs: [PROTO_ROOT, healthRoot],
    keepCase: true,
  });
  new ReflectionService(definition, { services: ['kd.v1.EvaluatorService', 'grpc.health.v1.Health'] }).addToServer(server);
}
