// The server side: --tls-cert/--tls-key (TLS), --tls-ca (mutual TLS: clients need a
// certificate the CA signed) and --token-file (a bearer token on every call), as grpc-js
// credentials and interceptors. Every file is read and checked before the server starts.
import { createSecureContext } from 'node:tls';
import { ServerCredentials, type ServerInterceptor } from '@grpc/grpc-js';
import { AuthConfigError } from './errors.ts';
import { readPem, readTokenFile } from './files.ts';
import { serverTokenInterceptor, type RefusedCall } from './token_interceptor.ts';

/** File paths as given on the command line; all optional (none: plaintext, no token). */
export interface ServerAuthSettings {
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tokenFile?: string;
}

export const Transport = { plaintext: 'plaintext', tls: 'tls', mutualTls: 'mutual-tls' } as const;
export type Transport = (typeof Transport)[keyof typeof Transport];

export interface ServerAuth {
  credentials: ServerCredentials;
  transport: Transport;
  /** Whether every call (but health checks) must carry the token. */
  token: boolean;
  /** The interceptors to give new Server({ interceptors }); `onRefused` hears of each call refused for its token. */
  interceptors(onRefused: (call: RefusedCall) => void): ServerInterceptor[];
}

/** Reads and checks the files of `s`; throws AuthConfigError naming the flag and file. */
export function serverAuth(s: ServerAuthSettings): ServerAuth {
  if ((s.tlsCert === undefined) !== (s.tlsKey === undefined)) {
    throw new AuthConfigError(s.tlsCert ? '--tls-cert needs --tls-key (the certificate\'s private key)' : '--tls-key needs --tls-cert (the certificate it belongs to)');
  }
  if (s.tlsCa !== undefined && s.tlsCert === undefined) {
    throw new AuthConfigError('--tls-ca (mutual TLS: clients must show a certificate this CA signed) needs --tls-cert and --tls-key');
  }
  let credentials = ServerCredentials.createInsecure();
  let transport: Transport = Transport.plaintext;
  if (s.tlsCert !== undefined && s.tlsKey !== undefined) {
    const cert = readPem(s.tlsCert, '--tls-cert', 'CERTIFICATE');
    const key = readPem(s.tlsKey, '--tls-key', 'PRIVATE KEY');
    const ca = s.tlsCa === undefined ? null : readPem(s.tlsCa, '--tls-ca', 'CERTIFICATE');
    try {
      // what grpc-js would only find out at bind time, with a vaguer message
      createSecureContext({ cert, key, ...(ca ? { ca } : {}) });
    } catch (error) {
      throw new AuthConfigError(`--tls-cert ${s.tlsCert} / --tls-key ${s.tlsKey}${ca ? ` / --tls-ca ${s.tlsCa}` : ''}: ${(error as Error).message}`);
    }
    credentials = ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null);
    transport = ca ? Transport.mutualTls : Transport.tls;
  }
  const token = s.tokenFile === undefined ? undefined : readTokenFile(s.tokenFile, '--token-file');
  return {
    credentials,
    transport,
    token: token !== undefined,
    interceptors: (onRefused) => (token === undefined ? [] : [serverTokenInterceptor(token, onRefused)]),
  };
}
