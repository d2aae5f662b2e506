// What kd demo and kd cluster (npm start) share: the setting their two students train in. It is
// the distillation protocol of results/README.md, shortened: both students start from the
// backbone pretrained on the dataset's crops (the head fresh), the config's per-method distill
// weights, every model scored at 320 px.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError, type DistillConfig } from '@kd/config';
import { distillOptions } from '@kd/distill';
import { QUICK_OVERRIDES, SHIPPED_BACKBONE } from '@kd/trainer';
import type { ExperimentEvidence } from '../cluster/report.ts';
import { experimentGain } from '../experiment/report.ts';

/** Default student steps: half the protocol's 800, its schedule compressed alike (results/README.md has both). */
export const DEMO_STEPS = 400;

/** Default input size every model is scored at: the images' longer side, as in the protocol. */
export const DEMO_EVAL_SIZE = 320;

/**
 * The committed `kd experiment` of the protocol's setting whose paired, several-seed result the
 * closing sentence quotes for the demo's method (relative to the repository): one demo run is a
 * single seed. The protocol's final runs on the test split, its five seeds merged: the run with
 * more seeds (results/experiment.json is the three-seed confirmation on fresh seeds).
 */
export const DEMO_EVIDENCE = 'results/protocol-final/experiment.json';

/** The repository, where DEMO_EVIDENCE lies (the cli may run from another folder). */
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

/** DEMO_EVIDENCE's paired gain for the method, if it has one over two seeds or more (one has no standard error). */
export function demoEvidence(method: string): ExperimentEvidence | undefined {
  const gain = experimentGain(join(REPO, DEMO_EVIDENCE), method);
  return gain && gain.seeds >= 2 ? { file: DEMO_EVIDENCE, ...gain } : undefined;
}

/** Where both students start: a whole student checkpoint, a pretrained backbone, or neither (random weights). */
export interface StudentStart { init?: string; backbone?: string }

/** The start options as commander parses them (`--no-backbone` makes backbone false). */
export interface StartOptions { init?: string; backbone?: string | false; quick?: boolean }

/** The students' start from the options; a checkpoint folder without model.json is a ConfigError. */
export function studentStart(opts: StartOptions): StudentStart {
  const mustHaveManifest = (option: string, dir: string, hint: string) => {
    if (!existsSync(join(dir, 'model.json'))) throw new ConfigError(`${option} ${dir}: no model.json there (${hint})`);
  };
  if (opts.init !== undefined) {
    mustHaveManifest('--init', opts.init, 'a checkpoint of the student config, e.g. models/yolov3_mobilenet_v1_shapes');
    return { init: resolve(opts.init) };
  }
  // --quick's tiny students have another backbone width than the shipped one
  const backbone = opts.backbone === false ? undefined : opts.backbone ?? (opts.quick ? undefined : SHIPPED_BACKBONE);
  if (backbone === undefined) return {};
  mustHaveManifest('--backbone', backbone, 'a classifier checkpoint: kd train -c configs/classifier_mobilenet_v1_shapes.yml; or --no-backbone');
  return { backbone: resolve(backbone) };
}

/** The student config keys that make a run start there. */
export function startOverrides(start: StudentStart): string[] {
  if (start.init) return [`weights=${start.init}`];
  return start.backbone ? [`pretrain_backbone=${start.backbone}`] : [];
}

/** --quick's tiny-model keys, less the backbone width when the students start from a backbone (its width is the checkpoint's). */
export function quickOverrides(start: StudentStart): string[] {
  return QUICK_OVERRIDES.filter((o) => !(start.backbone && o.startsWith('backbone.width=')));
}

/** The start in words, for the log. */
export function describeStart(start: StudentStart): string {
  if (start.init) return start.init;
  return start.backbone ? `the backbone of ${start.backbone} (the detection head fresh)` : 'random weights';
}

/** The distill weight the distilled student trains with: --weight, else the config's for the method, else the loss's default (undefined). */
export function effectiveWeight(weight: number | undefined, distill: DistillConfig, method: string): number | undefined {
  if (weight !== undefined) return weight;
  const own = distillOptions(distill, method).weight;
  return typeof own === 'number' ? own : undefined;
}

function evalSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 32 || n % 32 !== 0) throw new InvalidArgumentError(`expected a multiple of 32, got "${value}"`);
  return n;
}

/** The options both commands take for the students' start and for the size models are scored at. */
export function addStartOptions(command: Command): Command {
  return command
    .option('--backbone <checkpoint>', `a classifier checkpoint whose backbone both students start from, the head fresh (default ${SHIPPED_BACKBONE}; --quick: none)`)
    .option('--no-backbone', 'both students start from the same random weights')
    .option('--init <checkpoint>', 'instead, both students start from this checkpoint of the student config (e.g. models/yolov3_mobilenet_v1_shapes, to fine-tune it); adds a "student, start" row')
    .option('--eval-size <px>', `input size every model is scored at, a multiple of 32 (default ${DEMO_EVAL_SIZE}, the images' longer side; --quick: the tiny config's)`, evalSize);
}

/** The student config key for --eval-size (none: the config's, as --quick's tiny models need). */
export function evalSizeOverrides(size: number | undefined, quick: boolean | undefined): string[] {
  const s = size ?? (quick ? undefined : DEMO_EVAL_SIZE);
  return s === undefined ? [] : [`eval_reader.size=${s}`];
}
