// The original's interactive view, with cli-table3: every open connection
// (and those closed since the last refresh, once) with local and remote
// address, PID, process, bytes sent and received and RTT; below it the count
// of passive and active sessions. Redrawn every interval and on Enter.
import Table from 'cli-table3';
import type { NettracerRecord } from '../generated/records.js';
import { forTerminal } from '../tracer/comm.js';
import type { OutputFormat } from './format.js';

type Conn = Extract<NettracerRecord, { saddr: string }>;

interface Row {
  rec: Conn;
  sent: number;
  received: number;
  rttUs: number;
  closed: boolean;
}

const endpoint = (addr: string, port: number) => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

export class TableFormat implements OutputFormat {
  private readonly rows = new Map<number, Row>();

  constructor(private readonly clearScreen: boolean) {}

  records(records: readonly NettracerRecord[]): string {
    for (const rec of records) {
      // Connections only: the original's view has no failed attempts.
      if (!('saddr' in rec) || rec.type === 'connect_failed') continue;
      const row = this.rows.get(rec.id) ?? { rec, sent: 0, received: 0, rttUs: 0, closed: false };
      row.rec = rec;
      if ('bytes_sent' in rec) {
        // The view shows totals: deltas (-i) add up.
        const inc = rec.type === 'metrics' && rec.incremental;
        row.sent = inc ? row.sent + rec.bytes_sent : rec.bytes_sent;
        row.received = inc ? row.received + rec.bytes_received : rec.bytes_received;
        row.rttUs = rec.rtt_us;
      }
      if (rec.type === 'close') row.closed = true;
      this.rows.set(rec.id, row);
    }
    return '';
  }

  cycle(nowMs: number): string {
    const t = new Table({
      head: ['local address', 'remote address', 'pid', 'process', 'bytes sent', 'bytes received', 'rtt (us)'],
      style: { head: [], border: [] },
    });
    let passive = 0;
    let active = 0;
    for (const [id, row] of this.rows) {
      const c = row.rec;
      t.push([
        endpoint(c.saddr, c.sport),
        `${c.direction === 'incoming' ? '<-' : '->'} ${endpoint(c.daddr, c.dport)}${row.closed ? ' (closed)' : ''}`,
        c.pid,
        forTerminal(c.comm),
        row.sent,
        row.received,
        row.rttUs,
      ]);
      if (c.direction === 'incoming') passive++;
      else active++;
      if (row.closed) this.rows.delete(id);
    }
    const clear = this.clearScreen ? '\x1b[H\x1b[2J' : '';
    return `${clear}${new Date(nowMs).toISOString()}\n${t.toString()}\nNumber of passive tcp sessions: ${passive}, active: ${active}, established: ${passive + active}\n`;
  }
}
