import { hostname } from 'node:os';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { channelCredentials, clientAuthFromEnv, clientAuthVariables, clientOptions, describeClientAuth, type ClientAuth } from '@kd/grpc-auth';
import { headSpecOf } from '@kd/distill';
import type { HeadSpec } from '@kd/detection';
import { GRPC_MESSAGE_OPTIONS, TeacherServiceClient, type GetSpecResponse, type InferRequest, type InferResponse, type TeacherSpec } from '@kd/proto';
import type { WireDtype } from '@kd/engine';
import { parseTeacherAddress } from './address.ts';
import type { ImageBatch } from './source.ts';
import { imagesTensor, OUTPUT_ENCODINGS, outputArrays, type OutputArray } from './wire.ts';

/** No replica answered, or they serve different models; the message names them. */
export class TeacherUnavailableError extends Error {
  override name = 'TeacherUnavailableError';
}

export interface GrpcTeacherOptions {
  /** grpc://HOST:PORT[,HOST:PORT...] or dns:///NAME:PORT. */
  address: string;
  inputDtype: WireDtype;
  outputEncoding: keyof typeof OUTPUT_ENCODINGS;
  sparseThreshold: number;
  /** Deadline of one request, seconds; a replica that misses it is failed over. */
  timeoutSeconds: number;
  jobId?: string;
  log: (line: string) => void;
  /** How long connect() keeps trying to reach a first replica, seconds. */
  connectSeconds?: number;
  /** Called each time a request is sent to another replica after one failed. */
  onFailover?: () => void;
  /** TLS and token; default: from the KD_TEACHER_* variables (clientAuthFromEnv(TEACHER_AUTH_PREFIX)). */
  auth?: ClientAuth;
}

/** The environment variables of the teacher client's TLS and token: KD_TEACHER_TLS_CA, KD_TEACHER_TOKEN_FILE, ... */
export const TEACHER_AUTH_PREFIX = 'KD_TEACHER';

/** One replica endpoint; `downUntil` keeps a failed one out of rotation for a while. */
interface Replica {
  target: string;
  client: TeacherServiceClient;
  downUntil: number;
  failures: number;
  /** Set once this endpoint answered with another model: never used again. */
  refused?: string;
}

// Status codes after which the same request may go to another replica: the replica is gone,
// overloaded or too slow. Anything else (a bad request, another model) is not retried.
const FAILOVER = new Set<number>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.CANCELLED, status.RESOURCE_EXHAUSTED, status.INTERNAL, status.UNKNOWN, status.ABORTED]);
const BACKOFF_MS = { first: 250, max: 5000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function describeError(error: unknown): string {
  const e = error as Partial<ServiceError>;
  return e.code !== undefined ? `${status[e.code] ?? e.code}: ${e.details || e.message}` : String((error as Error)?.message ?? error);
}

/**
 * The gRPC side of a remote teacher (GrpcTeacher runs it on a worker thread, whose event loop
 * no training step blocks). Requests go round robin over the replicas
 * that are up; a request whose replica dies, is overloaded or misses the deadline goes to the
 * next one, so no batch is skipped or answered twice. With every replica down it waits with
 * backoff (logged once) until one is back. Every answer must carry the spec hash checked at
 * connect(); a replica serving another model is refused by name.
 */
export class GrpcTeacherClient {
  private next = 0;
  private outageLogged = false;
  private readonly clientId = `${hostname()}-${process.pid}`;

  private constructor(
    private readonly o: GrpcTeacherOptions, private readonly replicas: Replica[],
    private readonly teacherSpec: TeacherSpec, private readonly hash: string, private readonly head: HeadSpec,
  ) {}

  /** Connects to the replicas, fetches every reachable one's spec and checks they agree. */
  static async connect(o: GrpcTeacherOptions): Promise<GrpcTeacherClient> {
    const { targets, balanced } = parseTeacherAddress(o.address);
    const auth = o.auth ?? clientAuthFromEnv(TEACHER_AUTH_PREFIX);
    const options = {
      ...GRPC_MESSAGE_OPTIONS,
      ...clientOptions(auth),
      ...(balanced ? { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) } : {}),
    };
    const replicas: Replica[] = targets.map((target) => ({
      target, client: new TeacherServiceClient(target, channelCredentials(auth), options), downUntil: 0, failures: 0,
    }));
    const deadline = Date.now() + (o.connectSeconds ?? 30) * 1000;
    let answers: Array<{ replica: Replica; response: GetSpecResponse }> = [];
    let lastErrors: string[] = [];
    for (let wait = BACKOFF_MS.first; ; wait = Math.min(wait * 2, BACKOFF_MS.max)) {
      const settled = await Promise.allSettled(replicas.map((r) => getSpec(r.client, Math.min(10, o.timeoutSeconds))));
      answers = settled.flatMap((s, i) => (s.status === 'fulfilled' ? [{ replica: replicas[i], response: s.value }] : []));
      lastErrors = settled.flatMap((s, i) => (s.status === 'rejected' ? [`${replicas[i].target}: ${describeError(s.reason)}`] : []));
      const refused = settled.find((s) => s.status === 'rejected' && (s.reason as Partial<ServiceError>).code === status.UNAUTHENTICATED);
      if (refused) {
        // a token problem does not go away by waiting
        for (const r of replicas) r.client.close();
        const v = clientAuthVariables(TEACHER_AUTH_PREFIX);
        throw new TeacherUnavailableError(`the teacher at ${o.address} refused this client (${describeError((refused as PromiseRejectedResult).reason)}): set ${v.token} or ${v.tokenFile} to the token of the teacher's --token-file`);
      }
      if (answers.length > 0 || Date.now() + wait > deadline) break;
      if (wait === BACKOFF_MS.first) o.log(`waiting for the teacher at ${o.address} (${lastErrors.join('; ')})`);
      await sleep(wait);
    }
    if (answers.length === 0) {
      for (const r of replicas) r.client.close();
      throw new TeacherUnavailableError(`no teacher replica answered at ${o.address} within ${o.connectSeconds ?? 30} s: ${lastErrors.join('; ')}`);
    }
    const first = answers[0].response;
    for (const { replica, response } of answers) {
      if (response.specHash !== first.specHash) {
        replica.refused = `serves ${response.spec?.modelName} (${response.specHash.slice(0, 19)}), ${answers[0].replica.target} serves ${first.spec?.modelName} (${first.specHash.slice(0, 19)})`;
        o.log(`warning: teacher replica ${replica.target} (${response.replicaId}) refused: it ${replica.refused}`);
      }
    }
    for (const e of lastErrors) o.log(`warning: teacher replica ${e} (will retry it)`);
    const head = headSpecOf(first.spec!);
    const teacher = new GrpcTeacherClient(o, replicas, first.spec!, first.specHash, head);
    o.log(`teacher ${teacher.describe()}: ${answers.length - replicas.filter((r) => r.refused).length} of ${replicas.length} replicas up, spec ${first.specHash.slice(0, 19)}, ${describeClientAuth(auth)}`);
    return teacher;
  }

  get spec(): TeacherSpec {
    return this.teacherSpec;
  }

  describe(): string {
    return `${this.teacherSpec.modelName} at ${this.o.address}`;
  }

  /** Sends the batch to a replica (failing over as needed) and returns its dense outputs, checked against the spec. */
  async infer(batch: ImageBatch): Promise<OutputArray[]> {
    const request: InferRequest = {
      requestId: '', jobId: this.o.jobId ?? '', clientId: this.clientId,
      images: imagesTensor(batch.images, batch.shape, this.o.inputDtype),
      encoding: OUTPUT_ENCODINGS[this.o.outputEncoding],
      sparseThreshold: this.o.outputEncoding === 'sparse' ? this.o.sparseThreshold : 0,
      expectedSpecHash: this.hash,
    };
    const response = await this.send(request);
    return outputArrays(response.outputs, this.head, batch.shape);
  }

  private pick(): Replica | undefined {
    const now = Date.now();
    for (let k = 0; k < this.replicas.length; k++) {
      const r = this.replicas[(this.next + k) % this.replicas.length];
      if (!r.refused && r.downUntil <= now) {
        this.next = (this.next + k + 1) % this.replicas.length;
        return r;
      }
    }
    return undefined;
  }

  private async send(request: InferRequest): Promise<InferResponse> {
    for (let wait = BACKOFF_MS.first; ;) {
      const replica = this.pick();
      if (!replica) {
        if (this.replicas.every((r) => r.refused)) throw new TeacherUnavailableError(`every teacher replica at ${this.o.address} serves another model than ${this.hash}`);
        if (!this.outageLogged) this.o.log(`warning: no teacher replica at ${this.o.address} is up; waiting for one (retrying with backoff up to ${BACKOFF_MS.max / 1000} s)`);
        this.outageLogged = true;
        await sleep(Math.min(wait, Math.max(10, Math.min(...this.replicas.filter((r) => !r.refused).map((r) => r.downUntil)) - Date.now())));
        wait = Math.min(wait * 2, BACKOFF_MS.max);
        continue;
      }
      try {
        const response = await infer(replica.client, { ...request, requestId: `${this.clientId}-${++requestCounter}` }, this.o.timeoutSeconds);
        if (response.specHash !== this.hash) {
          replica.refused = `answered with spec ${response.specHash.slice(0, 19)} instead of ${this.hash.slice(0, 19)}`;
          this.o.log(`warning: teacher replica ${replica.target} (${response.replicaId}) refused: it ${replica.refused}`);
          continue;
        }
        replica.failures = 0;
        if (this.outageLogged) this.o.log(`teacher replica ${replica.target} is back`);
        this.outageLogged = false;
        return response;
      } catch (error) {
        const code = (error as Partial<ServiceError>).code;
        if (code === status.FAILED_PRECONDITION) {
          replica.refused = `serves another model (${describeError(error)})`;
          this.o.log(`warning: teacher replica ${replica.target} refused: it ${replica.refused}`);
          continue;
        }
        if (code === undefined || !FAILOVER.has(code)) throw error;
        replica.failures += 1;
        replica.downUntil = Date.now() + Math.min(BACKOFF_MS.first * 2 ** (replica.failures - 1), BACKOFF_MS.max);
        this.o.onFailover?.();
        this.o.log(`warning: teacher replica ${replica.target} failed (${describeError(error)}); sending the batch to another`);
      }
    }
  }

  async close(): Promise<void> {
    for (const r of this.replicas) r.client.close();
  }
}

let requestCounter = 0;

function getSpec(client: TeacherServiceClient, timeoutSeconds: number): Promise<GetSpecResponse> {
  return new Promise((resolve, reject) => {
    client.getSpec({}, new Metadata(), { deadline: Date.now() + timeoutSeconds * 1000 }, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

function infer(client: TeacherServiceClient, request: InferRequest, timeoutSeconds: number): Promise<InferResponse> {
  return new Promise((resolve, reject) => {
    client.infer(request, new Metadata(), { deadline: Date.now() + timeoutSeconds * 1000 }, (error, response) => (error ? reject(error) : resolve(response)));
  });
}
