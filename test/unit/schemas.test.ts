// The published schemas accept what nettracer wrote before they were
// generated from the record table: test/fixtures/capture-v1.ndjson is a real
// capture of that build (loopback over IPv4 and IPv6, a connection open
// before tracing started, stats) and random records of both its encoders
// (containers, incremental, header sizes), plus a lost record.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SIZE } from '../../src/generated/wire.js';
import { FIELDS, TYPES } from '../../src/record/fields.js';
import { ROOT } from '../../src/root.js';
import { assertValidLine } from '../helpers/schemas.js';

describe('schemas/v1', () => {
  const lines = readFileSync(join(ROOT, 'test', 'fixtures', 'capture-v1.ndjson'), 'utf8')
    .trimEnd()
    .split('\n');

  it('validate every record of a capture made before the record table', () => {
    const types = new Set<string>();
    for (const l of lines) types.add(assertValidLine(l).type);
    assert.deepEqual([...types].sort(), ['accept', 'close', 'connect', 'existing', 'lost', 'metrics', 'stats']);
  });

  it('refuse a record with a field its type does not have, or without one it must have', () => {
    const close = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.type === 'close')!;
    assert.throws(
      () => assertValidLine(JSON.stringify({ ...close, extra: 1 })),
      /must NOT have unevaluated properties/,
    );
    const { duration_ms: _, ...noDuration } = close;
    assert.throws(() => assertValidLine(JSON.stringify(noDuration)), /duration_ms/);
    const { bytes_sent: __, ...noBytes } = close;
    assert.throws(() => assertValidLine(JSON.stringify(noBytes)), /bytes_sent/);
    assert.throws(() => assertValidLine(JSON.stringify({ ...close, type: 'connect' })), /unevaluated/);
  });

  it("bound the kernel's numbers by the width of their nt_record member, so 1e308 is refused", () => {
    const bounded = new Set<string>();
    for (const f of FIELDS) {
      if (!f.from || !('wire' in f.from) || typeof f.type !== 'string') continue;
      const type = TYPES[f.type] as { maximum?: number };
      if (!('minimum' in type)) continue; // not a number
      assert.equal(type.maximum, 2 ** (8 * SIZE[f.from.wire]) - 1, `${f.name} (${f.type})`);
      bounded.add(f.type);
    }
    assert.deepEqual([...bounded].sort(), ['bytes', 'id', 'microseconds', 'netns', 'pid', 'port', 'segments']);
    const close = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.type === 'close')!;
    for (const field of ['bytes_sent', 'packets_sent', 'rtt_us', 'pid', 'netns']) {
      assert.throws(() => assertValidLine(JSON.stringify({ ...close, [field]: 1e308 })), /must be <=/, field);
    }
  });
});
