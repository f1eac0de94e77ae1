// Textual addresses from the kernel's 16-byte address fields.

export type Family = 'ipv4' | 'ipv6';

function ipv4(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** True for ::ffff:a.b.c.d (an IPv4 peer of a dual-stack IPv6 socket). */
export function isV4Mapped(b: Uint8Array, at = 0): boolean {
  for (let i = 0; i < 10; i++) if (b[at + i] !== 0) return false;
  return b[at + 10] === 0xff && b[at + 11] === 0xff;
}

/** RFC 5952: lower case, leading zeros dropped, the longest run (>= 2) of zero groups as "::". */
export function ipv6(b: Uint8Array, at = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[at + 2 * i] << 8) | b[at + 2 * i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) return groups.map((g) => g.toString(16)).join(':');
  const head = groups
    .slice(0, bestStart)
    .map((g) => g.toString(16))
    .join(':');
  const tail = groups
    .slice(bestStart + bestLen)
    .map((g) => g.toString(16))
    .join(':');
  return `${head}::${tail}`;
}

/**
 * The pair of addresses of one connection. An IPv6 socket whose both ends are
 * IPv4-mapped carries IPv4 traffic: it is shown, and counted, as IPv4.
 */
export function formatPair(
  kernelFamily: number,
  b: Uint8Array,
  saddrAt: number,
  daddrAt: number,
): { family: Family; saddr: string; daddr: string } {
  if (kernelFamily === 4) return { family: 'ipv4', saddr: ipv4(b, saddrAt), daddr: ipv4(b, daddrAt) };
  if (isV4Mapped(b, saddrAt) && isV4Mapped(b, daddrAt)) {
    return { family: 'ipv4', saddr: ipv4(b, saddrAt + 12), daddr: ipv4(b, daddrAt + 12) };
  }
  return { family: 'ipv6', saddr: ipv6(b, saddrAt), daddr: ipv6(b, daddrAt) };
}

/** The 16 bytes of an IPv6 address in text (compressed, or with an embedded IPv4 tail). */
export function ipv6Bytes(text: string): number[] {
  let head = text;
  let v4Tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    v4Tail = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const [left, right] = head.split('::');
  const l = left ? left.split(':') : [];
  const r = right !== undefined && right !== '' ? right.split(':') : [];
  const groups = right === undefined ? l : [...l, ...new Array<string>(8 - l.length - r.length).fill('0'), ...r];
  const bytes = groups.flatMap((g) => {
    const v = parseInt(g, 16);
    return [v >> 8, v & 0xff];
  });
  if (v4Tail.length) bytes.splice(12, 4, ...v4Tail);
  return bytes;
}
