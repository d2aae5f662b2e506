// The distill weight of each method is chosen on a validation split carved from the training
// images, never on the test split: a choice made on test data would be graded on it too.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '@kd/config';
import { writeFilesAtomic } from '@kd/data';

export interface ValidationLists {
  /** List files (absolute paths) for dataset.train_list and dataset.test_list. */
  train: string;
  validation: string;
  trainImages: number;
  validationImages: number;
  /** How the split was made, for the record. */
  rule: string;
}

/**
 * Splits the dataset's training list (a list file at the dataset root, e.g. trainval.txt) into
 * `outDir/train.txt` and `outDir/val.txt`: every `every`-th line to validation (every line-count-th
 * for a shorter list), the rest to training. Deterministic, so repeated calls (the experiment's child processes) write the same
 * files; list lines stay relative to the dataset root, which is where kd resolves them.
 */
export function carveValidation(dataDir: string, trainList: string, outDir: string, every = 10): ValidationLists {
  const file = [resolve(dataDir, trainList), resolve(dataDir, `${trainList}.txt`)].find((f) => existsSync(f));
  if (!file) throw new ConfigError(`--split validation: no list file ${trainList} at ${dataDir} (it carves the validation images from a list file at the dataset root)`);
  const lines = readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length < 2) throw new ConfigError(`--split validation: ${file} has ${lines.length} images, too few to carve a validation split from`);
  const step = Math.min(every, lines.length); // a list shorter than `every` still gives one validation image
  const validation = lines.filter((_, i) => i % step === step - 1);
  const train = lines.filter((_, i) => i % step !== step - 1);
  const paths = { train: resolve(outDir, 'train.txt'), validation: resolve(outDir, 'val.txt') };
  mkdirSync(outDir, { recursive: true });
  writeFilesAtomic([{ path: paths.train, content: `${train.join('\n')}\n` }, { path: paths.validation, content: `${validation.join('\n')}\n` }]);
  return { ...paths, trainImages: train.length, validationImages: validation.length, rule: `every ${step}th image of ${join(dataDir, trainList)} to validation, the rest to training` };
}
