// Failures a user can act on. What kind of failure it is decides the exit
// status, which is the CLI's to choose (src/cli/exit-codes.ts).

export type FailureKind =
  /** Bad input: a flag, a file, a BPF object. */
  | 'usage'
  /** Not allowed to load BPF programs. */
  | 'privileges'
  /** The kernel lacks what nettracer needs. */
  | 'unsupported'
  /** Anything else, while running. */
  | 'failure';

export class TracerError extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
  ) {
    super(message);
  }
}

/** Maps the native addon's error codes to messages and kinds of failure. */
export function fromNative(err: unknown): TracerError {
  const e = err as { code?: string; message?: string };
  const msg = e.message ?? String(err);
  switch (e.code) {
    case 'EPERM':
      return new TracerError(msg, 'privileges');
    case 'EOBJECT':
    case 'EOUTPUT':
    case 'EENV':
      return new TracerError(msg, 'usage');
    case 'ENOBTF':
    case 'ENOHOOK':
      return new TracerError(`${msg}; \`nettracer check\` lists what this kernel offers`, 'unsupported');
    case 'MODULE_NOT_FOUND':
    case 'ERR_DLOPEN_FAILED':
      return new TracerError(
        `the native addon is not built or cannot load (${msg.split('\n')[0]}); run the set-up command from the README`,
        'failure',
      );
    default:
      return new TracerError(msg, 'failure');
  }
}
