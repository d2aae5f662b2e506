// Structural checks of an InferRequest, before it takes a place in the queue. They read only
// the message's fields, never pixel values (preprocess.ts checks those), so a bad request is
// refused in microseconds. Every message starts with the field it is about.
import { Dtype, type InferRequest, OutputEncoding, type Tensor } from '@kd/proto';
import { InvalidRequestError } from './errors.ts';

export interface RequestLimits {
  /** Most images in one request (--max-batch). */
  maxBatch: number;
  /** H and W of a preprocessed batch must be multiples of this (the largest stride), pixels. */
  sizeMultiple: number;
  /** H, W of the network input; encoded images are resized to it. */
  inputSize: { height: number; width: number };
}

/** The images of a request, still as they came over the wire. */
export type RequestImages =
  | { kind: 'tensor'; tensor: Tensor; dtype: typeof Dtype.DTYPE_FLOAT32 | typeof Dtype.DTYPE_FLOAT16 }
  | { kind: 'encoded'; files: Uint8Array[] };

/** A request that passed every structural check. */
export interface ValidRequest {
  /** Images in the request. */
  n: number;
  /** Size the network sees, pixels (the spec's input size for encoded images). */
  height: number;
  width: number;
  images: RequestImages;
  encoding: OutputEncoding;
  sparseThreshold: number;
}

const ENCODINGS: readonly number[] = Object.values(OutputEncoding).filter((v) => v !== OutputEncoding.UNRECOGNIZED);

/** Bytes per element of a wire dtype; undefined for UNSPECIFIED and unknown values. */
export function dtypeBytes(dtype: Dtype): number | undefined {
  if (dtype === Dtype.DTYPE_FLOAT32) return 4;
  if (dtype === Dtype.DTYPE_FLOAT16) return 2;
  return undefined;
}

/** Checks a request against the limits; throws InvalidRequestError naming the first bad field. */
export function validateRequest(req: InferRequest, limits: RequestLimits): ValidRequest {
  const { encoding, sparseThreshold } = checkOutputOptions(req);
  if (req.images) return { ...checkTensor(req.images, limits), encoding, sparseThreshold };
  if (req.encoded) {
    const files = req.encoded.images;
    const field = 'InferRequest.encoded.images';
    checkBatch(files.length, field, limits.maxBatch);
    files.forEach((f, i) => {
      if (f.byteLength === 0) throw new InvalidRequestError(`${field}[${i}]`, 'empty file');
    });
    return { n: files.length, ...limits.inputSize, images: { kind: 'encoded', files }, encoding, sparseThreshold };
  }
  throw new InvalidRequestError('InferRequest.input', 'neither images nor encoded is set');
}

function checkOutputOptions(req: InferRequest): { encoding: OutputEncoding; sparseThreshold: number } {
  if (!ENCODINGS.includes(req.encoding)) {
    throw new InvalidRequestError('InferRequest.encoding', `unknown output encoding ${req.encoding}; use 1 (FP32), 2 (FP16) or 3 (SPARSE)`);
  }
  const t = req.sparseThreshold;
  if (!(t >= 0 && t <= 1)) throw new InvalidRequestError('InferRequest.sparse_threshold', `${t} is outside 0..1 (an objectness probability)`);
  const encoding = req.encoding === OutputEncoding.OUTPUT_ENCODING_UNSPECIFIED ? OutputEncoding.OUTPUT_ENCODING_FP32 : req.encoding;
  return { encoding, sparseThreshold: t };
}

function checkBatch(n: number, field: string, maxBatch: number): void {
  if (n === 0) throw new InvalidRequestError(field, 'empty batch (0 images)');
  if (n > maxBatch) throw new InvalidRequestError(field, `${n} images is over this server's --max-batch ${maxBatch}; split the batch`);
}

function checkTensor(t: Tensor, limits: RequestLimits): Omit<ValidRequest, 'encoding' | 'sparseThreshold'> {
  const field = 'InferRequest.images';
  const bytes = dtypeBytes(t.dtype);
  if (bytes === undefined) {
    const what = t.dtype === Dtype.DTYPE_UNSPECIFIED ? 'DTYPE_UNSPECIFIED' : `unknown dtype ${t.dtype}`;
    throw new InvalidRequestError(`${field}.dtype`, `${what}; use DTYPE_FLOAT32 or DTYPE_FLOAT16`);
  }
  if (t.sparse) throw new InvalidRequestError(`${field}.sparse`, 'image batches must be dense');
  const shape = t.shape;
  if (shape.length !== 4) throw new InvalidRequestError(`${field}.shape`, `[${shape}] has rank ${shape.length}; expected [N, H, W, 3] (NHWC)`);
  const [n, h, w, c] = shape;
  checkBatch(n, `${field}.shape`, limits.maxBatch);
  const m = limits.sizeMultiple;
  if (h === 0 || h % m !== 0) throw new InvalidRequestError(`${field}.shape`, `H = ${h} is not a positive multiple of ${m} (the largest stride)`);
  if (w === 0 || w % m !== 0) throw new InvalidRequestError(`${field}.shape`, `W = ${w} is not a positive multiple of ${m} (the largest stride)`);
  if (c !== 3) throw new InvalidRequestError(`${field}.shape`, `${c} channels; expected 3 (NHWC, channels last)`);
  const expected = n * h * w * c * bytes;
  if (t.data.byteLength !== expected) {
    throw new InvalidRequestError(`${field}.data`, `${t.data.byteLength} bytes, but shape [${shape}] as ${t.dtype === Dtype.DTYPE_FLOAT16 ? 'DTYPE_FLOAT16' : 'DTYPE_FLOAT32'} needs ${expected}`);
  }
  return { n, height: h, width: w, images: { kind: 'tensor', tensor: t, dtype: t.dtype as typeof Dtype.DTYPE_FLOAT32 | typeof Dtype.DTYPE_FLOAT16 } };
}
