// What summarize and validate say about a line that is not a valid record:
// one line, the field, what it must be and (shortly, escaped) what it is.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ROOT } from '../../src/root.js';
import { shown } from '../../src/record/shown.js';
import { recordCheck, type RecordCheck, STREAM_TYPES } from '../../src/record/validate.js';

const records = readFileSync(join(ROOT, 'test', 'fixtures', 'capture-v1.ndjson'), 'utf8')
  .trimEnd()
  .split('\n')
  .map((l) => JSON.parse(l) as Record<string, unknown>);
const close = records.find((r) => r.type === 'close')!;

describe('recordCheck', () => {
  let any: RecordCheck;
  let capture: RecordCheck;
  before(async () => {
    any = await recordCheck();
    capture = await recordCheck(STREAM_TYPES);
  });

  it('passes every record of a real capture', () => {
    for (const r of records) assert.equal(capture(r), undefined, JSON.stringify(r));
  });

  it('says which field is wrong and how', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ bytes_sent: '12' }, 'close record: bytes_sent must be integer (got "12")'],
      [{ bytes_sent: 1e308 }, 'close record: bytes_sent must be <= 18446744073709552000 (got 1e+308)'],
      [{ bytes_received: -5 }, 'close record: bytes_received must be >= 0 (got -5)'],
      [{ timestamp: 'yesterday' }, 'close record: timestamp must match format "date-time" (got "yesterday")'],
      [
        { timestamp: '+275760-09-13T00:00:00.000Z' },
        'close record: timestamp must match format "date-time" (got "+275760-09-13T00:00:00.000Z")',
      ],
      [{ family: 'ipx' }, 'close record: family must be one of ipv4, ipv6 (got "ipx")'],
      [{ extra: 1 }, 'close record: unknown field "extra"'],
      [{ duration_ms: undefined }, 'close record: duration_ms is missing'],
      [{ rtt_us: [[[1]]] }, 'close record: rtt_us must be integer (got an array)'],
    ];
    for (const [change, message] of cases) assert.equal(capture({ ...close, ...change }), message);
  });

  it('names what is not a record at all', () => {
    assert.equal(capture([1]), 'not a JSON object');
    assert.equal(capture(null), 'not a JSON object');
    assert.equal(capture({}), 'no type field');
    assert.equal(capture({ type: 7 }), 'type must be a string (got 7)');
    assert.match(
      capture({ type: 'bogus' })!,
      /^unknown type "bogus" \(known: connect, connect_failed, accept, .*stats\)$/,
    );
    assert.match(any({ type: 'bogus' })!, /known: .*check, summary, validation\)$/);
    assert.match(capture({ type: 'summary' })!, /^a summary record is not one this reads/);
    assert.match(any({ type: 'summary' })!, /^summary record: /);
  });

  it('a line of deep nesting (JSON.parse reads it) is refused without overflowing the stack', () => {
    const deep = JSON.parse(`{"type":"close","rtt_us":${'['.repeat(500_000)}${']'.repeat(500_000)}}`) as unknown;
    assert.match(capture(deep)!, /^close record: /);
    assert.equal(shown(deep), 'an object');
  });
});

describe('shown', () => {
  it('cuts long values and escapes what a terminal would act on', () => {
    assert.equal(shown('a'.repeat(100)), `"${'a'.repeat(36)}...`);
    assert.equal(shown('\u001b[31mred\u009b\u202e'), '"\\u001b[31mred\\u009b\\u202e"');
    assert.equal(shown(1e308), '1e+308');
  });
});
