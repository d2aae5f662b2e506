// Reading the files behind --tls-* / --token-file and their KD_*_ variables, with errors that
// name the setting and the file (and never print a token).
import { readFileSync } from 'node:fs';
import { AuthConfigError } from './errors.ts';

function read(file: string, setting: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AuthConfigError(`${setting} ${file}: cannot read it (${code ?? (error as Error).message})`);
  }
}

/**
 * The PEM file of a certificate, key or CA bundle; `kind` is what the PEM header must say
 * (CERTIFICATE, or PRIVATE KEY which also matches RSA/EC PRIVATE KEY).
 */
export function readPem(file: string, setting: string, kind: 'CERTIFICATE' | 'PRIVATE KEY'): Buffer {
  const pem = read(file, setting);
  const header = new RegExp(`-----BEGIN ([A-Z]+ )?${kind}-----`);
  if (!header.test(pem.toString('latin1'))) {
    throw new AuthConfigError(`${setting} ${file}: not a PEM ${kind.toLowerCase()} (no "-----BEGIN ${kind}-----" line)`);
  }
  return pem;
}

/** Printable ASCII without spaces: what an HTTP/2 header value (the authorization metadata) can carry. */
const TOKEN = /^[\x21-\x7e]+$/;

/** Checks a token's characters; the error names where it came from, never the token. */
export function checkToken(token: string, setting: string): string {
  if (token.length === 0) throw new AuthConfigError(`${setting}: the token is empty`);
  if (!TOKEN.test(token)) throw new AuthConfigError(`${setting}: the token must be printable ASCII without spaces (it travels as "authorization: Bearer TOKEN")`);
  return token;
}

/** A token file: one token, surrounding whitespace (a trailing newline) ignored. */
export function readTokenFile(file: string, setting: string): string {
  return checkToken(read(file, setting).toString('utf8').trim(), `${setting} ${file}`);
}
