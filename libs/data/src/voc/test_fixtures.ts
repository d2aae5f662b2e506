// Test helpers (not exported from the package): real VOC files in a temp folder.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

export interface FixtureObject {
  name: string;
  bbox: [number, number, number, number];
  difficult?: 0 | 1;
  truncated?: 0 | 1;
}

/** A VOC XML as the devkit writes it (difficult left out when undefined). */
export function vocXml(filename: string, width: number, height: number, objects: FixtureObject[]): string {
  const obj = (o: FixtureObject) => `
  <object>
    <name>${o.name}</name>
    <pose>Unspecified</pose>
    ${o.truncated === undefined ? '' : `<truncated>${o.truncated}</truncated>`}
    <occluded>0</occluded>
    <bndbox><xmin>${o.bbox[0]}</xmin><ymin>${o.bbox[1]}</ymin><xmax>${o.bbox[2]}</xmax><ymax>${o.bbox[3]}</ymax></bndbox>
    ${o.difficult === undefined ? '' : `<difficult>${o.difficult}</difficult>`}
  </object>`;
  return `<annotation>
  <folder>VOC2012</folder>
  <filename>${filename}</filename>
  <source><database>The VOC2008 Database</database><annotation>PASCAL VOC2008</annotation></source>
  <size><width>${width}</width><height>${height}</height><depth>3</depth></size>
  <segmented>0</segmented>${objects.map(obj).join('')}
</annotation>
`;
}

const made: string[] = [];
// Removed when the test process exits, pass or fail.
process.on('exit', () => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A fresh temp folder, removed at process exit. */
export function tempDir(prefix = 'kd-voc-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function writeText(path: string, text: string | Buffer): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** Writes a real JPEG of the given size (a flat colour). */
export async function writeJpeg(path: string, width: number, height: number): Promise<string> {
  mkdirSync(dirname(path), { recursive: true });
  await sharp({ create: { width, height, channels: 3, background: { r: 120, g: 80, b: 40 } } }).jpeg().toFile(path);
  return path;
}

/** One image + annotation in a VOC20xx folder. */
export async function writeVocPair(yearDir: string, id: string, width: number, height: number, objects: FixtureObject[]): Promise<void> {
  await writeJpeg(join(yearDir, 'JPEGImages', `${id}.jpg`), width, height);
  writeText(join(yearDir, 'Annotations', `${id}.xml`), vocXml(`${id}.jpg`, width, height, objects));
}
