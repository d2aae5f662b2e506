/** A --teacher value that names no teacher service. */
export class TeacherAddressError extends Error {
  override name = 'TeacherAddressError';
}

/**
 * The gRPC targets of a --teacher value: `grpc://HOST:PORT[,HOST:PORT...]` gives one target per
 * replica (kd balances and fails over between them); `dns:///NAME:PORT` gives one target that
 * grpc-js resolves and balances round_robin over every address (a headless Service).
 */
export function parseTeacherAddress(value: string): { targets: string[]; balanced: boolean } {
  if (value.startsWith('dns:')) {
    if (!/^dns:\/\/\/[^/\s]+:\d+$/.test(value)) throw new TeacherAddressError(`teacher ${JSON.stringify(value)}: expected dns:///NAME:PORT`);
    return { targets: [value], balanced: true };
  }
  if (!value.startsWith('grpc://')) {
    throw new TeacherAddressError(`teacher ${JSON.stringify(value)}: expected grpc://HOST:PORT[,HOST:PORT...] or dns:///NAME:PORT`);
  }
  const targets = value.slice('grpc://'.length).split(',').map((s) => s.trim());
  for (const t of targets) {
    const port = Number(/:(\d+)$/.exec(t)?.[1]);
    if (!/^(\[[0-9a-fA-F:]+\]|[^:/\s[\]]+):\d+$/.test(t) || !(port > 0 && port < 65536)) {
      throw new TeacherAddressError(`teacher ${JSON.stringify(value)}: ${JSON.stringify(t)} is not HOST:PORT`);
    }
  }
  return { targets: [...new Set(targets)], balanced: false };
}
