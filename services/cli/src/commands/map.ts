import { readFileSync, statSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { exitTwoOnUsageError } from './common.ts';
import { readVocDataset, VocDatasetError, type DataProblem } from '@kd/data';
import {
  ApMetric, evaluateVoc, MapInputError, parseDetections, parseGroundTruth, parseJsonText,
  type Detection, type GroundTruthSet, type VocEvaluation,
} from '@kd/metrics';

/** Bad input the user must fix; the command prints it and exits 2. */
class MapCommandError extends Error {
  override name = 'MapCommandError';
}

const MAX_LISTED_PROBLEMS = 20;

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new MapCommandError(`${what} ${path}: cannot read: ${(error as Error).message}`, { cause: error });
  }
}

// A VOC dataset's problems do not stop the evaluation (a skipped record only matters if a
// detection names it, which is then an error), so they are warnings here.
function warnProblems(problems: DataProblem[]): void {
  for (const p of problems.slice(0, MAX_LISTED_PROBLEMS)) process.stderr.write(`kd map: warning: ${p.file}: ${p.kind}: ${p.message}\n`);
  if (problems.length > MAX_LISTED_PROBLEMS) {
    process.stderr.write(`kd map: warning: ... and ${problems.length - MAX_LISTED_PROBLEMS} more (kd check-data lists them all)\n`);
  }
}

/** Ground truth from a VOC dataset (a folder or a list file) or a JSON file. */
async function loadGroundTruth(path: string, split: string | undefined): Promise<GroundTruthSet> {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (error) {
    throw new MapCommandError(`--gt ${path}: does not exist`, { cause: error });
  }
  if (isDir || path.endsWith('.txt')) {
    const ds = await readVocDataset(path, { split, requireImages: false });
    warnProblems(ds.problems);
    return {
      classes: ds.classes,
      images: ds.records.map((r) => ({
        id: r.id, width: r.width, height: r.height,
        objects: r.objects.map((o) => ({ class: o.name, bbox: o.bbox, difficult: o.difficult })),
      })),
    };
  }
  if (split !== undefined) throw new MapCommandError(`--split applies to a VOC dataset; --gt ${path} is a JSON file`);
  return parseGroundTruth(parseJsonText(readText(path, '--gt'), path), path);
}

function formatTable(gt: GroundTruthSet, dets: Detection[], result: VocEvaluation, iou: number, metric: ApMetric): string {
  const positives = new Map(gt.classes.map((c) => [c, 0]));
  const detections = new Map(gt.classes.map((c) => [c, 0]));
  for (const im of gt.images) for (const o of im.objects) if (!o.difficult) positives.set(o.class, positives.get(o.class)! + 1);
  for (const d of dets) detections.set(d.class, detections.get(d.class)! + 1);
  const w = Math.max(5, ...gt.classes.map((c) => c.length)) + 2;
  const lines = [`${'class'.padEnd(w)}${'AP %'.padStart(8)}${'#gt'.padStart(8)}${'#det'.padStart(9)}`];
  for (const c of gt.classes) {
    // '-': no non-difficult ground truth, so the class is left out of the mean
    const ap = c in result.perClass ? (100 * result.perClass[c]).toFixed(2) : '-';
    lines.push(`${c.padEnd(w)}${ap.padStart(8)}${String(positives.get(c)).padStart(8)}${String(detections.get(c)).padStart(9)}`);
  }
  lines.push(`mAP(${iou.toFixed(2)}, ${metric}) = ${(100 * result.mAP).toFixed(2)}%`);
  return `${lines.join('\n')}\n`;
}

function iouThreshold(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`expected a number in (0, 1), got "${value}"`);
  return n;
}

interface MapOptions { gt: string; detections: string; metric: ApMetric; iou: number; split?: string; json?: boolean }

/** `kd map`: VOC mAP of detections against ground truth. */
export function mapCommand(): Command {
  return exitTwoOnUsageError(new Command('map'))
    .description('VOC mAP of detections (JSON) against ground truth (a VOC dataset or JSON); exit 2 on bad input')
    .requiredOption('--gt <path>', 'VOC20xx folder / VOCdevkit / folder holding VOCdevkit / list file, or a ground-truth JSON file')
    .requiredOption('--detections <file>', 'JSON array of {image_id, class, score, bbox: [x1, y1, x2, y2]}')
    .addOption(new Option('--metric <m>', 'how AP summarises precision/recall').choices(Object.values(ApMetric)).default(ApMetric.elevenPoint))
    .option('--iou <t>', 'IoU a match must exceed', iouThreshold, 0.5)
    .option('--split <name>', 'with a VOC --gt: list file at the root (test, trainval.txt) or ImageSets/Main split')
    .option('--json', 'print one JSON object {"mAP", "per_class"} instead of the table')
    .action(async (opts: MapOptions) => {
      try {
        const gt = await loadGroundTruth(opts.gt, opts.split);
        const dets = parseDetections(parseJsonText(readText(opts.detections, '--detections'), opts.detections), gt, opts.detections);
        // valid, but almost surely not what was meant (an empty run, the wrong file): every AP is then 0
        if (dets.length === 0) process.stderr.write(`kd map: warning: --detections ${opts.detections} holds no detections (an empty list): every AP is 0\n`);
        const result = evaluateVoc(gt.images, dets, gt.classes, opts.metric, opts.iou);
        process.stdout.write(opts.json ? `${JSON.stringify({ mAP: result.mAP, per_class: result.perClass })}\n` : formatTable(gt, dets, result, opts.iou, opts.metric));
      } catch (error) {
        if (!(error instanceof MapCommandError || error instanceof MapInputError || error instanceof VocDatasetError)) throw error;
        process.stderr.write(`kd map: ${error.message}\n`);
        process.exitCode = 2;
      }
    });
}
