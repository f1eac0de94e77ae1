// Failures a user can act on, each with its documented exit status (man/).

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  privileges: 3,
  unsupported: 4,
} as const;

export class TracerError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Maps the native addon's error codes to messages and exit statuses. */
export function fromNative(err: unknown): TracerError {
  const e = err as { code?: string; message?: string };
  const msg = e.message ?? String(err);
  switch (e.code) {
    case 'EPERM':
      return new TracerError(msg, EXIT.privileges);
    case 'EOBJECT':
      return new TracerError(msg, EXIT.usage);
    case 'ENOBTF':
    case 'ENOHOOK':
      return new TracerError(`${msg}; \`nettracer check\` lists what this kernel offers`, EXIT.unsupported);
    case 'MODULE_NOT_FOUND':
    case 'ERR_DLOPEN_FAILED':
      return new TracerError(
        `the native addon is not built or cannot load (${msg.split('\n')[0]}); run the set-up command from the README`,
        EXIT.failure,
      );
    default:
      return new TracerError(msg, EXIT.failure);
  }
}
