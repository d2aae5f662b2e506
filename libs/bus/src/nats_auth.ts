// NATS credentials of every kd process, from the environment (the Kubernetes Secret or the
// compose file sets them; no flag on every command): NATS_CREDS (a .creds file: user JWT and
// NKey seed, as nsc writes it), or NATS_USER + NATS_PASSWORD, or NATS_TOKEN. Errors name the
// variable and never print a secret.
import { readFileSync } from 'node:fs';
import { credsAuthenticator, type ConnectionOptions } from 'nats';
import { BusConfigError } from './types.ts';

/** The variables read, in one place for the docs and the manifests. */
export const NATS_AUTH_VARIABLES = { creds: 'NATS_CREDS', user: 'NATS_USER', password: 'NATS_PASSWORD', token: 'NATS_TOKEN' } as const;

/** The connect options of the credentials in `env` ({} when none is set); throws BusConfigError. */
export function natsAuthOptions(env: NodeJS.ProcessEnv = process.env): Partial<ConnectionOptions> {
  const v = NATS_AUTH_VARIABLES;
  const creds = env[v.creds] || undefined;
  const user = env[v.user] || undefined;
  const password = env[v.password] || undefined;
  const token = env[v.token] || undefined;
  const kinds = [creds && v.creds, (user || password) && `${v.user}/${v.password}`, token && v.token].filter(Boolean);
  if (kinds.length > 1) throw new BusConfigError(`NATS credentials: ${kinds.join(' and ')} are both set; give one kind`);
  if (creds) {
    let text: string;
    try {
      text = readFileSync(creds, 'utf8');
    } catch (error) {
      throw new BusConfigError(`${v.creds}=${creds}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    if (!/-----BEGIN NATS USER JWT-----/.test(text) || !/-----BEGIN USER NKEY SEED-----/.test(text)) {
      throw new BusConfigError(`${v.creds}=${creds}: not a NATS .creds file (it needs a "BEGIN NATS USER JWT" and a "BEGIN USER NKEY SEED" block; nsc generate creds writes one)`);
    }
    return { authenticator: credsAuthenticator(new TextEncoder().encode(text)) };
  }
  if (user || password) {
    if (!user || !password) throw new BusConfigError(`${user ? v.user : v.password} is set without ${user ? v.password : v.user}: give both`);
    return { user, pass: password };
  }
  return token ? { token } : {};
}
