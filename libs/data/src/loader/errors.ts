/** The loader cannot go on: bad options, a crashed worker, or no readable image left to substitute. */
export class LoaderError extends Error {
  override name = 'LoaderError';
}
