import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { DataProblem } from '../types.ts';
import { checkRecordImage } from './check_image.ts';
import { resolveVocLayout } from './layout.ts';
import { readVocDataset } from './read_dataset.ts';

export interface CheckVocOptions {
  split?: string;
  classes?: readonly string[];
  /** Images decoded at once (default: the number of CPUs; sharp decodes on libuv threads). */
  concurrency?: number;
  /** Progress of each phase, in records. */
  onProgress?: (phase: 'read' | 'decode', done: number, total: number) => void;
}

/** What `kd check-data` reports about a dataset. */
export interface VocCheckReport {
  root: string;
  classes: string[];
  classSource: string;
  sources: string[];
  /** Usable records (annotation parsed, image present). */
  records: number;
  /** Records whose image decoded and matched `<size>`. */
  imagesOk: number;
  /** Kept objects per class (every class listed, 0 included) and how many are difficult. */
  objectsPerClass: Record<string, number>;
  difficult: number;
  problems: DataProblem[];
  problemsByKind: Partial<Record<DataProblem['kind'], number>>;
  /**
   * What the dataset's layout lacks, said before its problems because it explains many of them:
   * no label_list.txt (so the 20 VOC classes), no list file (so every Annotations/*.xml).
   * A Pascal VOC download lacks both and is fine; a half-written dataset lacks both too.
   */
  structure: string[];
}

/** Reads a VOC dataset and fully decodes every record's image; lists every problem found. */
export async function checkVocDataset(dir: string, options: CheckVocOptions = {}): Promise<VocCheckReport> {
  const ds = await readVocDataset(dir, {
    split: options.split,
    classes: options.classes,
    onProgress: (done, total) => options.onProgress?.('read', done, total),
  });
  const problems = [...ds.problems];
  const records = ds.records;
  let next = 0;
  let done = 0;
  let imagesOk = 0;
  const imageProblems: DataProblem[][] = new Array(records.length);
  const worker = async () => {
    while (next < records.length) {
      const i = next++;
      imageProblems[i] = await checkRecordImage(records[i]);
      if (imageProblems[i].length === 0) imagesOk++;
      options.onProgress?.('decode', ++done, records.length);
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? availableParallelism(), records.length));
  await Promise.all(Array.from({ length: workers }, worker));
  // Kept in record order, so the report does not depend on which decode finished first.
  for (const p of imageProblems) problems.push(...p);

  const objectsPerClass = Object.fromEntries(ds.classes.map((c) => [c, 0]));
  let difficult = 0;
  for (const r of records) {
    for (const o of r.objects) {
      objectsPerClass[o.name]++;
      if (o.difficult) difficult++;
    }
  }
  const problemsByKind: VocCheckReport['problemsByKind'] = {};
  for (const p of problems) problemsByKind[p.kind] = (problemsByKind[p.kind] ?? 0) + 1;
  return {
    root: ds.root, classes: ds.classes, classSource: ds.classSource, sources: ds.sources,
    records: records.length, imagesOk, objectsPerClass, difficult, problems, problemsByKind,
    structure: missingStructure(dir, options, ds.classSource, problemsByKind['unknown-class'] ?? 0),
  };
}

function missingStructure(dir: string, options: CheckVocOptions, classSource: string, unknownClasses: number): string[] {
  const layout = resolveVocLayout(dir);
  const notes: string[] = [];
  if (classSource === 'VOC_CLASSES') {
    notes.push(`no label_list.txt in ${layout.root}: the classes are the 20 Pascal VOC ones${unknownClasses > 0
      ? `, which ${unknownClasses} objects do not name (unknown-class below: a dataset that needs its label_list.txt, or was not completely written?)` : ''}`);
  }
  const hasLists = ['trainval.txt', 'test.txt'].some((f) => existsSync(join(layout.root, f)))
    || layout.yearDirs.some((d) => existsSync(join(d, 'ImageSets', 'Main')) && readdirSync(join(d, 'ImageSets', 'Main')).some((f) => f.endsWith('.txt')));
  if (options.split === undefined && layout.listFile === null && !hasLists) {
    notes.push(`no list file (trainval.txt, test.txt or ImageSets/Main/*.txt) in ${layout.root}: every Annotations/*.xml was read, and training needs a split (kd split-voc writes them)`);
  }
  return notes;
}
