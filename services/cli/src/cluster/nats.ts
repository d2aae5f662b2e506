// The bus of `kd cluster`: NATS_URL when set, else a private nats-server of its own (never the
// machine's shared one at 127.0.0.1:4222 unless NATS_URL names it).
import { accessSync, constants, mkdtempSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { portOpen } from '@kd/bus';
import type { StartProcessOptions } from './process.ts';

/** Where nats-server is looked for first (Debian's package), before PATH. */
export const NATS_SERVER_PATHS = ['/usr/sbin/nats-server'];

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The nats-server binary: $KD_NATS_SERVER if set (a path; "none" for none), else one of `paths`,
 * else the first `nats-server` on `searchPath`; undefined if there is none.
 */
export function findNatsServer(paths: readonly string[] = NATS_SERVER_PATHS, searchPath = process.env.PATH ?? '', override = process.env.KD_NATS_SERVER): string | undefined {
  if (override) return override !== 'none' && executable(override) ? override : undefined;
  for (const p of paths) if (executable(p)) return p;
  for (const dir of searchPath.split(delimiter)) {
    if (dir !== '' && executable(join(dir, 'nats-server'))) return join(dir, 'nats-server');
  }
  return undefined;
}

/** The one line kd cluster prints (then exits 2) when it has no bus. */
export const NO_NATS_MESSAGE =
  'no NATS: NATS_URL is not set and there is no nats-server to start (looked at $KD_NATS_SERVER, /usr/sbin and PATH). ' +
  'Run `kd demo` (the same comparison in one process, no bus needed), install nats-server ' +
  '(https://github.com/nats-io/nats-server/releases, or apt install nats-server), or set NATS_URL=nats://HOST:4222 (JetStream on).';

/**
 * The start options of a private JetStream nats-server on 127.0.0.1 with a port it picks
 * (`-p -1`, no race for a free port) and its store in a fresh folder under `workDir`.
 * Ready resolves with its URL, nats://127.0.0.1:PORT.
 */
export function privateNatsServer(binary: string, workDir: string, logFile: string): { options: StartProcessOptions<string>; storeDir: string } {
  const storeDir = mkdtempSync(join(workDir, 'nats-'));
  return {
    storeDir,
    options: {
      name: 'nats-server',
      command: binary,
      args: ['-js', '-a', '127.0.0.1', '-p', '-1', '-sd', storeDir],
      logFile,
      timeoutMs: 30_000,
      ready: (_stdout, stderr) => {
        const m = /Listening for client connections on (\S+)/.exec(stderr);
        return m && stderr.includes('Server is ready') ? `nats://${m[1]}` : undefined;
      },
    },
  };
}

/** Whether any server of a NATS URL list (comma-separated) accepts a TCP connection within `timeoutMs`. */
export async function natsReachable(urls: string, timeoutMs = 3000): Promise<boolean> {
  const tries = urls.split(',').map((u) => u.trim()).filter(Boolean).map((u) => {
    let host: string;
    let port: number;
    try {
      const parsed = new URL(u.includes('://') ? u : `nats://${u}`);
      host = parsed.hostname.replace(/^\[|\]$/g, '');
      port = Number(parsed.port || 4222);
    } catch {
      return Promise.resolve(false);
    }
    return portOpen(port, host, timeoutMs);
  });
  return (await Promise.all(tries)).some(Boolean);
}
