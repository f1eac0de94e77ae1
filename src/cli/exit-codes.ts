// The exit statuses every command documents (man page, EXIT STATUS).
import type { FailureKind } from '../tracer/errors.js';

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  privileges: 3,
  unsupported: 4,
} as const;

export function exitCodeOf(kind: FailureKind): number {
  return EXIT[kind];
}
