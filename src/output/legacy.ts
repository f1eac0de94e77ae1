// The original NetTracer's non-interactive machine format (netstat.cpp
// print(), tuple_utils.cpp operator<<), column for column, in code of our own.
// One line per connection every interval; a closed connection once more, then
// it drops out; each cycle ends with a line holding one space. Layout (man page
// "LEGACY FORMAT"), IPv4:
//   %12d epoch " 0 " %08X saddr " " %04X sport " 0 " %08X daddr " " %04X dport " "
//   %12u pid %12u netns " " E D C " " %22u bytes_sent %22u bytes_received
//   %22u packets_sent %22u packets_received %22u retransmissions %12u rtt %12u rtt_var
//   then, for established connections, %16d start epoch %9d duration (s).
// IPv4 addresses print as /proc/net/tcp does (127.0.0.1 -> 0100007F); IPv6 as
// two 8-byte halves, each byte-reversed (::1 -> 00000000000000000100000000000000).
import type { NettracerRecord } from '../generated/records.js';
import { counterGrowth } from '../record/counters.js';
import { isMapped } from '../record/mapped.js';
import { ipv6Bytes } from '../tracer/address.js';
import type { OutputFormat } from './format.js';

type Counted = Extract<NettracerRecord, { rtt_us: number }>;

const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, '0');
const r = (v: number | string, w: number) => String(v).padStart(w, ' ');

export function legacyAddress(text: string, family: 'ipv4' | 'ipv6'): string {
  if (family === 'ipv4') {
    const [a, b, c, d] = text.split('.').map(Number);
    return hex(d, 2) + hex(c, 2) + hex(b, 2) + hex(a, 2);
  }
  const bytes = ipv6Bytes(text);
  const half = (from: number) =>
    bytes
      .slice(from, from + 8)
      .reverse()
      .map((x) => hex(x, 2))
      .join('');
  return half(0) + half(8);
}

interface Totals {
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  retrans: number;
}

interface Row {
  rec: Counted;
  totals: Totals; // cumulative, for deltas of closed connections under -i
  closed: boolean;
  endMs?: number;
  /** Last change of its counters, or its event (netstat.cpp update_time). */
  updatedMs: number;
}

/** netstat.cpp INACTIVE_TIMEOUT: a connection whose counters did not change for a minute is dropped. */
const IDLE_MS = 60_000;

export class LegacyFormat implements OutputFormat {
  /** The original prints no interval once asked to stop. */
  readonly skipFinalCycle = true;
  /** id -> start, ms: only for connections whose connect or accept was seen (E=1). */
  private readonly starts = new Map<number, number>();
  private readonly rows = new Map<number, Row>();
  private readonly printed = new Map<number, Totals>(); // -i: totals at the last print
  /** D: the connection was accepted (its accept event was seen). */
  private readonly accepted = new Map<number, boolean>();

  /**
   * events false (the original's -e 0): no event reaches the table, so no
   * state bit, no start, and a closed connection lingers until idle.
   */
  constructor(
    private readonly incremental: boolean,
    private readonly events = true,
  ) {}

  /** The original's session counts over what the last cycle printed (netstat.cpp countTcpSessions()). */
  sessions = { passive: 0, active: 0, established: 0 };

  records(records: readonly NettracerRecord[]): string {
    for (const rec of records) {
      // The original has no failed attempts: its formats leave them out.
      if (!('saddr' in rec) || rec.type === 'connect_failed') continue;
      if (!this.events && (rec.type === 'connect' || rec.type === 'accept')) continue;
      const t = Date.parse(rec.timestamp);
      // Only an event sets the state bits and the start: a connection open
      // before tracing (existing) prints 000 and no start or duration, as
      // the original's (netstat.cpp at 2d136ac: initConnection() sets no state).
      if (rec.type === 'connect' || rec.type === 'accept') {
        this.starts.set(rec.id, t);
        this.accepted.set(rec.id, rec.type === 'accept');
        const row = this.rows.get(rec.id);
        if (row) row.updatedMs = t;
        continue;
      }
      const before = this.rows.get(rec.id);
      const totals = this.totals(rec, before?.totals);
      const changed =
        !before ||
        rec.type === 'close' ||
        totals.bytesSent !== before.totals.bytesSent ||
        totals.bytesReceived !== before.totals.bytesReceived ||
        totals.packetsSent !== before.totals.packetsSent ||
        totals.packetsReceived !== before.totals.packetsReceived ||
        totals.retrans !== before.totals.retrans;
      this.rows.set(rec.id, {
        rec,
        totals,
        closed: rec.type === 'close' && this.events,
        endMs: rec.type === 'close' && this.events ? t : undefined,
        updatedMs: changed ? t : (before?.updatedMs ?? t),
      });
    }
    return '';
  }

  /**
   * Cumulative counters: metrics under -i are deltas, everything else
   * totals, whose growth since the previous record is added (64-bit: past
   * the wrap of the kernel's 32-bit counters, record/counters.ts).
   */
  private totals(rec: Counted, prev: Totals | undefined): Totals {
    const v = {
      bytesSent: rec.bytes_sent,
      bytesReceived: rec.bytes_received,
      packetsSent: rec.packets_sent,
      packetsReceived: rec.packets_received,
      retrans: rec.packets_retransmitted,
    };
    if (!prev) return v;
    const inc = rec.type === 'metrics' && rec.incremental;
    const add = (field: string, now: number, before: number) =>
      before + (inc ? now : counterGrowth(field, now, before, rec.family));
    return {
      bytesSent: add('bytes_sent', v.bytesSent, prev.bytesSent),
      bytesReceived: add('bytes_received', v.bytesReceived, prev.bytesReceived),
      packetsSent: add('packets_sent', v.packetsSent, prev.packetsSent),
      packetsReceived: add('packets_received', v.packetsReceived, prev.packetsReceived),
      retrans: add('packets_retransmitted', v.retrans, prev.retrans),
    };
  }

  cycle(nowMs: number): string {
    let out = '';
    const now = Math.floor(nowMs / 1000);
    // IPv4 first, then IPv6, as the original prints its two tables; an IPv6
    // socket between IPv4-mapped addresses is in the second, in IPv4 layout
    // (tuple_utils.cpp operator<< of ipv6_tuple_t).
    const second = (r: Row) => r.rec.family === 'ipv6' || isMapped(r.rec);
    const rows = [...this.rows.entries()].sort(([, a], [, b]) => Number(second(a)) - Number(second(b)));
    let passive = 0;
    for (const [id] of rows) if (this.accepted.get(id)) passive++;
    this.sessions = {
      passive,
      active: rows.length - passive,
      established: rows.filter(([id]) => this.starts.has(id)).length,
    };
    for (const [id, row] of rows) {
      out += this.line(now, nowMs, row, this.starts.get(id), this.printed.get(id)) + '\n';
      this.printed.set(id, row.totals);
      if (row.closed || nowMs - row.updatedMs >= IDLE_MS) {
        this.rows.delete(id);
        this.starts.delete(id);
        this.accepted.delete(id);
        this.printed.delete(id);
      }
    }
    return out + ' \n';
  }

  line(now: number, nowMs: number, row: Row, startMs: number | undefined, last: Totals | undefined): string {
    const c = row.rec;
    const fam = c.family === 'ipv4' ? '0' : '1';
    const d = this.incremental && last ? last : undefined;
    const v = row.totals;
    const sub = (a: number, b: number | undefined) => Math.max(0, a - (b ?? 0));
    let s =
      r(now, 12) +
      ` ${fam} ${legacyAddress(c.saddr, c.family)} ${hex(c.sport, 4)} ${fam} ${legacyAddress(c.daddr, c.family)} ${hex(c.dport, 4)} ` +
      r(c.pid, 12) +
      r(c.netns, 12) +
      ` ${startMs !== undefined ? 1 : 0}${this.accepted.get(c.id) ? 1 : 0}${row.closed ? 1 : 0} ` +
      r(sub(v.bytesSent, d?.bytesSent), 22) +
      r(sub(v.bytesReceived, d?.bytesReceived), 22) +
      r(sub(v.packetsSent, d?.packetsSent), 22) +
      r(sub(v.packetsReceived, d?.packetsReceived), 22) +
      r(sub(v.retrans, d?.retrans), 22) +
      r(c.rtt_us, 12) +
      r(c.rtt_var_us, 12);
    if (startMs !== undefined) {
      // duration_cast<seconds>(end - start): whole seconds of the duration, not of floored times.
      const endMs = row.endMs ?? nowMs;
      s += r(Math.floor(startMs / 1000), 16) + r(Math.max(0, Math.floor((endMs - startMs) / 1000)), 9);
    }
    return s;
  }
}
