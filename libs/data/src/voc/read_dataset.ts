import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DataProblem, VocRecord } from '../types.ts';
import { listVocEntries, type VocEntry } from './entries.ts';
import { VocAnnotationError } from './errors.ts';
import { resolveClasses } from './labels.ts';
import { resolveVocLayout } from './layout.ts';
import { parseVocAnnotation } from './parse_annotation.ts';
import { validateAnnotation } from './validate.ts';

export interface ReadVocOptions {
  /** A list file at the dataset root (`trainval`, `test.txt`) or an `ImageSets/Main` split name. */
  split?: string;
  /** Class names in index order; default: label_list.txt beside the data, else VOC_CLASSES. */
  classes?: readonly string[];
  /** Skip records whose image file is missing (default true); mAP needs only the annotations. */
  requireImages?: boolean;
  /** Called every few hundred records and at the end, with counts of entries. */
  onProgress?: (done: number, total: number) => void;
}

export interface VocDataset {
  /** Absolute folder list files and label_list.txt are relative to. */
  root: string;
  /** Usable records only, in list order; their objects exclude dropped (bad or unknown) ones. */
  records: VocRecord[];
  classes: string[];
  /** Where `classes` came from: 'given', a label_list.txt path, or 'VOC_CLASSES'. */
  classSource: string;
  /** The list files read or Annotations folders scanned. */
  sources: string[];
  /** Every problem found; a problem never stops the read (see validateAnnotation for the policy). */
  problems: DataProblem[];
}

const YIELD_EVERY = 500;

/**
 * Reads a VOC dataset (see resolveVocLayout for the accepted layouts, listVocEntries for
 * splits). Records with a missing or malformed annotation or a missing image are skipped and
 * reported; throws VocDatasetError only when the argument itself is unusable.
 */
export async function readVocDataset(dir: string, options: ReadVocOptions = {}): Promise<VocDataset> {
  const layout = resolveVocLayout(dir);
  const listed = listVocEntries(layout, options.split);
  const { classes, source } = resolveClasses(options.classes, [layout.root, ...layout.yearDirs]);
  const classSet = new Set(classes);
  const requireImages = options.requireImages ?? true;
  const records: VocRecord[] = [];
  const problems = [...listed.problems];
  const total = listed.entries.length;
  for (let i = 0; i < total; i++) {
    const record = readEntry(listed.entries[i], classSet, requireImages, problems);
    if (record) records.push(record);
    if ((i + 1) % YIELD_EVERY === 0) {
      options.onProgress?.(i + 1, total);
      // Reading is synchronous; give timers (progress output) and signals a turn now and then.
      await new Promise((r) => setImmediate(r));
    }
  }
  options.onProgress?.(total, total);
  return { root: layout.root, records, classes, classSource: source, sources: listed.sources, problems };
}

function readEntry(entry: VocEntry, classes: ReadonlySet<string>, requireImages: boolean, problems: DataProblem[]): VocRecord | null {
  let xml: string;
  try {
    xml = readFileSync(entry.annotation, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.push({ file: entry.annotation, kind: 'missing-file', message: code === 'ENOENT' ? `annotation file not found (image ${entry.image}); record skipped` : `cannot read the annotation: ${(error as Error).message}; record skipped` });
    return null;
  }
  let ann;
  try {
    ann = parseVocAnnotation(xml, entry.annotation);
  } catch (error) {
    if (!(error instanceof VocAnnotationError)) throw error;
    problems.push({ ...error.problem, message: `${error.problem.message}; record skipped` });
    return null;
  }
  const checked = validateAnnotation(ann, entry.annotation, classes);
  problems.push(...checked.problems);
  if (!checked.usable) return null;
  let image = entry.image;
  // A hand-made dataset may store PNGs or differently named files; its <filename> then says which.
  if (entry.imageGuessed && !existsSync(image) && ann.filename) {
    const named = join(dirname(image), ann.filename);
    if (existsSync(named)) image = named;
  }
  if (requireImages && !existsSync(image)) {
    problems.push({ file: image, kind: 'missing-file', message: `image file not found (annotation ${entry.annotation}); record skipped` });
    return null;
  }
  return { id: entry.id, imagePath: image, annotationPath: entry.annotation, width: ann.width, height: ann.height, objects: checked.objects };
}
