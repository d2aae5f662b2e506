// The client side: how a kd client reaches a server started with --tls-* / --token-file.
// Clients take their settings from environment variables (KD_TEACHER_* for the trainer's
// teacher client, KD_EVALUATOR_* for the evaluator's), so kd distill, kd serve trainer and
// the Kubernetes manifests configure them the same way, without a flag on every command.
import { credentials, type ChannelCredentials, type ClientOptions } from '@grpc/grpc-js';
import { AuthConfigError } from './errors.ts';
import { checkToken, readPem, readTokenFile } from './files.ts';
import { clientTokenInterceptor } from './token_interceptor.ts';
import { Transport } from './server_auth.ts';

/**
 * What a client needs, as plain data (it crosses to worker threads): PEM contents, the token,
 * and the name the server's certificate must carry when it is not the dialled host.
 */
export interface ClientAuth {
  /** TLS on (with the system's roots when `ca` is absent). */
  tls: boolean;
  ca?: Uint8Array;
  /** Client certificate and key, for mutual TLS. */
  cert?: Uint8Array;
  key?: Uint8Array;
  serverName?: string;
  token?: string;
}

/** The environment variables of one client, e.g. clientAuthVariables('KD_TEACHER').ca = 'KD_TEACHER_TLS_CA'. */
export function clientAuthVariables(prefix: string) {
  return {
    tls: `${prefix}_TLS`,
    ca: `${prefix}_TLS_CA`,
    cert: `${prefix}_TLS_CERT`,
    key: `${prefix}_TLS_KEY`,
    serverName: `${prefix}_TLS_SERVER_NAME`,
    token: `${prefix}_TOKEN`,
    tokenFile: `${prefix}_TOKEN_FILE`,
  };
}

/**
 * A client's settings from `<prefix>_TLS` (1: TLS with the system's roots), `<prefix>_TLS_CA`,
 * `<prefix>_TLS_CERT` + `<prefix>_TLS_KEY` (mutual TLS), `<prefix>_TLS_SERVER_NAME`, and
 * `<prefix>_TOKEN` or `<prefix>_TOKEN_FILE`. Any TLS variable turns TLS on. Throws
 * AuthConfigError naming the variable and file.
 */
export function clientAuthFromEnv(prefix: string, env: NodeJS.ProcessEnv = process.env): ClientAuth {
  const v = clientAuthVariables(prefix);
  const get = (name: string) => (env[name] ? env[name] : undefined);
  const [ca, cert, key, serverName, token, tokenFile, tlsFlag] = [v.ca, v.cert, v.key, v.serverName, v.token, v.tokenFile, v.tls].map(get);
  if (tlsFlag !== undefined && !['0', '1', 'true', 'false'].includes(tlsFlag)) throw new AuthConfigError(`${v.tls}=${tlsFlag}: expected 1 or 0`);
  if ((cert === undefined) !== (key === undefined)) throw new AuthConfigError(`${cert ? v.cert : v.key} needs ${cert ? v.key : v.cert} (mutual TLS takes both)`);
  if (token !== undefined && tokenFile !== undefined) throw new AuthConfigError(`${v.token} and ${v.tokenFile} are both set: give one`);
  const tls = tlsFlag === '1' || tlsFlag === 'true' || ca !== undefined || cert !== undefined || serverName !== undefined;
  if (!tls && tlsFlag !== undefined && (ca || cert)) throw new AuthConfigError(`${v.tls}=${tlsFlag} but TLS files are set`);
  return {
    tls,
    ...(ca ? { ca: readPem(ca, v.ca, 'CERTIFICATE') } : {}),
    ...(cert && key ? { cert: readPem(cert, v.cert, 'CERTIFICATE'), key: readPem(key, v.key, 'PRIVATE KEY') } : {}),
    ...(serverName ? { serverName } : {}),
    ...(token ? { token: checkToken(token, v.token) } : tokenFile ? { token: readTokenFile(tokenFile, v.tokenFile) } : {}),
  };
}

const buffer = (b: Uint8Array | undefined) => (b === undefined ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** The channel credentials of `auth` (insecure when TLS is off). */
export function channelCredentials(auth: ClientAuth | undefined): ChannelCredentials {
  if (!auth?.tls) return credentials.createInsecure();
  return credentials.createSsl(buffer(auth.ca), buffer(auth.key), buffer(auth.cert));
}

/** Client options that go with channelCredentials: the token interceptor and the TLS name override. */
export function clientOptions(auth: ClientAuth | undefined): Partial<ClientOptions> {
  return {
    ...(auth?.token ? { interceptors: [clientTokenInterceptor(auth.token)] } : {}),
    ...(auth?.tls && auth.serverName ? { 'grpc.ssl_target_name_override': auth.serverName, 'grpc.default_authority': auth.serverName } : {}),
  };
}

/** For logs: e.g. "mutual-tls, token" (never the token). */
export function describeClientAuth(auth: ClientAuth | undefined): string {
  const transport = !auth?.tls ? Transport.plaintext : auth.cert ? Transport.mutualTls : Transport.tls;
  return auth?.token ? `${transport}, token` : transport;
}
