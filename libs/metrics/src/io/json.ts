import { MapInputError } from './errors.ts';

/** JSON.parse with an error that names the source and, where V8 says it, the position. */
export function parseJsonText(text: string, source?: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MapInputError('', `not valid JSON: ${(error as Error).message}`, source, { cause: error });
  }
}
