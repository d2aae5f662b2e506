// Messages between the gRPC thread and the inference thread of a teacher replica.
import type { TeacherSpec } from '@kd/proto';
import type { ImageBatch } from './preprocess.ts';
import type { HeadOutput } from './runner.ts';

export interface InferenceInit { weights: string }

export type ToInference = { type: 'run'; id: number; inputs: ImageBatch[] };

export type FromInference =
  | { type: 'ready'; spec: TeacherSpec; specHash: string; dir: string; step: number; backend: string; warmUpSeconds: number }
  | { type: 'failed'; message: string; name: string }
  | { type: 'log'; line: string }
  | { type: 'done'; id: number; outputs: HeadOutput[][] }
  | { type: 'error'; id: number; message: string };
