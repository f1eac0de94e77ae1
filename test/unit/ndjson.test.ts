// NdjsonSink writes exactly what JSON.stringify writes of the same record
// built as an object, for every record type and awkward values (quotes,
// escapes, non-ASCII, fractions, container fields), and honours --count.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootClock, RecordBuilder } from '../../src/encode/builder.js';
import { Field, ObjectSink } from '../../src/encode/field-sink.js';
import { NdjsonSink } from '../../src/encode/ndjson-sink.js';
import { DIRECTION, FLAG, KIND, SIZE } from '../../src/generated/wire.js';
import { toNdjson } from '../../src/output/ndjson.js';
import { ContainerResolver } from '../../src/tracer/containers.js';
import type { KernelRecord } from '../../src/tracer/decode.js';
import { kernelRecord, randomOfSize, startOf } from '../helpers/kernel-batch.js';
import { assertValidLine } from '../helpers/schemas.js';

let seed = 7;
const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
const comms = ['curl', 'a"b', 'back\\slash', 'größe', 'x\\x0ay', '', 'tab\there', '\u{1f600}', 'x\u007f'];

type KindName = 'connect' | 'accept' | 'metrics' | 'close' | 'existing';

// Every number member random, then the ones with a meaning; the text fields
// as decoded (the builder takes them as they are).
function randomRecord(kind: KindName): KernelRecord & { ts_ns: number } {
  const ipFamily = rand(2) ? 'ipv4' : 'ipv6';
  const pid = rand(4e6);
  return kernelRecord(
    {
      kind: KIND[kind],
      id: rand(1e9) + 1,
      ts_ns: 1e9 + rand(1e9),
      start_ns: 5e8 + rand(4e8),
      pid,
      owner_start: startOf(pid),
      flags: FLAG.announced | (kind === 'existing' ? FLAG.preexisting : 0),
      comm: comms[rand(comms.length)],
      family: ipFamily === 'ipv4' ? 4 : 6,
      ipFamily,
      saddr: '10.0.0.1',
      sport: rand(65536),
      daddr: 'fd00::1',
      dport: rand(65536),
      netns: 4026531840 + rand(100),
      direction: kind === 'existing' ? DIRECTION.unknown : rand(2) ? DIRECTION.outgoing : DIRECTION.incoming,
      bytes_sent: rand(2 ** 30) * 1024,
      bytes_received: rand(2 ** 30),
      packets_sent: rand(1e6),
      packets_received: rand(1e6),
      packets_retransmitted: rand(100),
      rtt_us: rand(1e6),
      rtt_var_us: rand(1e5),
      cgroup_id: rand(3) + 1,
    },
    (m) => randomOfSize(SIZE[m], rand),
  );
}

const lost = {
  type: 'lost' as const,
  timestamp: '2026-01-01T00:00:00.000Z',
  records_lost: 3,
  connections_untracked: 0,
  hook_misses: 0,
};

// cgroup 2 is in a container, 3 in a pod without a container id, 1 on the host.
const cgroups: Record<number, string> = {
  1: '0::/user.slice\n',
  2: '0::/system.slice/docker-' + 'ab'.repeat(32) + '.scope\n',
  3: '0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_5678.slice\n',
};

describe('NDJSON lines', () => {
  for (const incremental of [false, true]) {
    for (const headerSize of [false, true]) {
      it(`NdjsonSink lines equal JSON.stringify of the object records (incremental ${incremental}, -s ${headerSize})`, () => {
        // Two builders with the same history: one writes bytes, one objects.
        const host = { cgroup: (pid: number) => cgroups[(pid % 3) + 1], start: startOf, cgroupId: () => -1 };
        const resolver = () => new ContainerResolver(host);
        const a = new RecordBuilder(bootClock(1.7e12), { incremental, headerSize }, resolver());
        const b = new RecordBuilder(bootClock(1.7e12), { incremental, headerSize }, resolver());
        const bytes = new NdjsonSink();
        const objects = new ObjectSink();
        let text = '';
        for (let i = 0; i < 3000; i++) {
          const kind = (['connect', 'accept', 'metrics', 'close', 'existing'] as const)[i % 5];
          const k = randomRecord(kind);
          if (i % 7 === 0) k.ts_ns += 0.5e6; // duration_ms with fractions of every length
          a.write(k, bytes);
          b.write(k, objects);
          if (i % 97 === 0) text += bytes.take().toString('utf8'); // batches: the buffer is reused
        }
        text += bytes.take().toString('utf8');
        const lines = text.split('\n');
        assert.equal(lines.pop(), '', 'every line ends with a newline');
        const records = objects.take();
        assert.equal(lines.length, 3000);
        assert.equal(records.length, 3000);
        for (let i = 0; i < lines.length; i++) {
          assert.equal(lines[i], JSON.stringify(records[i]));
          assertValidLine(lines[i]);
        }
        assert.ok(
          records.some((r) => 'container_id' in r),
          'container fields were exercised',
        );
      });
    }
  }

  it('a limit keeps exactly the first records; objects (stats, lost) count too', () => {
    const b = new RecordBuilder(bootClock(1.7e12), { incremental: false, headerSize: false });
    const sink = new NdjsonSink(3);
    sink.object(lost);
    for (let i = 0; i < 5; i++) b.write(randomRecord('connect'), sink);
    sink.object(lost);
    const lines = sink.take().toString().trimEnd().split('\n');
    assert.equal(sink.count, 3);
    assert.equal(lines.length, 3);
    assert.equal(lines[0], JSON.stringify(lost));
    for (const l of lines.slice(1)) assert.equal((JSON.parse(l) as { type: string }).type, 'connect');
  });

  it('lines written into the buffer (by the native encoder) count toward the limit, cut at a line end', () => {
    const sink = new NdjsonSink(3);
    sink.object({
      type: 'lost',
      timestamp: '2026-01-01T00:00:00.000Z',
      records_lost: 1,
      connections_untracked: 0,
      hook_misses: 0,
    });
    const { buf, at } = sink.room(64);
    const text = '{"a":1}\n{"b":2}\n{"c":3}\n';
    Buffer.from(text).copy(buf, at);
    sink.wrote(text.length, 3);
    assert.equal(sink.count, 3);
    assert.equal(sink.take().toString().split('\n').slice(1).join('\n'), '{"a":1}\n{"b":2}\n');
  });

  it('a buffer that must grow keeps what it holds', () => {
    const b = new RecordBuilder(bootClock(1.7e12), { incremental: false, headerSize: false });
    const sink = new NdjsonSink();
    for (let i = 0; i < 20_000; i++) b.write(randomRecord('close'), sink); // ~5 MB, the buffer starts at 1 MB
    const lines = sink.take().toString().trimEnd().split('\n');
    assert.equal(lines.length, 20_000);
    for (const l of lines) assert.equal((JSON.parse(l) as { type: string }).type, 'close');
  });

  it('a string that makes the buffer grow in the middle of a record is written whole, to the new buffer', () => {
    // Fields of their own, and strings longer than any record has: the sink takes any.
    const f = (name: string) => new Field(name);
    for (const value of ['x'.repeat(10_000), `${'é'.repeat(3000)}"\n`, 'ok']) {
      const sink = new NdjsonSink();
      // Fill the 1 MiB buffer to just the room begin() keeps for one record.
      const { buf, at } = sink.room(0);
      const filler = buf.length - at - 4096;
      buf.fill(0x61, at, at + filler - 1);
      buf[at + filler - 1] = 0x0a;
      sink.wrote(filler, 1);
      sink.begin('connect');
      sink.num(f('id'), 7);
      sink.str(f('long'), value);
      for (let i = 0; i < 40; i++) sink.num(f(`n${i}`), 2 ** 52 + i); // the rest of a record after it
      sink.str(f('after'), 'end');
      sink.end();
      const lines = sink.take().toString('utf8').split('\n');
      assert.equal(lines.length, 3);
      const expected: Record<string, unknown> = { type: 'connect', id: 7, long: value };
      for (let i = 0; i < 40; i++) expected[`n${i}`] = 2 ** 52 + i;
      expected.after = 'end';
      assert.equal(lines[1], JSON.stringify(expected));
    }
  });

  it('other records go through JSON.stringify; a batch is one line per record', () => {
    assert.equal(toNdjson([lost, lost]), `${JSON.stringify(lost)}\n${JSON.stringify(lost)}\n`);
  });
});
