// Which kernels get which path, from the first versions of what nettracer uses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareVersions, KERNEL_FEATURES, minimumVersions, pathOf } from '../../src/tracer/kernel-support.js';

const HOOKS = [
  { since: '4.16', required: true },
  { since: '4.15', required: false },
  { since: '6.3', required: false, group: 'io' },
  { since: '6.3', required: false, group: 'io' },
  { since: '5.8', required: true },
];

describe('kernel support', () => {
  it('compares versions by number, not text', () => {
    assert.ok(compareVersions('5.12', '5.4') > 0);
    assert.ok(compareVersions('6.1', '6.10') < 0);
    assert.equal(compareVersions('6.3', '6.3.0'), 0);
  });

  it('the counters path needs the newest needed feature; calls adds the send/receive group', () => {
    const min = minimumVersions(HOOKS);
    const newest = KERNEL_FEATURES.filter((f) => !f.optional)
      .map((f) => f.since)
      .sort(compareVersions)
      .at(-1);
    assert.equal(min.counters, newest);
    assert.equal(min.calls, '6.3');
  });

  it('a kernel gets the best path it can; no BTF, none', () => {
    const min = { counters: '5.12', calls: '6.3' };
    assert.equal(pathOf({ name: 'a', kernel: '6.12' }, min), 'calls');
    assert.equal(pathOf({ name: 'b', kernel: '6.1' }, min), 'counters');
    assert.equal(pathOf({ name: 'c', kernel: '5.10' }, min), 'none');
    assert.equal(pathOf({ name: 'd', kernel: '6.8', noBtf: true }, min), 'none');
  });
});
