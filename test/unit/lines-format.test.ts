// The event lines of a failed attempt and of how connections end (issue 21's
// records in --format lines).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NettracerRecord } from '../../src/generated/records.js';
import { LinesFormat } from '../../src/output/lines.js';

const base = {
  timestamp: '2026-01-02T03:04:05.006Z',
  id: 1,
  pid: 42,
  comm: 'curl',
  family: 'ipv4',
  saddr: '10.0.0.1',
  sport: 40000,
  daddr: '10.0.0.2',
  dport: 443,
  netns: 1,
  direction: 'outgoing',
} as const;
const counters = {
  bytes_sent: 10,
  bytes_received: 20,
  packets_sent: 3,
  packets_received: 3,
  packets_retransmitted: 0,
  rtt_us: 1500,
  rtt_var_us: 100,
  duration_ms: 12,
};
const fields = (line: string) => line.trim().split(/ +/);

describe('lines: failures and endings', () => {
  it('a failed attempt: "failed", its error, SYNs and how long it tried', () => {
    const out = new LinesFormat().records([
      { type: 'connect_failed', ...base, error: 'ETIMEDOUT', errno: 110, syns_sent: 3, duration_ms: 3012 },
    ] as NettracerRecord[]);
    const f = fields(out);
    assert.deepEqual(f.slice(1, 7), ['failed', '42', 'curl', '10.0.0.1:40000', '->', '10.0.0.2:443']);
    assert.equal(f.slice(7).join(' '), 'ETIMEDOUT, 3 SYNs, 3.01 s');
  });

  it('a close ends with its reason: fin and who began it, a reset and its error, or - when unknown', () => {
    const f = new LinesFormat();
    const end = (extra: object) =>
      fields(f.records([{ type: 'close', ...base, ...counters, ...extra }] as NettracerRecord[])).at(-1);
    assert.equal(end({ close_reason: 'fin', first_fin: 'remote' }), 'fin:remote');
    assert.equal(end({ close_reason: 'reset_received', error: 'ECONNRESET', errno: 104 }), 'reset_received:ECONNRESET');
    assert.equal(end({ close_reason: 'aborted' }), 'aborted');
    assert.equal(end({}), '-');
  });
});
