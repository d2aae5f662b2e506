// The cli starts services as child processes and never imports them (a service is a process;
// Nx forbids importing an application). This file knows where each service's entry is.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Entry of each service, run with `node --import tsx ENTRY ...flags`. */
export const SERVICE_ENTRIES = {
  teacher: fileURLToPath(new URL('../../teacher/src/main.ts', import.meta.url)),
  trainer: fileURLToPath(new URL('../../trainer/src/main.ts', import.meta.url)),
  evaluator: fileURLToPath(new URL('../../evaluator/src/main.ts', import.meta.url)),
} as const;

export type ServiceName = keyof typeof SERVICE_ENTRIES;

/** A service started in the background that printed `listening on HOST:PORT`. */
export interface RunningService {
  child: ChildProcess;
  address: string;
  /** Sends `signal` (SIGTERM: graceful) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The argv that runs a service's entry in a fresh node process (tsx by absolute URL: any working directory works). */
export function serviceArgv(name: ServiceName, args: readonly string[]): string[] {
  return ['--import', import.meta.resolve('tsx'), SERVICE_ENTRIES[name], ...args];
}

/**
 * Starts a service with its stdout piped (to read `listening on`) and stderr passed through
 * `onStderr` (default: dropped). Rejects if it exits before listening. The child is killed
 * when this process exits, so a benchmark that dies leaves no orphan.
 */
export function startService(name: ServiceName, args: readonly string[], onStderr: (chunk: string) => void = () => {}): Promise<RunningService> {
  const child = spawn(process.execPath, serviceArgv(name, args), { stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    process.off('exit', killOnExit);
    resolve(code);
  }));
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-4000);
      onStderr(d);
    });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const m = /listening on (\S+)/.exec(stdout);
      if (!m) return;
      resolve({
        child,
        address: m[1],
        stop: (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    });
    void exited.then((code) => reject(new Error(`kd ${name} service exited with ${code} before listening:\n${stderr}`)));
  });
}
