// experiment.json: what one `kd experiment` recorded, reading it back, and merging the records of
// experiments that ran the same protocol on different methods or seeds (an experiment too long
// for one sitting runs as several, e.g. a seed at a time).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '@kd/config';
import { parseMethod } from '@kd/trainer';
import type { ExperimentRun, TeacherResult } from './report.ts';

/** The settings every run of an experiment shares, recorded so that experiments can be told apart. */
export interface ExperimentProtocol {
  student: string; methods: string[]; seeds: number[]; steps: number; schedule: string[]; init: string | null;
  /** The -o overrides as given ([method:]key=value). */
  overrides: string[];
  eval_size: number;
  /** --eval-every, or null: the steps between the learning curve's evaluations (null in a merge of different ones). */
  eval_every?: number | null;
  split: 'test' | 'validation';
  validation: { rule: string; train_images: number; validation_images: number } | null;
}

/** experiment.json (protocol, split and data are absent in records made before they were added; a merged record has no data). */
export interface ExperimentRecord { command: string; protocol?: ExperimentProtocol; split?: string; data?: string; teacher: TeacherResult; runs: ExperimentRun[] }

/**
 * DIR/experiment.json, checked to hold runs (or, `noRuns`, possibly none yet: an experiment
 * interrupted before its first run ended) and a teacher; a ConfigError names the file otherwise.
 */
export function readExperimentRecord(dir: string, option: string, noRuns = false): ExperimentRecord {
  const file = join(dir, 'experiment.json');
  if (!existsSync(file)) throw new ConfigError(`${option}: no ${file} (run kd experiment first, or pass --out)`);
  let record: ExperimentRecord;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as ExperimentRecord;
  } catch (e) {
    throw new ConfigError(`${option}: ${file} is not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(record.runs) || (record.runs.length === 0 && !noRuns) || !record.teacher) throw new ConfigError(`${option}: ${file} has no runs or no teacher record`);
  return record;
}

/**
 * The -o overrides that apply to `method`: unscoped ones, and `M:key=value` where M is the method
 * or its loss (`fine_grained_paper:` also reaches `fine_grained_paper+unlabeled`).
 */
export function methodOverrides(opts: readonly string[], method: string, methods: readonly string[]): string[] {
  return opts.flatMap((o) => {
    const scope = /^([\w+]+):(.*)$/.exec(o);
    if (!scope) return [o];
    if (!methods.includes(scope[1])) throw new ConfigError(`-o ${o}: unknown method ${scope[1]} (known: ${methods.join(', ')})`);
    return scope[1] === method || scope[1] === parseMethod(method).loss ? [scope[2]] : [];
  });
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * One record of several experiments' runs. They must share the protocol (student, steps, schedule,
 * start, eval size, split, teacher and its score) and give each method the same overrides, and no
 * method and seed may be run twice; otherwise a ConfigError says what differs, naming the folders.
 */
export function mergeExperimentRecords(parts: Array<{ dir: string; record: ExperimentRecord }>, methodOrder: readonly string[]): ExperimentRecord {
  const [first, ...rest] = parts;
  for (const p of parts) {
    if (!p.record.protocol) throw new ConfigError(`--merge: ${p.dir}/experiment.json records no protocol (made before kd experiment recorded one); it cannot be checked, so it is not merged`);
  }
  const shared = (r: ExperimentRecord) => {
    const p = r.protocol!;
    const unscoped = p.overrides.filter((o) => !/^[\w+]+:/.test(o));
    return { student: p.student, steps: p.steps, schedule: p.schedule, init: p.init, overrides: unscoped, eval_size: p.eval_size, split: p.split, validation: p.validation, teacher: r.teacher };
  };
  const base = shared(first.record);
  for (const p of rest) {
    const mine = shared(p.record);
    for (const key of Object.keys(base) as Array<keyof typeof base>) {
      if (!same(base[key], mine[key])) {
        throw new ConfigError(`--merge: ${p.dir} differs from ${first.dir} in ${key === 'teacher' ? 'the teacher or its score' : `protocol.${key}`}: ${JSON.stringify(mine[key])} against ${JSON.stringify(base[key])}`);
      }
    }
  }
  const overridesByMethod = new Map<string, { dir: string; overrides: string[] }>();
  const seen = new Map<string, string>();
  for (const p of parts) {
    for (const run of p.record.runs) {
      const key = `${run.method}, seed ${run.seed}`;
      if (seen.has(key)) throw new ConfigError(`--merge: ${key} is in both ${seen.get(key)} and ${p.dir}`);
      seen.set(key, p.dir);
      const overrides = methodOverrides(p.record.protocol!.overrides, run.method, methodOrder);
      const earlier = overridesByMethod.get(run.method);
      if (earlier && !same(earlier.overrides, overrides)) {
        throw new ConfigError(`--merge: ${run.method} has the overrides ${JSON.stringify(overrides)} in ${p.dir} but ${JSON.stringify(earlier.overrides)} in ${earlier.dir}`);
      }
      overridesByMethod.set(run.method, earlier ?? { dir: p.dir, overrides });
    }
  }
  const runs = parts.flatMap((p) => p.record.runs);
  const rank = (m: string) => (methodOrder.includes(m) ? methodOrder.indexOf(m) : methodOrder.length);
  const methods = [...new Set(runs.map((r) => r.method))].sort((a, b) => rank(a) - rank(b));
  runs.sort((a, b) => rank(a.method) - rank(b.method) || a.seed - b.seed);
  const everyOverride = [...new Set(parts.flatMap((p) => p.record.protocol!.overrides))];
  const evalEvery = new Set(parts.map((p) => p.record.protocol!.eval_every ?? null));
  const protocol: ExperimentProtocol = {
    ...first.record.protocol!, methods, seeds: [...new Set(runs.map((r) => r.seed))].sort((a, b) => a - b),
    overrides: everyOverride, eval_every: evalEvery.size === 1 ? [...evalEvery][0] : null,
  };
  return { command: parts.map((p) => p.record.command).join(' ; '), protocol, split: protocol.split, teacher: first.record.teacher, runs };
}

/**
 * --resume: the options must make the protocol the record (the file `record`) was made with; a
 * ConfigError lists what differs.
 */
export function checkSameProtocol(previous: ExperimentRecord, protocol: ExperimentProtocol, record: string): void {
  const keys = Object.keys(protocol) as Array<keyof ExperimentProtocol>;
  const differ = keys.filter((k) => JSON.stringify(previous.protocol?.[k] ?? null) !== JSON.stringify(protocol[k] ?? null));
  if (differ.length > 0) {
    throw new ConfigError(`--resume: ${record} was made with other settings: ${differ.map((k) => `${k} ${JSON.stringify(previous.protocol?.[k] ?? null)}, now ${JSON.stringify(protocol[k])}`).join('; ')}`);
  }
}

/**
 * --resume: a teacher given must be the record's, and the dataset too (a record made before it
 * kept its dataset is not checked for it); a ConfigError names what differs.
 */
export function checkSameInputs(previous: ExperimentRecord, given: { teacher?: string; data: string }, record: string): void {
  if (given.teacher !== undefined && resolve(given.teacher) !== resolve(previous.teacher.checkpoint)) {
    throw new ConfigError(`--resume: --teacher ${given.teacher}, but ${record} was made with the teacher ${previous.teacher.checkpoint}`);
  }
  if (previous.data !== undefined && resolve(given.data) !== resolve(previous.data)) {
    throw new ConfigError(`--resume: --data ${given.data}, but ${record} was made on ${previous.data}`);
  }
}
