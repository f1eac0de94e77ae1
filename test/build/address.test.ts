// Address text, defined once in native/address.cc: IPv6 per RFC 5952
// (checked against the WHATWG URL parser's serialisation, which follows it),
// IPv4 as dotted quads, IPv4-mapped pairs as IPv4.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OFF, RECORD_SIZE } from '../../src/generated/wire.js';
import { loadNative } from '../../src/tracer/native.js';

function bytes(...groups: number[]): number[] {
  const b = new Array<number>(16).fill(0);
  groups.forEach((g, i) => {
    b[2 * i] = g >> 8;
    b[2 * i + 1] = g & 0xff;
  });
  return b;
}

/** The pair the addon makes of a record with these addresses. */
function pair(family: 4 | 6, saddr: number[], daddr: number[]): [boolean, string, string] {
  const r = Buffer.alloc(RECORD_SIZE * 2);
  const at = RECORD_SIZE; // the second record: the index counts
  r[at + OFF.family] = family;
  Buffer.from(saddr).copy(r, at + OFF.saddr);
  Buffer.from(daddr).copy(r, at + OFF.daddr);
  return loadNative().addressPair(r, 1);
}

const ipv6 = (b: number[]): string => pair(6, b, b)[1];

/** The WHATWG URL parser serialises IPv6 hosts per RFC 5952: an oracle we did not write. */
function oracle(b: number[]): string {
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
    assert.deepEqual(pair(4, [127, 0, 0, 1], [10, 1, 2, 3]), [true, '127.0.0.1', '10.1.2.3']);
  });

  it('IPv4-mapped IPv6 is shown, and counted, as IPv4', () => {
    const mapped = (a: number[]) => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...a];
    assert.deepEqual(pair(6, mapped([127, 0, 0, 1]), mapped([192, 0, 2, 33])), [true, '127.0.0.1', '192.0.2.33']);
  });

  it('IPv6 stays IPv6, including ::ffff:0:0/96 lookalikes that are not mapped', () => {
    assert.deepEqual(pair(6, bytes(0, 0, 0, 0, 0, 0, 0, 1), bytes(0, 0, 0, 0, 1, 0xffff, 0x7f00, 1)), [
      false,
      '::1',
      '::1:ffff:7f00:1',
    ]);
  });

  it('a record past the end of the batch is refused', () => {
    assert.throws(() => loadNative().addressPair(Buffer.alloc(RECORD_SIZE), 1), /no such record/);
  });
});
