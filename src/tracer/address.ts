// Addresses: the families records show, and IPv6 text parsed back into bytes
// (for --addr and the legacy format). Bytes become text in one place,
// native/address.cc (addressPair()).

export type Family = 'ipv4' | 'ipv6';

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
  return v4Tail.length ? [...bytes.slice(0, 12), ...v4Tail, ...bytes.slice(16)] : bytes;
}
