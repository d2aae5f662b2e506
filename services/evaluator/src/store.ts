// The evaluator's state directory: one JSON file per finished evaluation, written atomically
// (temp file + rename), and per job a best.json derived from them. The evaluation files are
// the truth: best.json is rebuilt from them when the store opens, so a crash between the two
// writes loses nothing.
//
//   <state>/evaluations/<evaluation id>.json   {format, report (proto JSON), trigger, input, ...}
//   <state>/jobs/<job id>/best.json            {format, job_id, evaluation_id, step, mean_ap, best_model, ...}
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFilesAtomic } from '@kd/data';
import { apMetricName, EvaluationReport, EvaluationState } from '@kd/proto';
import type { Trigger } from './task.ts';

export const EVALUATION_FORMAT = 'kd-evaluation/1';
export const BEST_FORMAT = 'kd-evaluator-best/1';

/** A finished evaluation as stored. */
export interface StoredEvaluation {
  report: EvaluationReport;
  trigger: Trigger;
  input: 'checkpoint' | 'detections';
  /** "sha256:<hex>" of the evaluated checkpoint, when known. */
  contentHash?: string;
  createdUnixSeconds: number;
  finishedUnixSeconds: number;
  /** EvaluationDone went out (stored by the broker); false until then, or when none is due. */
  evaluationDonePublished: boolean;
}

/** best.json of a job: its best checkpoint by mean AP so far. */
export interface BestRecord {
  format: typeof BEST_FORMAT;
  job_id: string;
  evaluation_id: string;
  step: number;
  mean_ap: number;
  metric: string;
  /** Path of the best checkpoint, as the event or request gave it; nothing is copied. */
  best_model: string;
  updated_unix_seconds: number;
}

interface EvaluationFile {
  format: typeof EVALUATION_FORMAT;
  report: unknown;
  trigger: Trigger;
  input: StoredEvaluation['input'];
  content_hash?: string;
  created_unix_seconds: number;
  finished_unix_seconds: number;
  evaluation_done_published: boolean;
}

/** A file name for an id: ids from events may hold any character but '.', '*', '>' and whitespace. */
function fileName(id: string): string {
  return encodeURIComponent(id);
}

/** Whether `a` is later than `b` for "the latest report of a job": higher step, then newer. */
export function isLater(a: { step: number; created: number }, b: { step: number; created: number }): boolean {
  return a.step !== b.step ? a.step > b.step : a.created > b.created;
}

/** Whether a stored evaluation can be a job's best: a finished evaluation of one of its checkpoints. */
function bestCandidate(e: StoredEvaluation): boolean {
  return e.report.jobId !== '' && e.input === 'checkpoint' && e.report.state === EvaluationState.EVALUATION_STATE_DONE;
}

export class EvaluationStore {
  private readonly evaluations = new Map<string, StoredEvaluation>();
  private readonly bests = new Map<string, BestRecord>();

  private constructor(readonly dir: string, private readonly log: (fields: object, line: string) => void) {}

  /** Opens (creating) the state directory, loads every evaluation and brings each best.json up to date. */
  static open(dir: string, log: (fields: object, line: string) => void = () => {}): EvaluationStore {
    const store = new EvaluationStore(dir, log);
    mkdirSync(join(dir, 'evaluations'), { recursive: true });
    mkdirSync(join(dir, 'jobs'), { recursive: true });
    store.load();
    return store;
  }

  get size(): number {
    return this.evaluations.size;
  }

  get(evaluationId: string): StoredEvaluation | undefined {
    return this.evaluations.get(evaluationId);
  }

  /** The job's latest stored evaluation: highest step, then newest. */
  latest(jobId: string): StoredEvaluation | undefined {
    let latest: StoredEvaluation | undefined;
    for (const e of this.evaluations.values()) {
      if (e.report.jobId !== jobId) continue;
      if (!latest || isLater({ step: e.report.step, created: e.createdUnixSeconds }, { step: latest.report.step, created: latest.createdUnixSeconds })) latest = e;
    }
    return latest;
  }

  best(jobId: string): BestRecord | undefined {
    return this.bests.get(jobId);
  }

  /** Every job with a best.json. */
  bestJobs(): BestRecord[] {
    return [...this.bests.values()];
  }

  /** Stores a finished evaluation (replacing one of the same id); says whether it is its job's new best. */
  put(e: StoredEvaluation): { newBest: boolean } {
    this.write(e);
    this.evaluations.set(e.report.evaluationId, e);
    if (!bestCandidate(e)) return { newBest: false };
    const best = this.bests.get(e.report.jobId);
    if (best && best.evaluation_id !== e.report.evaluationId && !(e.report.meanAp > best.mean_ap)) return { newBest: false };
    this.writeBest(e);
    return { newBest: true };
  }

  /** Records that EvaluationDone of a stored evaluation went out. */
  markPublished(evaluationId: string): void {
    const e = this.evaluations.get(evaluationId);
    if (!e || e.evaluationDonePublished) return;
    const published = { ...e, evaluationDonePublished: true };
    this.write(published);
    this.evaluations.set(evaluationId, published);
  }

  private write(e: StoredEvaluation): void {
    const file: EvaluationFile = {
      format: EVALUATION_FORMAT,
      report: EvaluationReport.toJSON(e.report),
      trigger: e.trigger,
      input: e.input,
      content_hash: e.contentHash,
      created_unix_seconds: e.createdUnixSeconds,
      finished_unix_seconds: e.finishedUnixSeconds,
      evaluation_done_published: e.evaluationDonePublished,
    };
    const path = join(this.dir, 'evaluations', `${fileName(e.report.evaluationId)}.json`);
    writeFilesAtomic([{ path, content: `${JSON.stringify(file, null, 1)}\n` }]);
  }

  private writeBest(e: StoredEvaluation): void {
    const r = e.report;
    const best: BestRecord = {
      format: BEST_FORMAT, job_id: r.jobId, evaluation_id: r.evaluationId, step: r.step, mean_ap: r.meanAp,
      metric: apMetricName(r.metric), best_model: r.source, updated_unix_seconds: Date.now() / 1000,
    };
    const dir = join(this.dir, 'jobs', fileName(r.jobId));
    mkdirSync(dir, { recursive: true });
    writeFilesAtomic([{ path: join(dir, 'best.json'), content: `${JSON.stringify(best, null, 1)}\n` }]);
    this.bests.set(r.jobId, best);
  }

  private load(): void {
    const dir = join(this.dir, 'evaluations');
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (name.includes('.tmp-')) {
        rmSync(path, { force: true }); // a write cut short by a crash; its target is intact
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        const e = parseEvaluation(JSON.parse(readFileSync(path, 'utf8')));
        this.evaluations.set(e.report.evaluationId, e);
      } catch (error) {
        this.log({ file: path, err: error }, `skipping unreadable evaluation file ${path}: ${(error as Error).message}`);
      }
    }
    for (const name of readdirSync(join(this.dir, 'jobs'))) {
      const path = join(this.dir, 'jobs', name, 'best.json');
      try {
        const best = JSON.parse(readFileSync(path, 'utf8')) as BestRecord;
        if (best.format === BEST_FORMAT) this.bests.set(best.job_id, best);
      } catch {
        // rebuilt below from the evaluations
      }
    }
    // best.json follows the evaluation files: a crash may have come between the two writes.
    const derived = new Map<string, StoredEvaluation>();
    for (const e of [...this.evaluations.values()].sort((a, b) => a.createdUnixSeconds - b.createdUnixSeconds)) {
      if (!bestCandidate(e)) continue;
      const b = derived.get(e.report.jobId);
      if (!b || e.report.meanAp > b.report.meanAp) derived.set(e.report.jobId, e);
    }
    for (const [job, e] of derived) {
      const have = this.bests.get(job);
      if (!have || have.evaluation_id !== e.report.evaluationId || have.mean_ap !== e.report.meanAp) this.writeBest(e);
    }
  }
}

function parseEvaluation(value: unknown): StoredEvaluation {
  const f = value as EvaluationFile;
  if (f?.format !== EVALUATION_FORMAT) throw new Error(`format ${JSON.stringify(f?.format)}, expected ${EVALUATION_FORMAT}`);
  const report = EvaluationReport.fromJSON(f.report);
  if (report.evaluationId === '') throw new Error('report.evaluationId is missing');
  return {
    report, trigger: f.trigger, input: f.input, contentHash: f.content_hash, createdUnixSeconds: f.created_unix_seconds,
    finishedUnixSeconds: f.finished_unix_seconds, evaluationDonePublished: f.evaluation_done_published === true,
  };
}
