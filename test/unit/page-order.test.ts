// A walk page and the ring around it (src/tracer/page-order.ts): the ring's
// records go first, but the closes of connections the page read follow it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KIND, OFF, RECORD_SIZE } from '../../src/generated/wire.js';
import { PageOrder } from '../../src/tracer/page-order.js';

/** Records of [kind, id] (2^40 + id: cookies are past 32 bits). */
function batch(records: [number, number][]): Buffer {
  const b = Buffer.alloc(records.length * RECORD_SIZE);
  records.forEach(([kind, id], i) => {
    b.writeBigUInt64LE(2n ** 40n + BigInt(id), i * RECORD_SIZE + OFF.id);
    b[i * RECORD_SIZE + OFF.kind] = kind;
  });
  return b;
}

function read(b: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < b.length; at += RECORD_SIZE) {
    const kind = Object.entries(KIND).find(([, v]) => v === b[at + OFF.kind])?.[0];
    out.push(`${kind} ${Number(b.readBigUInt64LE(at + OFF.id) - 2n ** 40n)}`);
  }
  return out;
}

describe('a walk page and the ring', () => {
  it("the ring's records first, in order, but a close of a connection the page read after the page", () => {
    const order = new PageOrder();
    const out: string[] = [];
    const deliver = (b: Buffer) => out.push(...read(b));
    const page = batch([
      [KIND.accept, 1], // an opening the walk made (the owner found)
      [KIND.metrics, 1],
      [KIND.metrics, 2],
      [KIND.metrics, 3],
    ]);
    order.begin(page);
    const ring = batch([
      [KIND.connect, 3],
      [KIND.close, 1],
      [KIND.close, 9],
      [KIND.close, 2],
      [KIND.accept, 4],
    ]);
    order.pass(ring, deliver);
    ring.fill(0); // the ring's buffer is reused: what was held back was copied
    order.pass(batch([[KIND.close, 3]]), deliver);
    deliver(page);
    order.end(deliver);
    assert.deepEqual(out, [
      'connect 3',
      'close 9',
      'accept 4',
      'accept 1',
      'metrics 1',
      'metrics 2',
      'metrics 3',
      'close 1',
      'close 2',
      'close 3',
    ]);
  });

  it('with no page waiting, batches pass whole', () => {
    const order = new PageOrder();
    const seen: Buffer[] = [];
    const ring = batch([
      [KIND.close, 1],
      [KIND.connect, 2],
    ]);
    order.pass(ring, (b) => seen.push(b));
    order.begin(batch([[KIND.metrics, 5]]));
    order.pass(ring, (b) => seen.push(b));
    order.end((b) => seen.push(b));
    order.pass(ring, (b) => seen.push(b));
    assert.deepEqual(seen, [ring, ring, ring], 'the same buffer, not copies');
  });
});
