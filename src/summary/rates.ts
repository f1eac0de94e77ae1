// Per-connection rates for live views (`nettracer top`): what each connection
// moved between two samples, from its records' cumulative counters. Growth
// is counted by record/counters.ts, as summarize counts it, so a 32-bit
// counter that wraps is no drop to zero. Pure: records in, a sample out; the
// caller says when time passes.
import type { NettracerRecord } from '../generated/records.js';
import { counterGrowth } from '../record/counters.js';

type Conn = Extract<NettracerRecord, { saddr: string }>;

/** The counters a live view follows, as 64-bit running totals. */
interface Totals {
  tx: number;
  rx: number;
  pktsTx: number;
  retr: number;
}

interface Tracked {
  rec: Conn;
  /** Totals since the connection was first seen (an existing one: since tracing started). */
  seen: Totals;
  /** Totals as the kernel last reported them (for the growth of the next record). */
  last: Totals;
  /** Growth since the previous sample. */
  period: Totals;
  rttUs: number;
  /** When its close record came (ms), if it did. */
  closedMs?: number;
}

/** One connection in a sample. Rates are per second over the sample's period. */
export interface ConnectionSample {
  id: number;
  rec: Conn;
  /** Bytes per second sent and received over the period. */
  txRate: number;
  rxRate: number;
  /** Bytes sent and received since first seen. */
  bytes: number;
  /** Segments retransmitted since first seen, and over the period. */
  retr: number;
  periodRetr: number;
  periodPktsTx: number;
  /** Latest smoothed RTT (0: no sample yet). */
  rttUs: number;
  closed: boolean;
}

export interface Sample {
  atMs: number;
  /** Seconds the rates are over. */
  periodS: number;
  connections: ConnectionSample[];
}

/** New totals at 0 (a literal: faster than spreading a constant, which a sample does per connection). */
const zero = (): Totals => ({ tx: 0, rx: 0, pktsTx: 0, retr: 0 });

/** Retransmitted segments as a share of all sent (Dynatrace's retr_percentage): retr / (retr + tx) x 100. */
export function retrPercentage(retr: number, pktsTx: number): number {
  return retr + pktsTx > 0 ? (retr / (retr + pktsTx)) * 100 : 0;
}

export class ConnectionRates {
  private readonly conns = new Map<number, Tracked>();
  private lastSampleMs = NaN;

  /** @param keepClosedMs how long a closed connection stays in samples after its close record. */
  constructor(private readonly keepClosedMs = 5000) {}

  /** Starts the first period (before any record). */
  begin(nowMs: number): void {
    this.lastSampleMs = nowMs;
  }

  add(r: NettracerRecord, nowMs: number): void {
    if (!('saddr' in r)) return;
    let t = this.conns.get(r.id);
    if (!t) {
      // A connection first seen with counters (existing, or a metrics record
      // of one opened before tracing): what it moved before is no one's rate.
      const base = 'bytes_sent' in r && r.type !== 'close' ? totalsOf(r) : zero();
      t = { rec: r, seen: zero(), last: base, period: zero(), rttUs: 0 };
      this.conns.set(r.id, t);
    }
    // Keep the owner a later record names (an accept's pid may be 0 before the process takes it).
    if (r.pid !== 0 || t.rec.pid === 0) t.rec = r;
    if (!('bytes_sent' in r)) return;
    if (r.type !== 'existing') {
      // Each field by name, not through a table of keys: a walk adds thousands
      // of records per refresh, and named reads are the cheaper ones in V8.
      grow(t, 'tx', counterGrowth('bytes_sent', r.bytes_sent, t.last.tx, r.family));
      grow(t, 'rx', counterGrowth('bytes_received', r.bytes_received, t.last.rx, r.family));
      grow(t, 'pktsTx', counterGrowth('packets_sent', r.packets_sent, t.last.pktsTx, r.family));
      grow(t, 'retr', counterGrowth('packets_retransmitted', r.packets_retransmitted, t.last.retr, r.family));
    }
    if (r.rtt_us > 0) t.rttUs = r.rtt_us;
    if (r.type === 'close') t.closedMs = nowMs;
  }

  /** The connections with their rates since the previous sample; starts the next period. */
  sample(nowMs: number): Sample {
    const periodS = Number.isNaN(this.lastSampleMs) ? 0 : Math.max(0, nowMs - this.lastSampleMs) / 1000;
    this.lastSampleMs = nowMs;
    const per = (n: number) => (periodS > 0 ? n / periodS : 0);
    const connections: ConnectionSample[] = [];
    for (const [id, t] of this.conns) {
      if (t.closedMs !== undefined && nowMs - t.closedMs > this.keepClosedMs) {
        this.conns.delete(id);
        continue;
      }
      connections.push({
        id,
        rec: t.rec,
        txRate: per(t.period.tx),
        rxRate: per(t.period.rx),
        bytes: t.seen.tx + t.seen.rx,
        retr: t.seen.retr,
        periodRetr: t.period.retr,
        periodPktsTx: t.period.pktsTx,
        rttUs: t.rttUs,
        closed: t.closedMs !== undefined,
      });
      t.period = zero();
    }
    return { atMs: nowMs, periodS, connections };
  }

  /** Connections followed now (closed ones until they leave). */
  get size(): number {
    return this.conns.size;
  }
}

function grow(t: Tracked, k: keyof Totals, by: number): void {
  t.last[k] += by;
  t.seen[k] += by;
  t.period[k] += by;
}

function totalsOf(r: Extract<Conn, { bytes_sent: number }>): Totals {
  return { tx: r.bytes_sent, rx: r.bytes_received, pktsTx: r.packets_sent, retr: r.packets_retransmitted };
}
