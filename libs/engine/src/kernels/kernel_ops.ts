import { getKernel, type KernelBackend, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';

/** The part of the wasm backend our composed kernels use: refcounted data and tensor creation. */
interface ComposableBackend extends KernelBackend {
  disposeData(dataId: object, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: 'float32', memoryOffset?: number, values?: Float32Array): TensorInfo;
}

/**
 * Runs registered kernels of one backend directly (no engine, no tape) and remembers every
 * intermediate so that `finish` can free all but the result. Composed kernels are built on
 * it: calling kernel functions directly skips tfjs' per-op bookkeeping, which matters on
 * the hot path of every training step.
 */
export class KernelOps {
  private readonly temps: TensorInfo[] = [];

  constructor(
    private readonly backend: ComposableBackend,
    private readonly backendName: string,
  ) {}

  /** `backend` is typed loosely because KernelFunc hands kernels an untyped backend. */
  static of(backend: object, backendName: string): KernelOps {
    return new KernelOps(backend as ComposableBackend, backendName);
  }

  /** Runs kernel `name` and tracks its output as a temporary. */
  run(name: string, inputs: Record<string, TensorInfo> | TensorInfo[], attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = getKernel(name, this.backendName);
    if (kernel == null) throw new Error(`kernel ${name} is not registered for backend ${this.backendName}`);
    const out = kernel.kernelFunc({ inputs: inputs as never, attrs, backend: this.backend }) as TensorInfo;
    this.temps.push(out);
    return out;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    return this.run('Slice', { x }, { begin, size });
  }

  /** Zero padding; `paddings` is [before, after] per axis. */
  pad(x: TensorInfo, paddings: Array<[number, number]>): TensorInfo {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  /** Zero-pads (positive) or crops (negative) the two spatial axes of an NHWC tensor. */
  padOrCrop(x: TensorInfo, padH: [number, number], padW: [number, number]): TensorInfo {
    const [n, h, w, c] = x.shape;
    const cropTop = Math.max(0, -padH[0]);
    const cropLeft = Math.max(0, -padW[0]);
    const keepH = h - cropTop - Math.max(0, -padH[1]);
    const keepW = w - cropLeft - Math.max(0, -padW[1]);
    const cropped = keepH === h && keepW === w ? x : this.slice(x, [0, cropTop, cropLeft, 0], [n, keepH, keepW, c]);
    const pos = (p: number): number => Math.max(0, p);
    return this.pad(cropped, [[0, 0], [pos(padH[0]), pos(padH[1])], [pos(padW[0]), pos(padW[1])], [0, 0]]);
  }

  concat(xs: TensorInfo[], axis: number): TensorInfo {
    if (xs.length === 1) return xs[0];
    return this.run('Concat', xs, { axis });
  }

  /** [.., M, K] x [.., K, N]; transposes must be explicit (wasm's transposed matmul is slow). */
  matMul(a: TensorInfo, b: TensorInfo): TensorInfo {
    return this.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
  }

  mul(a: TensorInfo, b: TensorInfo): TensorInfo {
    return this.run('Multiply', { a, b });
  }

  reverse(x: TensorInfo, dims: number[]): TensorInfo {
    return this.run('Reverse', { x }, { dims });
  }

  /** Stride-1 NHWC convolution with explicit [top, bottom] and [left, right] zero padding. */
  conv2d(x: TensorInfo, filter: TensorInfo, padH: [number, number], padW: [number, number]): TensorInfo {
    return this.run(
      'Conv2D',
      { x, filter },
      { strides: [1, 1], pad: [[0, 0], padH, padW, [0, 0]], dataFormat: 'NHWC', dilations: [1, 1] },
    );
  }

  /** Stride-1 depthwise convolution; explicit padding is not supported by tfjs here, so pad first. */
  depthwiseConv2d(x: TensorInfo, filter: TensorInfo, padH: [number, number], padW: [number, number]): TensorInfo {
    const padded = this.pad(x, [[0, 0], padH, padW, [0, 0]]);
    return this.run(
      'DepthwiseConv2dNative',
      { x: padded, filter },
      { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] },
    );
  }

  /** A float32 tensor filled with `value` (tracked like any other temporary). */
  fill(shape: number[], value: number): TensorInfo {
    const size = shape.reduce((a, b) => a * b, 1);
    const out = this.backend.makeOutput(shape, 'float32', undefined, new Float32Array(size).fill(value));
    this.temps.push(out);
    return out;
  }

  /**
   * scale * (column sums of a [M, C] matrix) as [1, C]. Done as a global average pool
   * (XNNPACK, channel-last, one pass): a ones-vector matmul would repack the big operand
   * on every call (~20x slower for a fresh [51200, 64] input here) and wasm's Sum transposes first.
   */
  sumRows(x2d: TensorInfo, scale = 1): TensorInfo {
    const [m, c] = x2d.shape;
    const pooled = this.run(
      'AvgPool',
      { x: this.reshape(x2d, [1, m, 1, c]) },
      { filterSize: [m, 1], strides: [1, 1], pad: 'valid' },
    );
    const mean = this.reshape(pooled, [1, c]);
    return scale * m === 1 ? mean : this.mul(mean, this.fill([], scale * m));
  }

  /** Frees every temporary except `result` and returns it. */
  finish(result: TensorInfo): TensorInfo {
    for (const t of this.temps) {
      if (t !== result) this.backend.disposeData(t.dataId);
    }
    this.temps.length = 0;
    return result;
  }
}
