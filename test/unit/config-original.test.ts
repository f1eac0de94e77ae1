// --config and the original's args file keys: accepted under their new
// names, or explained when they mean nothing here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/cli/config.js';

describe("--config with the original's keys", () => {
  it('time_interval, map_size, with_loopback, header, counters_interval: taken as their new names', async () => {
    const v = await parseConfig(
      'time_interval=10\nmap_size=4096\nwith_loopback=\nheader=1\ncounters_interval=0\n',
      '/etc/x',
    );
    assert.deepEqual(v, {
      interval: 10,
      'map-size': 4096,
      'with-loopback': true,
      'header-size': true,
      'stats-interval': 0,
    });
  });

  it('no_stdout_log, noninteractive and clear_probes: one line that says what to use instead', async () => {
    for (const [key, why] of [
      ['no_stdout_log', /--format table or legacy \(or run nettracer-compat\)$/],
      ['noninteractive', /use --format legacy \(or run nettracer-compat\)$/],
      ['clear_probes', /nettracer pins nothing, so there is nothing to clear/],
    ] as const) {
      await assert.rejects(parseConfig(`${key}=1\n`, '/etc/x'), (e: Error) => {
        assert.ok(e.message.startsWith(`/etc/x:1: ${key}: `), e.message);
        assert.match(e.message, why);
        return true;
      });
    }
  });
});
