// Replay's reading of a capture: when trace would have printed a cycle (after
// the start-up walk, after each metrics walk, at the end), told from the records.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NettracerRecord } from '../../src/generated/records.js';
import { Replay } from '../../src/input/replay.js';
import type { OutputFormat } from '../../src/output/format.js';

/** A format that writes what it is called with. */
function journal(): OutputFormat {
  return {
    begin: (ms) => `begin ${ms}\n`,
    records: (rs) => rs.map((r) => `${r.type}\n`).join(''),
    cycle: (ms) => `cycle ${ms}\n`,
    end: (ms) => `end ${ms}\n`,
  };
}

const rec = (type: string, s: number) =>
  ({ type, timestamp: new Date(1_000_000 + s * 1000).toISOString() }) as unknown as NettracerRecord;
const ms = (s: number) => 1_000_000 + s * 1000;

describe('Replay', () => {
  it('cycles after the start-up walk, after each run of metrics records, and once at the end', () => {
    const r = new Replay(journal());
    const stream = [
      rec('existing', 0),
      rec('existing', 0),
      rec('connect', 1),
      rec('metrics', 2),
      rec('metrics', 2),
      rec('close', 3),
      rec('metrics', 4),
      rec('stats', 5),
    ];
    const out = stream.map((x) => r.add(x)).join('') + r.finish();
    assert.equal(
      out,
      [
        `begin ${ms(0)}`,
        'existing',
        'existing',
        `cycle ${ms(0)}`,
        'connect',
        'metrics',
        'metrics',
        `cycle ${ms(2)}`,
        'close',
        'metrics',
        `cycle ${ms(4)}`,
        'stats',
        `cycle ${ms(5)}`,
        `end ${ms(5)}`,
        '',
      ].join('\n'),
    );
  });

  it('an empty capture prints nothing', () => {
    assert.equal(new Replay(journal()).finish(), '');
  });
});
