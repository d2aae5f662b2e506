import { renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Writes several files so that each is either its old or its complete new content: all are
 * written to temporary names beside their targets first, then renamed over them.
 */
export function writeFilesAtomic(files: ReadonlyArray<{ path: string; content: string }>): void {
  const tmp = files.map((f) => `${f.path}.tmp-${process.pid}`);
  try {
    files.forEach((f, i) => writeFileSync(tmp[i], f.content));
    files.forEach((f, i) => renameSync(tmp[i], f.path));
  } finally {
    for (const t of tmp) rmSync(t, { force: true });
  }
}
