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

/**
 * Only loopback addresses are in it (127.0.0.0/8, ::1): with loopback
 * connections hidden (no -f), such a filter matches nothing.
 */
export function onlyLoopback(c: Cidr): boolean {
  if (c.family === 4) return c.prefix >= 8 && c.bytes[0] === 127;
  return c.prefix === 128 && c.bytes.slice(0, 15).every((b) => b === 0) && c.bytes[15] === 1;
}

/** What to say on standard error when --addr can match nothing for want of -f; undefined when it can. */
export function hiddenLoopbackNote(addr: Cidr | undefined, withLoopback: boolean): string | undefined {
  if (!addr || withLoopback || !onlyLoopback(addr)) return undefined;
  const text =
    addr.family === 4 ? `${addr.bytes.slice(0, 4).join('.')}${addr.prefix < 32 ? `/${addr.prefix}` : ''}` : '::1';
  return `--addr ${text} is a loopback address, and loopback connections are hidden unless -f (--with-loopback): nothing will show`;
}
