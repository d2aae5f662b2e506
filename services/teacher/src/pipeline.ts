// One InferRequest from message to response: spec check, validation, a place in the batcher
// (admission first, then preprocessing, so a full queue costs no decoding), the shared
// network run, output encoding, and the timings the response reports.
import type { InferRequest, InferResponse, TeacherSpec } from '@kd/proto';
import type { DynamicBatcher } from './batcher.ts';
import { encodeOutputs, ENCODING_LABELS, tensorBytes, type DenseOrSparse } from './encode_outputs.ts';
import { SpecMismatchError } from './errors.ts';
import type { TeacherMetrics } from './metrics.ts';
import { prepareImages, type ImageBatch } from './preprocess.ts';
import type { HeadOutput } from './runner.ts';
import { validateRequest, type RequestLimits } from './validate.ts';

export type TeacherBatcher = DynamicBatcher<ImageBatch, HeadOutput[]>;

export interface PipelineOptions {
  spec: TeacherSpec;
  specHash: string;
  replicaId: string;
  maxBatch: number;
  batcher: TeacherBatcher;
  metrics: TeacherMetrics;
}

/** How the call that carries a request can end early. */
export interface CallState {
  isCancelled: () => boolean;
  /** Epoch milliseconds; Infinity for none. */
  deadline: number;
}

export class InferPipeline {
  private readonly limits: RequestLimits;
  private readonly channelsPerAnchor: number;

  constructor(private readonly o: PipelineOptions) {
    const size = o.spec.inputSize ?? { height: 0, width: 0 };
    this.limits = { maxBatch: o.maxBatch, sizeMultiple: Math.max(...o.spec.strides), inputSize: { height: size.height, width: size.width } };
    this.channelsPerAnchor = 5 + o.spec.numClasses;
  }

  /** Answers one request (started at `received`, performance.now() ms); throws a TeacherError subclass on a bad one. */
  async infer(req: InferRequest, call: CallState, received = performance.now()): Promise<InferResponse> {
    const { spec, specHash, metrics } = this.o;
    if (req.expectedSpecHash !== '' && req.expectedSpecHash !== specHash) throw new SpecMismatchError(req.expectedSpecHash, specHash);
    const v = validateRequest(req, this.limits);
    let preprocessSeconds = 0;
    const result = await this.o.batcher.submit(
      { images: v.n, key: `${v.height}x${v.width}`, isCancelled: call.isCancelled, deadline: call.deadline },
      async () => {
        const t = performance.now();
        const batch = await prepareImages(v.images, v.n, v.height, v.width, {
          height: v.height, width: v.width, preprocessing: spec.preprocessing!,
        });
        // A preprocessed tensor only needs copying; the proto reports preprocessing for encoded files.
        if (v.images.kind === 'encoded') preprocessSeconds = (performance.now() - t) / 1000;
        return batch;
      },
    );
    const t = performance.now();
    const encoding = v.encoding as DenseOrSparse;
    const outputs = encodeOutputs(result.output, encoding, v.sparseThreshold, this.channelsPerAnchor);
    const encodeSeconds = (performance.now() - t) / 1000;
    if (v.images.kind === 'encoded') metrics.preprocessDuration.observe(preprocessSeconds);
    metrics.encodeDuration.observe(encodeSeconds);
    metrics.outputBytes.inc({ encoding: ENCODING_LABELS[encoding] }, outputs.reduce((s, o) => s + tensorBytes(o), 0));
    return {
      requestId: req.requestId,
      outputs,
      specHash,
      replicaId: this.o.replicaId,
      timings: {
        queueSeconds: result.queueSeconds,
        preprocessSeconds,
        inferenceSeconds: result.runSeconds,
        encodeSeconds,
        totalSeconds: (performance.now() - received) / 1000,
        batchImages: result.batchImages,
      },
    };
  }
}
