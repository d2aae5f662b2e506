/** A config that cannot be read or does not validate; the message names the file and key. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
