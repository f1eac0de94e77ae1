// The C struct (bpf/nettracer.h) and the decoder agree: a C program compiled
// from the header prints offsetof() of every field, and a record written at
// those offsets decodes to the values written.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeRecords } from '../../src/tracer/decode.js';
import { OFF, RECORD_SIZE } from '../../src/tracer/layout.js';
import { ROOT } from '../helpers/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'nettracer-layout-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cOffsets(): Record<string, number> {
  const fields = Object.keys(OFF);
  const src = `#include <stdio.h>
#include <stddef.h>
#include <linux/types.h>
#include "nettracer.h"
int main(void) {
  printf("size %zu\\n", sizeof(struct nt_record));
${fields.map((f) => `  printf("${f} %zu\\n", offsetof(struct nt_record, ${f}));`).join('\n')}
  return 0;
}`;
  writeFileSync(join(dir, 'offsets.c'), src);
  execFileSync('gcc', ['-I', join(ROOT, 'bpf'), '-o', join(dir, 'offsets'), join(dir, 'offsets.c')]);
  const out = execFileSync(join(dir, 'offsets'), { encoding: 'utf8' });
  return Object.fromEntries(out.trim().split('\n').map((l) => [l.split(' ')[0], Number(l.split(' ')[1])]));
}

describe('struct nt_record layout', () => {
  const c = cOffsets();

  it('size and every offset match the C header', () => {
    assert.equal(c.size, RECORD_SIZE);
    for (const [field, off] of Object.entries(OFF)) assert.equal(off, c[field], field);
  });

  it('a record written at the C offsets decodes to what was written', () => {
    const b = Buffer.alloc(RECORD_SIZE * 2);
    const at = RECORD_SIZE; // second record of a batch
    b.writeBigUInt64LE(123456789012n, at + c.id);
    b.writeBigUInt64LE(5_000_000_000n, at + c.ts_ns);
    b.writeBigUInt64LE(4_000_000_000n, at + c.start_ns);
    b.writeBigUInt64LE(2n ** 40n + 7n, at + c.bytes_sent);
    b.writeBigUInt64LE(99n, at + c.bytes_received);
    Buffer.from([10, 0, 0, 1]).copy(b, at + c.saddr);
    Buffer.from([192, 168, 7, 200]).copy(b, at + c.daddr);
    b.write('curl', at + c.comm, 'latin1');
    b.writeUInt32LE(4242, at + c.pid);
    b.writeUInt32LE(4026531840, at + c.netns);
    b.writeUInt32LE(11, at + c.segs_out);
    b.writeUInt32LE(12, at + c.segs_in);
    b.writeUInt32LE(3, at + c.total_retrans);
    b.writeUInt32LE(250, at + c.srtt_us);
    b.writeUInt32LE(125, at + c.rttvar_us);
    b.writeBigUInt64LE(77n, at + c.cgroup_id);
    b.writeUInt16LE(51234, at + c.sport);
    b.writeUInt16LE(443, at + c.dport);
    b.writeUInt8(3, at + c.kind); // NT_CLOSE
    b.writeUInt8(4, at + c.family);
    b.writeUInt8(1, at + c.direction); // NT_DIR_OUT
    b.writeUInt8(1, 0 + c.kind); // first record: a connect, otherwise zero
    b.writeUInt8(4, 0 + c.family);
    const [first, r] = decodeRecords(b);
    assert.equal(first.kind, 'connect');
    assert.deepEqual(r, {
      kind: 'close',
      id: 123456789012,
      tsNs: 5_000_000_000,
      startNs: 4_000_000_000,
      pid: 4242,
      preexisting: false,
      comm: 'curl',
      family: 'ipv4',
      saddr: '10.0.0.1',
      sport: 51234,
      daddr: '192.168.7.200',
      dport: 443,
      netns: 4026531840,
      direction: 'outgoing',
      bytesSent: 2 ** 40 + 7,
      bytesReceived: 99,
      segsOut: 11,
      segsIn: 12,
      totalRetrans: 3,
      srttUs: 250,
      rttvarUs: 125,
      cgroupId: 77,
    });
  });

  it('a batch that is not whole records, or an unknown kind, is refused', () => {
    assert.throws(() => decodeRecords(Buffer.alloc(RECORD_SIZE + 1)), /not a multiple/);
    assert.throws(() => decodeRecords(Buffer.alloc(RECORD_SIZE)), /unknown record kind 0/);
  });
});
