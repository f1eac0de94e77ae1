// CIDR text -> the form the BPF filter takes (network bytes, prefix length).
import { isIP } from 'node:net';

export interface Cidr {
  family: 4 | 6;
  prefix: number;
  bytes: number[]; // 16 entries; IPv4 in the first 4
}

function v6Bytes(text: string): number[] {
  let head = text;
  let v4Tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    v4Tail = text.slice(lastColon + 1).split('.').map(Number);
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const [left, right] = head.split('::');
  const l = left ? left.split(':') : [];
  const r = right !== undefined && right !== '' ? right.split(':') : [];
  const groups = right === undefined ? l : [...l, ...Array(8 - l.length - r.length).fill('0'), ...r];
  const bytes = groups.flatMap((g) => {
    const v = parseInt(g, 16);
    return [v >> 8, v & 0xff];
  });
  if (v4Tail.length) bytes.splice(12, 4, ...v4Tail);
  return bytes;
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
  const bytes = family === 4 ? [...addr.split('.').map(Number), ...Array(12).fill(0)] : v6Bytes(addr);
  return { family, prefix, bytes };
}
