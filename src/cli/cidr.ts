// CIDR text -> the form the BPF filter takes (network bytes, prefix length).
import { isIP } from 'node:net';
import { ipv6Bytes } from '../tracer/address.js';

export interface Cidr {
  family: 4 | 6;
  prefix: number;
  bytes: number[]; // 16 entries; IPv4 in the first 4
}

/** Parses "10.0.0.0/8", "fd00::/8" or a single address; throws with a message for --addr. */
export function parseCidr(text: string): Cidr {
  const [addr, len, extra] = text.trim().split('/');
  const family = isIP(addr);
  if (extra !== undefined || (family !== 4 && family !== 6)) {
    throw new Error(`--addr must be an IPv4 or IPv6 address or CIDR (like 10.0.0.0/8 or fd00::/8), got "${text}"`);
  }
  const max = family === 4 ? 32 : 128;
  const prefix = len === undefined ? max : Number(len);
  if (len !== undefined && (!/^\d+$/.test(len) || prefix > max)) {
    throw new Error(`--addr prefix length must be 0 to ${max}, got "${len}"`);
  }
  const bytes = family === 4 ? [...addr.split('.').map(Number), ...new Array<number>(12).fill(0)] : ipv6Bytes(addr);
  return { family, prefix, bytes };
}
