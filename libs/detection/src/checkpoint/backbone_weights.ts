// PaddleDetection's students start from ImageNet-pretrained backbones. The analogue here is a
// backbone pretrained by classifying the dataset's object crops (configs/classifier_*.yml):
// its `backbone.*` tensors have the same names and shapes as the detector's backbone, so they
// can be copied over while the neck and head keep their fresh initialisation.
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { BackboneConfig } from '@kd/config';
import type { ParamStore } from '../model/params.ts';
import { CheckpointError, readManifest, readVerifiedWeights } from './checkpoint.ts';

const BACKBONE_PREFIX = 'backbone.';

export interface LoadedBackbone {
  dir: string;
  /** Tensors copied (weights and batch-norm statistics). */
  tensors: number;
  /** The architecture the checkpoint was trained as (Classifier or YOLOv3). */
  architecture: string;
  contentHash: string;
}

/**
 * Copies every `backbone.*` tensor of a checkpoint (a classifier's or a detector's) into the
 * model's backbone. The checkpoint's backbone must be the model's (name, depth, width); every
 * backbone tensor of the model must be there with its shape. Nothing is assigned unless all are.
 */
export function loadBackboneWeights(dir: string, store: ParamStore, backbone: BackboneConfig): LoadedBackbone {
  const root = resolve(dir);
  const manifest = readManifest(root);
  const theirs = (manifest.model_definition as { backbone?: unknown }).backbone;
  if (JSON.stringify(theirs) !== JSON.stringify(backbone)) {
    throw new CheckpointError(`${root}: its backbone is ${JSON.stringify(theirs)}, the model's ${JSON.stringify(backbone)}; pretrain_backbone needs the same backbone`);
  }
  const tensors = readVerifiedWeights(root, manifest);
  try {
    const mine = [...store.params.values()].filter((p) => p.name.startsWith(BACKBONE_PREFIX));
    for (const p of mine) {
      const t = tensors[p.name];
      if (t == null) throw new CheckpointError(`${root}: no tensor ${p.name}`);
      if (!tf.util.arraysEqual(t.shape, p.variable.shape)) throw new CheckpointError(`${root}: ${p.name} has shape [${t.shape}], the model [${p.variable.shape}]`);
    }
    for (const p of mine) p.variable.assign(tensors[p.name]);
    return { dir: root, tensors: mine.length, architecture: String(manifest.model_definition.architecture ?? 'YOLOv3'), contentHash: manifest.content_hash };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
