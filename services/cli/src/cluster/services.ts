// How kd cluster starts each kd service: its entry through serviceArgv (a service is a process;
// the cli never imports one) and what in its output says it is ready, with its addresses.
import { join } from 'node:path';
import { serviceArgv, type ServiceName } from '../service_process.ts';
import type { StartProcessOptions } from './process.ts';

/** Where a gRPC service listens, and its /metrics URL. */
export interface ServiceEndpoints { address: string; metrics: string }

/**
 * The environment of the services: JSON logs (kd cluster reads the metrics port from them and
 * shows their tail on failure) at level info at least, whatever the terminal.
 */
export function serviceEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const level = env.KD_LOG_LEVEL === 'debug' || env.KD_LOG_LEVEL === 'trace' ? env.KD_LOG_LEVEL : 'info';
  return { ...env, KD_LOG_FORMAT: 'json', KD_LOG_LEVEL: level };
}

/** The port in the service's `metrics listening` log line (logged before `listening on`). */
export function metricsFromLog(stderr: string): string | undefined {
  for (const line of stderr.split('\n')) {
    if (!line.includes('"metrics listening"')) continue;
    try {
      const o = JSON.parse(line) as { host?: string; port?: number };
      if (typeof o.port === 'number') return `http://${o.host ?? '127.0.0.1'}:${o.port}/metrics`;
    } catch {
      // a partial line: wait for more
    }
  }
  return undefined;
}

/** A gRPC service (teacher, evaluator): ready when it printed `listening on HOST:PORT` and logged its metrics port. */
export function grpcService(service: ServiceName, args: readonly string[], o: { logsDir: string; env: NodeJS.ProcessEnv }): StartProcessOptions<ServiceEndpoints> {
  return {
    name: service,
    command: process.execPath,
    args: serviceArgv(service, args),
    logFile: join(o.logsDir, `${service}.log`),
    env: o.env,
    ready: (stdout, stderr) => {
      const address = /^listening on (\S+)$/m.exec(stdout)?.[1];
      const metrics = metricsFromLog(stderr);
      return address && metrics ? { address, metrics } : undefined;
    },
  };
}

/** A trainer service: ready when it printed `metrics on HOST:PORT` (it serves no gRPC). */
export function trainerService(role: string, args: readonly string[], o: { logsDir: string; env: NodeJS.ProcessEnv }): StartProcessOptions<{ metrics: string }> {
  return {
    name: `trainer ${role}`,
    command: process.execPath,
    args: serviceArgv('trainer', args),
    logFile: join(o.logsDir, `trainer-${role}.log`),
    env: o.env,
    ready: (stdout) => {
      const m = /^metrics on (\S+)$/m.exec(stdout);
      return m ? { metrics: `http://${m[1]}/metrics` } : undefined;
    },
  };
}
