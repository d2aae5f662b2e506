export * from './types.ts';
export * from './voc/index.ts';
export * from './split/index.ts';
