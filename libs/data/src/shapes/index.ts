export { SHAPE_CLASSES, SHAPES_CLASS_NAMES, type ShapeClass } from './classes.ts';
export { renderScene, type Scene, type SceneObject } from './scene.ts';
export { vocAnnotationXml } from './voc_xml.ts';
export { generateShapesDataset, SHAPES_DEFAULTS, ShapesDatasetError, type ShapesDataset, type ShapesDatasetOptions } from './generate.ts';
