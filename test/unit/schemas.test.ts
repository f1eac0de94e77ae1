// The published schemas accept what nettracer wrote before they were
// generated from the record table: test/fixtures/capture-v1.ndjson is a real
// capture of that build (loopback over IPv4 and IPv6, a connection open
// before tracing started, stats) and random records of both its encoders
// (containers, incremental, header sizes), plus a lost record.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
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
});
