export * from './types.ts';
export * from './voc/index.ts';
export * from './split/index.ts';
export * from './random.ts';
export * from './shapes/index.ts';
export * from './transforms/index.ts';
export * from './loader/index.ts';
export * from './draw/draw_boxes.ts';
