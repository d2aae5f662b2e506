// `kd serve <service> [flags...]`: runs a kd service in the foreground as a child process
// (a service is a process, and Nx forbids the cli importing one). The service parses its own
// flags, so `kd serve teacher --help` is the service's help; signals are forwarded and kd
// exits with the service's code.
import { spawn, type StdioOptions, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { Command } from 'commander';
import { SERVICE_ENTRIES, serviceArgv, type ServiceName } from '../service_process.ts';

const DESCRIPTIONS: Record<ServiceName, string> = {
  teacher: 'serve a teacher checkpoint over gRPC (kd.v1.TeacherService) with a dynamic batcher',
  trainer: 'run one training job (a student, distilled or not) with /metrics and events on the bus',
  evaluator: 'score checkpoints and detections with VOC mAP over gRPC (kd.v1.EvaluatorService), and every CheckpointSaved event exactly once',
};

const FORWARDED = ['SIGINT', 'SIGTERM'] as const;

export interface RunServiceOptions {
  /** Child stdio; default inherit (the service's "listening on" line and logs go straight through). */
  stdio?: StdioOptions;
  /** Sees the child right after it is spawned. */
  onSpawn?: (child: ChildProcess) => void;
}

/**
 * Runs a service's entry with `args` until it exits, forwarding SIGINT/SIGTERM to it; resolves
 * with its exit code (128 + signal number when a signal ended it).
 */
export function runService(name: ServiceName, args: readonly string[], options: RunServiceOptions = {}): Promise<number> {
  const child = spawn(process.execPath, serviceArgv(name, args), { stdio: options.stdio ?? 'inherit' });
  options.onSpawn?.(child);
  const forward = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const s of FORWARDED) process.on(s, forward);
  return new Promise((resolve, reject) => {
    const done = () => {
      for (const s of FORWARDED) process.off(s, forward);
    };
    child.once('error', (error) => {
      done();
      reject(error);
    });
    child.once('exit', (code, signal) => {
      done();
      resolve(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1));
    });
  });
}

/** The `serve` command, one subcommand per service in SERVICE_ENTRIES; `run` is replaceable for tests. */
export function serveCommand(run: (name: ServiceName, args: string[]) => Promise<number> = runService): Command {
  const serve = new Command('serve').description('run a kd service in the foreground (its own process); flags go to the service');
  for (const name of Object.keys(SERVICE_ENTRIES) as ServiceName[]) {
    serve
      .command(name)
      .description(`${DESCRIPTIONS[name]}; see kd serve ${name} --help`)
      .argument('[flags...]', `flags of the ${name} service, passed through unchanged`)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(async (flags: string[]) => {
        process.exitCode = await run(name, flags);
      });
  }
  return serve;
}
