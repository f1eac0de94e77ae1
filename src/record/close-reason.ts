// What the kernel's close_reason and sk_err say, as the records spell them
// (bpf/nettracer.h: enum nt_close_reason; src/record/fields.ts: the values).
import { constants } from 'node:os';
import { CLOSE_REASON } from '../generated/wire.js';

export type CloseReason = 'fin' | 'reset_sent' | 'reset_received' | 'timeout' | 'aborted';

const REASON: readonly (readonly [CloseReason, 'local' | 'remote' | undefined] | undefined)[] = (() => {
  const out: (readonly [CloseReason, 'local' | 'remote' | undefined] | undefined)[] = [];
  out[CLOSE_REASON.fin_local] = ['fin', 'local'];
  out[CLOSE_REASON.fin_remote] = ['fin', 'remote'];
  out[CLOSE_REASON.reset_sent] = ['reset_sent', undefined];
  out[CLOSE_REASON.reset_received] = ['reset_received', undefined];
  out[CLOSE_REASON.timeout] = ['timeout', undefined];
  out[CLOSE_REASON.aborted] = ['aborted', undefined];
  return out;
})();

/** close_reason of a close record; undefined when the kernel did not say. */
export function closeReason(wire: number): CloseReason | undefined {
  return REASON[wire]?.[0];
}

/** first_fin of a close record: who sent the first FIN of an orderly close. */
export function firstFin(wire: number): 'local' | 'remote' | undefined {
  return REASON[wire]?.[1];
}

/** Linux errno numbers by name, from Node's own table (the platform's). */
const ERRNO_NAME: ReadonlyMap<number, string> = new Map(
  Object.entries(constants.errno).map(([name, n]) => [n, name] as const),
);

/**
 * The error field: the errno's name; for a failed attempt without one, it was
 * abandoned (closed while connecting). undefined: no error to report.
 */
export function errorName(skErr: number, failedAttempt: boolean): string | undefined {
  if (skErr === 0) return failedAttempt ? 'abandoned' : undefined;
  return ERRNO_NAME.get(skErr) ?? `E${skErr}`;
}
