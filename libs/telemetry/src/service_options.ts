// The option parsers every kd service's command line shares: --metrics-port, ports, integers.
import { InvalidArgumentError, Option } from 'commander';

// "off" travels as -1: commander turns a parser's null into ''.
const OFF = -1;

/** `--metrics-port <port>`: a port, 0 for a free one, "none" (or -1) for no /metrics endpoint; read it with metricsPortOrNull. */
export function metricsPortOption(defaultPort: number): Option {
  return new Option('--metrics-port <port>', 'HTTP port of /metrics and /healthz; 0 picks a free one, "none" (or -1) turns it off')
    .default(defaultPort)
    .argParser((value: string) => {
      if (value === 'none' || value === String(OFF)) return OFF;
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port is an integer 0..65535, or "none".');
      return n;
    });
}

/** The parsed --metrics-port as the port to bind, or null when turned off. */
export const metricsPortOrNull = (parsed: number): number | null => (parsed === OFF ? null : parsed);

/** Commander parser of an integer option >= min; `what` names it in the error ("--max-batch"). */
export function integerArg(min: number, what: string): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${what} must be an integer >= ${min}.`);
    return n;
  };
}

/** Commander parser of a port; 0 picks a free one. */
export const portArg = integerArg(0, 'a port');
