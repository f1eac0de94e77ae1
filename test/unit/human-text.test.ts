// The formats for people show text that may hold anything (a capture file's
// fields, summarized) without letting it move the cursor, clear the screen
// or reorder what is around it: controls and invisible formatting
// characters read as their UTF-8 bytes, \xNN, as in process names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NettracerRecord, SummaryRecord } from '../../src/generated/records.js';
import { summaryTable } from '../../src/output/summary-table.js';
import { TableFormat } from '../../src/output/table.js';

const HOSTILE = 'ev\u202eil\u200b\x1b[2J\u2066x\u2069\ufeff';
const SHOWN = 'ev\\xe2\\x80\\xaeil\\xe2\\x80\\x8b\\x1b[2J\\xe2\\x81\\xa6x\\xe2\\x81\\xa9\\xef\\xbb\\xbf';
const INVISIBLE =
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

describe('text in the formats for people', () => {
  it("the table (the original's: no process name column) lets no control or invisible character through", () => {
    const f = new TableFormat();
    f.records([
      {
        type: 'metrics',
        timestamp: '2026-01-01T00:00:00.000Z',
        id: 1,
        pid: 7,
        comm: HOSTILE,
        family: 'ipv4',
        saddr: '10.0.0.1',
        sport: 1,
        daddr: '10.0.0.2',
        dport: 2,
        netns: 1,
        direction: 'outgoing',
        bytes_sent: 1,
        bytes_received: 2,
        packets_sent: 1,
        packets_received: 1,
        packets_retransmitted: 0,
        rtt_us: 1,
        rtt_var_us: 1,
        incremental: false,
      },
    ] as NettracerRecord[]);
    const text = f.begin() + f.cycle(0);
    assert.ok(!text.includes('ev'), text);
    assert.doesNotMatch(text, INVISIBLE);
  });

  it("summarize's table shows a capture's process names and container ids the same way", () => {
    const stats = { sum: 0, avg: 0, min: 0, max: 0, count: 0 };
    const row = (over: Partial<SummaryRecord>): SummaryRecord => ({
      type: 'summary',
      window_start: '2026-01-01T00:00:00.000Z',
      window_end: '2026-01-01T00:00:10.000Z',
      window_s: 10,
      dimension: 'process',
      host: 'h',
      sessions: 1,
      bytes_rx: stats,
      bytes_tx: stats,
      pkts_rx: 0,
      pkts_tx: 0,
      pkts_retr: 0,
      retr_percentage: 0,
      rtt: { avg: 0, min: 0, max: 0 },
      traffic: 0,
      traffic_rx: 0,
      traffic_tx: 0,
      ...over,
    });
    const text = summaryTable([
      row({ pid: 7, comm: HOSTILE }),
      row({ dimension: 'container', container_id: '\u202e\x1b[2Jabcdef' }),
    ]);
    assert.ok(text.includes(`7 ${SHOWN}`), text);
    assert.ok(text.includes('\\xe2\\x80\\xae\\x1b[2Jabc'), text);
    assert.doesNotMatch(text, INVISIBLE);
  });

  it("summarize's table: '-' where no session gave an RTT, and the unit in the header", () => {
    const stats = { sum: 0, avg: 0, min: 0, max: 0, count: 0 };
    const text = summaryTable([
      {
        type: 'summary',
        window_start: '2026-01-01T00:00:00.000Z',
        window_end: '2026-01-01T00:00:03.000Z',
        window_s: 3,
        dimension: 'host',
        host: 'h',
        sessions: 1,
        bytes_rx: stats,
        bytes_tx: stats,
        pkts_rx: 0,
        pkts_tx: 0,
        pkts_retr: 0,
        retr_percentage: 0,
        traffic: 0,
        traffic_rx: 0,
        traffic_tx: 0,
      },
    ]);
    assert.match(text, /rtt avg \(ms\)/);
    assert.match(text, /│ - +│ 0 bit\/s/);
  });
});
