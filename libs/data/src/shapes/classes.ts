// The classes of the built-in dataset. Pairs differ only by colour (red/blue circle, red/blue
// square) or only by shape (red circle/square, green triangle/diamond, yellow star/hexagon),
// so neither colour nor shape alone separates them; the generator also draws non-class
// combinations (a green circle, a red star, a cyan square, ...) as distractors.

export const ShapeKind = {
  circle: 'circle',
  square: 'square',
  triangle: 'triangle',
  diamond: 'diamond',
  hexagon: 'hexagon',
  star: 'star',
} as const;
export type ShapeKind = (typeof ShapeKind)[keyof typeof ShapeKind];

/** Class colours as HSV (hue in degrees); hues at least 45 degrees apart from each other and from distractor colours. */
export const CLASS_COLOURS = {
  red: { h: 0, s: 0.82, v: 0.86 },
  blue: { h: 226, s: 0.78, v: 0.84 },
  green: { h: 128, s: 0.72, v: 0.68 },
  yellow: { h: 52, s: 0.86, v: 0.94 },
} as const;
export type ClassColour = keyof typeof CLASS_COLOURS;

/** Colours no class has: distractors in class shapes use these. */
export const DISTRACTOR_COLOURS = [
  { h: 178, s: 0.72, v: 0.8 }, // cyan
  { h: 300, s: 0.62, v: 0.78 }, // magenta
  { h: 0, s: 0, v: 0.55 }, // grey
  { h: 40, s: 0.04, v: 0.96 }, // white
  { h: 0, s: 0, v: 0.1 }, // black
] as const;

export interface ShapeClass {
  name: string;
  shape: ShapeKind;
  colour: ClassColour;
}

/** The 8 classes, in label_list.txt order (class index = position). */
export const SHAPE_CLASSES: readonly ShapeClass[] = [
  { name: 'red_circle', shape: 'circle', colour: 'red' },
  { name: 'blue_circle', shape: 'circle', colour: 'blue' },
  { name: 'red_square', shape: 'square', colour: 'red' },
  { name: 'blue_square', shape: 'square', colour: 'blue' },
  { name: 'green_triangle', shape: 'triangle', colour: 'green' },
  { name: 'green_diamond', shape: 'diamond', colour: 'green' },
  { name: 'yellow_star', shape: 'star', colour: 'yellow' },
  { name: 'yellow_hexagon', shape: 'hexagon', colour: 'yellow' },
];

/** Class names of the built-in dataset, in index order. */
export const SHAPES_CLASS_NAMES: readonly string[] = SHAPE_CLASSES.map((c) => c.name);

/** Class-coloured shapes that are not classes (hard negatives: the model must bind colour to shape). */
export const NON_CLASS_COMBOS: ReadonlyArray<{ shape: ShapeKind; colour: ClassColour }> = (() => {
  const out: Array<{ shape: ShapeKind; colour: ClassColour }> = [];
  for (const shape of Object.values(ShapeKind)) {
    for (const colour of Object.keys(CLASS_COLOURS) as ClassColour[]) {
      if (!SHAPE_CLASSES.some((c) => c.shape === shape && c.colour === colour)) out.push({ shape, colour });
    }
  }
  return out;
})();
