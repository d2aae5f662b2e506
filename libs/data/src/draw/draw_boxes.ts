import sharp from 'sharp';

/** A box to draw: pixel corners, a label and a score. */
export interface LabelledBox {
  bbox: [number, number, number, number];
  label: string;
  score: number;
}

const PALETTE = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c', '#fabebe'];

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Writes a JPEG of `imagePath` with the boxes drawn (colour per label, "label 0.93" above each). */
export async function drawBoxes(imagePath: string, boxes: LabelledBox[], outPath: string): Promise<void> {
  const image = sharp(imagePath);
  const { width = 0, height = 0 } = await image.metadata();
  const labels = [...new Set(boxes.map((b) => b.label))].sort();
  const stroke = Math.max(1, Math.round(Math.min(width, height) / 200));
  const font = Math.max(9, Math.round(Math.min(width, height) / 40));
  const shapes = boxes.map((b) => {
    const [x1, y1, x2, y2] = b.bbox;
    const colour = PALETTE[labels.indexOf(b.label) % PALETTE.length];
    const text = `${escapeXml(b.label)} ${b.score.toFixed(2)}`;
    const ty = y1 > font + 2 ? y1 - 3 : y1 + font + 1;
    return `<rect x="${x1}" y="${y1}" width="${Math.max(1, x2 - x1)}" height="${Math.max(1, y2 - y1)}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>`
      + `<text x="${x1 + 1}" y="${ty}" font-size="${font}" font-family="sans-serif" fill="${colour}" stroke="#000" stroke-width="0.4">${text}</text>`;
  });
  const svg = `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">${shapes.join('')}</svg>`;
  await image.composite([{ input: Buffer.from(svg) }]).jpeg({ quality: 90 }).toFile(outPath);
}
