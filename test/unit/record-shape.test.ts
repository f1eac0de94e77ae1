// The record objects the encoder makes keep fast properties in V8: an object
// given over a dozen properties by computed keys goes to dictionary mode,
// where every read of it (by every format, the aggregator, the agent) is a
// hash lookup. V8's own check needs --allow-natives-syntax: a child process.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../../src/root.js';

describe('record objects', () => {
  it('have fast properties', () => {
    const out = execFileSync(
      process.execPath,
      ['--allow-natives-syntax', '--import', 'tsx', join(ROOT, 'test/helpers/record-shape-probe.ts')],
      { encoding: 'utf8' },
    );
    const r = JSON.parse(out) as { fields: number[]; objects: boolean[] };
    assert.ok(Math.max(...r.fields) > 20, `records of over 20 fields were made: ${r.fields.join(', ')}`);
    assert.deepEqual(r.objects, [true, true, true, true]);
  });
});
