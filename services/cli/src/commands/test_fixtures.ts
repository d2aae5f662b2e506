// Helpers for the CLI tests (spawn the real bin; write small VOC datasets to temp folders).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const kd = fileURLToPath(new URL('../../bin/kd.js', import.meta.url));

export interface KdRun { status: number | null; stdout: string; stderr: string }

/** Runs `kd ...args` asynchronously, so independent cases can run side by side. */
export function runKd(...args: string[]): Promise<KdRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [kd, ...args], { env: { ...process.env, KD_BACKEND: 'wasm' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const made: string[] = [];
process.on('exit', () => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A fresh temp folder, removed at process exit. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kd-cli-'));
  made.push(dir);
  return dir;
}

export function writeText(path: string, text: string | Buffer): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** A real 24x16 JPEG (made with sharp: a flat colour, quality 50), so these tests need no encoder. */
export const JPEG_24x16 = Buffer.from(
  '/9j/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAQABgDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAX/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFQEBAQAAAAAAAAAAAAAAAAAAAAT/xAAUEQEAAAAAAAAAAAAAAAAAAAAA/9oADAMBAAIRAxEAPwCUAiVgAP/Z',
  'base64',
);

/** A VOC annotation; objects as [name, xmin, ymin, xmax, ymax, difficult?]. */
export function vocXml(width: number, height: number, objects: Array<[string, number, number, number, number, number?]>): string {
  const obj = ([name, x1, y1, x2, y2, difficult]: (typeof objects)[number]) =>
    `<object><name>${name}</name><truncated>0</truncated>${difficult === undefined ? '' : `<difficult>${difficult}</difficult>`}<bndbox><xmin>${x1}</xmin><ymin>${y1}</ymin><xmax>${x2}</xmax><ymax>${y2}</ymax></bndbox></object>`;
  return `<annotation><folder>VOC2012</folder><size><width>${width}</width><height>${height}</height><depth>3</depth></size>${objects.map(obj).join('')}</annotation>`;
}
