// Writes a Pascal VOC annotation, laid out as the VOC2012 files are (tab indented).
import type { VocObject } from '../types.ts';

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The XML text of one annotation; boxes are VOC's 1-based inclusive integer pixel corners. */
export function vocAnnotationXml(filename: string, width: number, height: number, objects: readonly VocObject[], folder = 'VOC2012'): string {
  const lines = [
    '<annotation>',
    `\t<folder>${escapeXml(folder)}</folder>`,
    `\t<filename>${escapeXml(filename)}</filename>`,
    '\t<source>',
    '\t\t<database>kd shapes</database>',
    '\t</source>',
    '\t<size>',
    `\t\t<width>${width}</width>`,
    `\t\t<height>${height}</height>`,
    '\t\t<depth>3</depth>',
    '\t</size>',
    '\t<segmented>0</segmented>',
  ];
  for (const o of objects) {
    const [xmin, ymin, xmax, ymax] = o.bbox;
    lines.push(
      '\t<object>',
      `\t\t<name>${escapeXml(o.name)}</name>`,
      '\t\t<pose>Unspecified</pose>',
      `\t\t<truncated>${o.truncated ? 1 : 0}</truncated>`,
      `\t\t<difficult>${o.difficult ? 1 : 0}</difficult>`,
      '\t\t<bndbox>',
      `\t\t\t<xmin>${xmin}</xmin>`,
      `\t\t\t<ymin>${ymin}</ymin>`,
      `\t\t\t<xmax>${xmax}</xmax>`,
      `\t\t\t<ymax>${ymax}</ymax>`,
      '\t\t</bndbox>',
      '\t</object>',
    );
  }
  lines.push('</annotation>', '');
  return lines.join('\n');
}
