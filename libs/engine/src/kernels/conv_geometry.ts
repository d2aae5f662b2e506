import { backend_util } from '@tensorflow/tfjs-core';

/** Geometry shared by the composed convolution gradients (NHWC, no dilation). */
export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  kH: number;
  kW: number;
  sH: number;
  sW: number;
  padTop: number;
  padLeft: number;
}

export function convGeometry(info: backend_util.Conv2DInfo): ConvGeometry {
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error('composed convolution gradients support dilation 1 only');
  }
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    kH: info.filterHeight,
    kW: info.filterWidth,
    sH: info.strideHeight,
    sW: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * Padding of x that makes every filter tap a plain slice: rows [-padTop, rows) with
 * rows = a multiple of the stride >= (outH-1)*sH + kH, so that x reshapes into
 * [N, rows/sH, sH, cols/sW, sW, C] ("phases"). Negative "after" values mean crop.
 */
export function phasePadding(g: ConvGeometry): { rows: number; cols: number; padH: [number, number]; padW: [number, number] } {
  const rows = Math.ceil(((g.outH - 1) * g.sH + g.kH) / g.sH) * g.sH;
  const cols = Math.ceil(((g.outW - 1) * g.sW + g.kW) / g.sW) * g.sW;
  return {
    rows,
    cols,
    padH: [g.padTop, rows - g.padTop - g.inH],
    padW: [g.padLeft, cols - g.padLeft - g.inW],
  };
}

/**
 * Padding that turns the gradient of a stride-s convolution w.r.t. its input into a
 * stride-1 "full" convolution of dy dilated by s (zeros between rows/cols, plus s-1
 * trailing zero rows/cols that our reshape-based dilation leaves) with the flipped filter.
 */
export function transposedConvPadding(g: ConvGeometry): { padH: [number, number]; padW: [number, number] } {
  const dilatedH = g.outH * g.sH; // includes sH-1 trailing zero rows
  const dilatedW = g.outW * g.sW;
  const top = g.kH - 1 - g.padTop;
  const left = g.kW - 1 - g.padLeft;
  return {
    padH: [top, g.inH + g.kH - 1 - dilatedH - top],
    padW: [left, g.inW + g.kW - 1 - dilatedW - left],
  };
}
