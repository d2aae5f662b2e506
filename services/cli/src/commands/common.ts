import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';

/** Usage errors (bad option, missing argument) exit 2, like bad input; 1 stays "it ran and failed". */
export function exitTwoOnUsageError(cmd: Command): Command {
  return cmd.exitOverride((err) => {
    throw new CommanderError(err.exitCode === 0 ? 0 : 2, err.code, err.message);
  });
}

/** Commander collector for repeatable options (`-o a=1 -o b=2`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Error classes whose messages already name the file, key or record a user must fix. */
const USER_ERRORS = new Set([
  'ConfigError', 'CheckpointError', 'DatasetConfigError', 'VocDatasetError', 'LoaderError', 'HeadPairingError', 'DistillConfigError',
  'BackendUnavailableError', 'TeacherMismatchError', 'TeacherSpecError', 'TeacherUnavailableError', 'TeacherAddressError', 'AuthConfigError',
]);

/**
 * Runs a command body; a user error prints `kd <command>: message` and exits 2, anything
 * else propagates (a bug: main prints it and exits 1).
 */
export async function reportUserErrors(command: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (!(error instanceof Error) || !USER_ERRORS.has(error.name)) throw error;
    process.stderr.write(`kd ${command}: ${error.message}\n`);
    process.exitCode = 2;
  }
}

/** Per-class AP table and the `mAP(0.50, 11point) = xx.xx%` line PaddleDetection prints. */
export function formatApTable(perClass: Record<string, number>, mAP: number, metric: string, iou = 0.5): string {
  const classes = Object.keys(perClass);
  const w = Math.max(5, ...classes.map((c) => c.length)) + 2;
  const lines = [`${'class'.padEnd(w)}${'AP %'.padStart(8)}`];
  for (const c of classes) lines.push(`${c.padEnd(w)}${(100 * perClass[c]).toFixed(2).padStart(8)}`);
  lines.push(`mAP(${iou.toFixed(2)}, ${metric}) = ${(100 * mAP).toFixed(2)}%`);
  return `${lines.join('\n')}\n`;
}

/** Commander parser for options that take a positive integer. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

/** Commander parser for options that take a non-negative integer (seeds). */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected an integer >= 0, got "${value}"`);
  return n;
}

/** Commander parser for options that take a number >= 0 (loss weights). */
export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a number >= 0, got "${value}"`);
  return n;
}

/** A commander parser for a comma-separated list of integers >= min, e.g. worker or replica counts. */
export function integerList(min: number, what: string, example: string): (value: string) => number[] {
  return (value) => {
    const list = value.split(',').map((s) => Number(s.trim()));
    if (list.some((n) => !Number.isInteger(n) || n < min)) throw new InvalidArgumentError(`expected ${what} such as "${example}", got "${value}"`);
    return list;
  };
}

/** Exit status of a run a signal stopped after saving its work: 128 + the signal's number, as shells report it. */
const STOPPED_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * Ctrl-C (or SIGTERM) during training: the loop finishes its step and saves model_final
 * instead of dying mid-write. `signal` goes to the loop; call `dispose` when it returns;
 * `exitCode` is then 130 or 143 if a signal stopped the run.
 */
export function stopOnSigint(log: (line: string) => void): { signal: AbortSignal; dispose: () => void; readonly exitCode: number | undefined } {
  const abort = new AbortController();
  let received: keyof typeof STOPPED_EXIT_CODES | undefined;
  const onSignal = (name: keyof typeof STOPPED_EXIT_CODES) => () => {
    received ??= name;
    log(`interrupted (${name}): finishing the current step and saving model_final`);
    abort.abort();
  };
  const handlers = { SIGINT: onSignal('SIGINT'), SIGTERM: onSignal('SIGTERM') };
  for (const [name, handler] of Object.entries(handlers)) process.once(name, handler);
  return {
    signal: abort.signal,
    dispose: () => { for (const [name, handler] of Object.entries(handlers)) process.off(name, handler); },
    get exitCode() { return received ? STOPPED_EXIT_CODES[received] : undefined; },
  };
}

/**
 * A fresh folder under the OS temp dir (TMPDIR) for a smoke run, removed when the process exits,
 * also on Ctrl-C or SIGTERM (then with 130 or 143): a --quick run leaves nothing behind.
 */
export function temporaryFolder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  // a signal's default action ends the process without 'exit' handlers: exit ourselves, which runs them
  for (const [name, code] of Object.entries(STOPPED_EXIT_CODES)) process.once(name, () => process.exit(code));
  return dir;
}
