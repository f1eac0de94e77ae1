// The original's interactive view (libnettracer/src/netstat.cpp, printHeader()
// and print_human_readable(), with -n on a terminal), to the character, in
// code of our own. No borders, no redraw: the header once, then every
// interval (and on Enter) a row per connection, IPv4 then IPv6, and the count
// of sessions. Columns are left-aligned, a sixth of the terminal wide and at
// least 22 (the local end is its own column, then the arrow, then the remote
// end behind one space in its column):
//   local address         remote address        pid                   bytes sent            bytes received        rtt
//   10.0.0.1:51234        -> 10.0.0.2:80        1234                  1000                  333                   45
//   Number of passive tcp sessions: 0, active: 1, established: 1
// Bytes are totals without header bytes and rtt is in microseconds, whatever
// -i and -s say. A closed connection is shown once more, then dropped; so is
// one idle for 60 s (netstat.cpp clean(), INACTIVE_TIMEOUT).
import type { NettracerRecord } from '../generated/records.js';
import type { OutputFormat } from './format.js';
import { originalAddress, originalFamily } from './log.js';
import { RawTotalsTracker } from './raw-totals.js';

type Conn = Extract<NettracerRecord, { saddr: string }>;

/** netstat.cpp MIN_FIELD_WIDTH. */
const MIN_FIELD_WIDTH = 22;
/** netstat.cpp INACTIVE_TIMEOUT: a minute without a change. */
export const IDLE_MS = 60_000;

interface Row {
  rec: Conn;
  sent: number;
  received: number;
  rttUs: number;
  closed: boolean;
  /** Last change of its counters, or its event (the original's update_time). */
  updatedMs: number;
}

/** std::setw(w) << std::left: padded, never cut. */
const cell = (v: string | number, w: number) => String(v).padEnd(w);

export class TableFormat implements OutputFormat {
  readonly skipFinalCycle = true;
  private readonly rows = new Map<number, Row>();
  private readonly totals: RawTotalsTracker;
  private readonly width: number;

  /** events false: the original's -e 0 (no direction, a closed connection lingers until idle). */
  private readonly events: boolean;

  constructor(opts: { columns?: number; headerSize?: boolean; events?: boolean } = {}) {
    this.width = Math.max(Math.floor((opts.columns ?? 0) / 6), MIN_FIELD_WIDTH);
    this.totals = new RawTotalsTracker(opts.headerSize === true);
    this.events = opts.events !== false;
  }

  begin(): string {
    const w = this.width;
    return `${cell('local address', w)}${cell('remote address', w)}${cell('pid', w)}${cell('bytes sent', w)}${cell('bytes received ', w)}${cell('rtt', w)}\n`;
  }

  records(records: readonly NettracerRecord[]): string {
    for (const rec of records) {
      // Connections only: the original's view has no failed attempts.
      if (!('saddr' in rec) || rec.type === 'connect_failed') continue;
      if (!this.events && (rec.type === 'connect' || rec.type === 'accept')) continue;
      const ms = Date.parse(rec.timestamp);
      const row = this.rows.get(rec.id) ?? { rec, sent: 0, received: 0, rttUs: 0, closed: false, updatedMs: ms };
      row.rec = rec;
      if ('bytes_sent' in rec) {
        const t = this.totals.update(rec);
        const changed = t.bytesSent !== row.sent || t.bytesReceived !== row.received;
        row.sent = t.bytesSent;
        row.received = t.bytesReceived;
        row.rttUs = rec.rtt_us;
        if (changed) row.updatedMs = ms;
      } else row.updatedMs = ms;
      if (rec.type === 'close' && this.events) {
        row.closed = true;
        this.totals.forget(rec.id);
      }
      this.rows.set(rec.id, row);
    }
    return '';
  }

  cycle(nowMs: number): string {
    const w = this.width;
    let out = '';
    let passive = 0;
    const second = (r: Row) => originalFamily(r.rec) === 'ipv6';
    const rows = [...this.rows.entries()].sort(([, a], [, b]) => Number(second(a)) - Number(second(b)));
    for (const [id, row] of rows) {
      const c = row.rec;
      const incoming = c.direction === 'incoming';
      const [sa, da] = [originalAddress(c, c.saddr), originalAddress(c, c.daddr)];
      out += `${cell(`${sa}:${c.sport}`, w)}${incoming ? '<-' : '->'}${cell(` ${da}:${c.dport}`, w)}`;
      out += `${cell(c.pid, w)}${cell(row.sent, w)}${cell(row.received, w)}${cell(row.rttUs, w)}\n`;
      if (incoming) passive++;
      if (row.closed || nowMs - row.updatedMs >= IDLE_MS) {
        this.rows.delete(id);
        this.totals.forget(id);
      }
    }
    const active = rows.length - passive;
    return `${out}Number of passive tcp sessions: ${passive}, active: ${active}, established: ${rows.length} \n`;
  }
}
