import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, relative, resolve } from 'node:path';
import type { DataProblem } from '../types.ts';
import { VocDatasetError } from './errors.ts';
import type { VocLayout } from './layout.ts';
import { parseIdList, parseListFile } from './list_file.ts';

/** One image/annotation pair to read. */
export interface VocEntry {
  /** Image file stem, the record id. */
  id: string;
  image: string;
  annotation: string;
  /** True when `image` is only the JPEGImages/<id>.jpg convention (the XML's <filename> may say otherwise). */
  imageGuessed: boolean;
}

/** The entries of a dataset, where they were listed, and problems with the listing itself. */
export interface VocEntries {
  entries: VocEntry[];
  /** The list files read, or the Annotations folders scanned. */
  sources: string[];
  problems: DataProblem[];
}

const isFile = (p: string) => existsSync(p) && statSync(p).isFile();
const stem = (p: string) => basename(p, extname(p));

/**
 * Lists the entries of a dataset. With `split`: a list file `<root>/<split>` or
 * `<root>/<split>.txt` (`<image> <xml>` lines), else `ImageSets/Main/<split>.txt` of every
 * year folder that has one (ids; VOC2007+VOC2012 trainval reads both). Without: the list file
 * the argument named, else every Annotations/*.xml. Throws VocDatasetError when nothing matches.
 */
export function listVocEntries(layout: VocLayout, split?: string): VocEntries {
  if (split === undefined && layout.listFile !== null) return fromListFile(layout.listFile, layout.root);
  if (split !== undefined) {
    for (const candidate of [resolve(layout.root, split), resolve(layout.root, `${split}.txt`)]) {
      if (isFile(candidate)) return fromListFile(candidate, layout.root);
    }
    const idFiles = layout.yearDirs.map((d) => join(d, 'ImageSets', 'Main', `${split}.txt`)).filter(isFile);
    if (idFiles.length === 0) {
      const tried = [`${split}`, `${split}.txt`].map((f) => join(layout.root, f));
      const sets = layout.yearDirs.map((d) => join(relative(layout.root, d) || '.', 'ImageSets', 'Main', `${split}.txt`));
      throw new VocDatasetError(layout.root, `no list file for split "${split}" (looked for ${[...tried, ...sets].join(', ')})`);
    }
    return fromIdFiles(idFiles);
  }
  return fromAnnotations(layout);
}

function fromListFile(file: string, root: string): VocEntries {
  const { entries, problems } = parseListFile(readFileSync(file, 'utf8'), file, root);
  return dedupe(entries.map((e) => ({ id: stem(e.image), image: e.image, annotation: e.annotation, imageGuessed: false })), [file], problems, file);
}

function fromIdFiles(files: string[]): VocEntries {
  const entries: VocEntry[] = [];
  for (const file of files) {
    const year = resolve(file, '..', '..', '..');
    for (const id of parseIdList(readFileSync(file, 'utf8'))) {
      entries.push({ id, image: join(year, 'JPEGImages', `${id}.jpg`), annotation: join(year, 'Annotations', `${id}.xml`), imageGuessed: true });
    }
  }
  return dedupe(entries, files, [], files.join(', '));
}

function fromAnnotations(layout: VocLayout): VocEntries {
  const dirs = layout.yearDirs.map((d) => join(d, 'Annotations')).filter((d) => existsSync(d));
  if (dirs.length === 0) {
    throw new VocDatasetError(layout.root, 'no VOC layout here: expected Annotations/ and JPEGImages/, VOC20xx/ folders holding them, a VOCdevkit/ folder, or a list file');
  }
  const entries: VocEntry[] = [];
  for (const dir of dirs) {
    for (const name of readdirSync(dir).filter((n) => n.toLowerCase().endsWith('.xml')).sort()) {
      const id = stem(name);
      entries.push({ id, image: join(dir, '..', 'JPEGImages', `${id}.jpg`), annotation: join(dir, name), imageGuessed: true });
    }
  }
  return dedupe(entries, dirs, [], dirs.join(', '));
}

// Record ids must be unique (results and detections are keyed by them); a second entry with
// the same image stem is reported and skipped rather than silently shadowing the first.
function dedupe(entries: VocEntry[], sources: string[], problems: DataProblem[], where: string): VocEntries {
  const seen = new Map<string, VocEntry>();
  const kept: VocEntry[] = [];
  for (const e of entries) {
    const first = seen.get(e.id);
    if (first) {
      problems.push({ file: where, kind: 'bad-list-line', message: `image id "${e.id}" appears twice (${first.image} and ${e.image}); the second is skipped` });
      continue;
    }
    seen.set(e.id, e);
    kept.push(e);
  }
  return { entries: kept, sources, problems };
}
