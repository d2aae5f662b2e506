import type { TrainBatch } from '@kd/data';

/**
 * Splits a batch into `parts` contiguous shards of nearly equal size (the first ones get the
 * remainder), for data-parallel training. Views, not copies, where the layout allows it.
 */
export function shardBatch(batch: TrainBatch, parts: number): TrainBatch[] {
  const n = batch.ids.length;
  if (parts < 1 || parts > n) throw new RangeError(`cannot split a batch of ${n} images into ${parts} shards`);
  const pixels = batch.size * batch.size * 3;
  const m = batch.maxBoxes;
  const shards: TrainBatch[] = [];
  let from = 0;
  for (let i = 0; i < parts; i++) {
    const to = from + Math.floor(n / parts) + (i < n % parts ? 1 : 0);
    shards.push({
      ids: batch.ids.slice(from, to),
      size: batch.size,
      maxBoxes: m,
      images: batch.images.subarray(from * pixels, to * pixels),
      gtBox: batch.gtBox.subarray(from * m * 4, to * m * 4),
      gtClass: batch.gtClass.subarray(from * m, to * m),
      gtScore: batch.gtScore.subarray(from * m, to * m),
      labeled: batch.labeled.subarray(from, to),
    });
    from = to;
  }
  return shards;
}
