import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPair, ipv6, isV4Mapped } from '../../src/tracer/address.js';

function bytes(...groups: number[]): Uint8Array {
  const b = new Uint8Array(16);
  groups.forEach((g, i) => {
    b[2 * i] = g >> 8;
    b[2 * i + 1] = g & 0xff;
  });
  return b;
}

/** The WHATWG URL parser serialises IPv6 hosts per RFC 5952: an oracle we did not write. */
function oracle(b: Uint8Array): string {
  const full = Array.from({ length: 8 }, (_, i) => ((b[2 * i] << 8) | b[2 * i + 1]).toString(16)).join(':');
  return new URL(`http://[${full}]/`).hostname.slice(1, -1);
}

describe('IPv6 text (RFC 5952)', () => {
  it('well-known forms', () => {
    assert.equal(ipv6(bytes(0, 0, 0, 0, 0, 0, 0, 1)), '::1');
    assert.equal(ipv6(bytes(0, 0, 0, 0, 0, 0, 0, 0)), '::');
    assert.equal(ipv6(bytes(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)), '2001:db8::1');
    assert.equal(ipv6(bytes(0x2001, 0xdb8, 0, 1, 0, 0, 0, 1)), '2001:db8:0:1::1'); // longest run wins
    assert.equal(ipv6(bytes(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1)), '2001:db8::1:0:0:1'); // first of equal runs
    assert.equal(ipv6(bytes(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1)), '2001:db8:0:1:1:1:1:1'); // a single zero group stays
    assert.equal(ipv6(bytes(0xfe80, 0, 0, 0, 0xabcd, 0, 0, 0)), 'fe80::abcd:0:0:0');
  });

  it('agrees with the URL parser on 2000 random addresses with zero runs', () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let n = 0; n < 2000; n++) {
      const g = Array.from({ length: 8 }, () => (rand() % 3 === 0 ? rand() & 0xffff : 0));
      const b = bytes(...g);
      assert.equal(ipv6(b), oracle(b), g.join(','));
    }
  });
});

describe('address pairs', () => {
  it('IPv4 sockets: dotted quads from the first four bytes', () => {
    const b = new Uint8Array(32);
    b.set([127, 0, 0, 1], 0);
    b.set([10, 1, 2, 3], 16);
    assert.deepEqual(formatPair(4, b, 0, 16), { family: 'ipv4', saddr: '127.0.0.1', daddr: '10.1.2.3' });
  });

  it('IPv4-mapped IPv6 is shown, and counted, as IPv4', () => {
    const b = new Uint8Array(32);
    b.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1], 0);
    b.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 33], 16);
    assert.ok(isV4Mapped(b, 0));
    assert.deepEqual(formatPair(6, b, 0, 16), { family: 'ipv4', saddr: '127.0.0.1', daddr: '192.0.2.33' });
  });

  it('IPv6 stays IPv6, including ::ffff:0:0/96 lookalikes that are not mapped', () => {
    const b = new Uint8Array(32);
    b.set(bytes(0, 0, 0, 0, 0, 0, 0, 1), 0);
    b.set(bytes(0, 0, 0, 0, 1, 0xffff, 0x7f00, 1), 16);
    assert.deepEqual(formatPair(6, b, 0, 16), { family: 'ipv6', saddr: '::1', daddr: '::1:ffff:7f00:1' });
  });
});
