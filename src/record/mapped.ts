// Records of an IPv6 socket between IPv4-mapped addresses show IPv4
// (family ipv4, dotted addresses), as published. The original's formats
// still tell them apart: they are in its IPv6 tables, printed after the IPv4
// ones, and its log and interactive view write them as ::ffff:a.b.c.d. The
// record objects handed to those formats carry the fact as a symbol, which
// no JSON encoding sees: it is not a field of the records.
import type { NettracerRecord } from '../generated/records.js';

const MAPPED = Symbol('ipv4-mapped IPv6 socket');

export function markMapped(r: NettracerRecord): void {
  (r as unknown as Record<symbol, boolean>)[MAPPED] = true;
}

export function isMapped(r: NettracerRecord): boolean {
  return (r as unknown as Record<symbol, boolean | undefined>)[MAPPED] === true;
}
