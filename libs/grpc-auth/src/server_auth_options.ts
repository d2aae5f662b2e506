// The --tls-* and --token-file flags every kd gRPC server takes, in one place.
import type { Command } from 'commander';
import type { ServerAuthSettings } from './server_auth.ts';

/** Adds --tls-cert, --tls-key, --tls-ca and --token-file to a service's command. */
export function addServerAuthOptions(command: Command): Command {
  return command
    .option('--tls-cert <file>', 'PEM certificate (chain) of this server: gRPC over TLS (needs --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--tls-ca <file>', 'PEM CA bundle: mutual TLS, every client must show a certificate this CA signed')
    .option('--token-file <file>', 'file holding a bearer token every call must carry ("authorization: Bearer TOKEN"; else UNAUTHENTICATED); grpc.health.v1 stays open for probes');
}

/** The auth flags of a parsed command (paths only; serverAuth reads and checks them). */
export function serverAuthSettings(opts: Record<string, unknown>): ServerAuthSettings {
  const path = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { tlsCert: path(opts.tlsCert), tlsKey: path(opts.tlsKey), tlsCa: path(opts.tlsCa), tokenFile: path(opts.tokenFile) };
}
