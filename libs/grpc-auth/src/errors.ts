/** A TLS or token setting that cannot be used; the message names the flag or variable and the file. */
export class AuthConfigError extends Error {
  override name = 'AuthConfigError';
}
