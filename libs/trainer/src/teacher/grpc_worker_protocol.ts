// Messages between GrpcTeacher (the training thread) and its gRPC worker thread.
import type { TeacherSpec } from '@kd/proto';
import type { GrpcTeacherOptions } from './grpc_client.ts';
import type { OutputArray } from './wire.ts';

export type WorkerInit = Omit<GrpcTeacherOptions, 'log' | 'onFailover'>;

/** An error as it crosses threads: its class name (for user-error handling), message and gRPC code. */
export interface WireError { name: string; message: string; code?: number }

export type ToWorker =
  | { type: 'infer'; id: number; images: Float32Array; shape: [number, number, number, number] }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; spec: TeacherSpec }
  | { type: 'failed'; error: WireError }
  | { type: 'log'; line: string }
  | { type: 'failover' }
  | { type: 'result'; id: number; outputs: OutputArray[] }
  | { type: 'error'; id: number; error: WireError };
