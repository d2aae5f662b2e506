import { isAbsolute, resolve } from 'node:path';
import type { DataProblem } from '../types.ts';

/** One `<image> <annotation>` line of a PaddleDetection list file, as absolute paths. */
export interface ListEntry {
  image: string;
  annotation: string;
}

/**
 * Parses a list file (`trainval.txt`: `<image> <xml>` per line, relative to `root`).
 * Blank lines and `#` comments are skipped; any other line without exactly two fields is a
 * 'bad-list-line' problem naming the file and line (1-based).
 */
export function parseListFile(text: string, file: string, root: string): { entries: ListEntry[]; problems: DataProblem[] } {
  const entries: ListEntry[] = [];
  const problems: DataProblem[] = [];
  const at = (p: string) => (isAbsolute(p) ? p : resolve(root, p));
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    if (fields.length !== 2) {
      problems.push({ file, kind: 'bad-list-line', message: `line ${i + 1}: expected "<image> <annotation>", got "${line}"` });
      return;
    }
    entries.push({ image: at(fields[0]), annotation: at(fields[1]) });
  });
  return { entries, problems };
}

/** Image ids of an `ImageSets/Main/<split>.txt` file: the first field of each non-blank line. */
export function parseIdList(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim().split(/\s+/)[0]).filter((id) => id !== '');
}
