// Aggregates of a record stream per process, container and host over
// windows, with the metric keys of Dynatrace's NetTracer (builtin:tech.nettracer.*;
// schemas/v1/summary.schema.json).
// Pure: records in, summary records out; the caller says when time passes.
import type { NettracerRecord, SummaryRecord } from '../generated/records.js';
import { counterGrowth } from '../record/counters.js';

export type Dimension = 'process' | 'container' | 'host';

export interface AggregateOptions {
  /** Window length; undefined: one window over the whole input. */
  windowS?: number;
  host: string;
  by: readonly Dimension[];
}

/** A session's running totals. */
interface Traffic {
  tx: number;
  rx: number;
  pktsTx: number;
  pktsRx: number;
  retr: number;
}

interface Session {
  pid: number;
  comm: string;
  containerId?: string;
  podUid?: string;
  /** Cumulative counters at the start of the current window. */
  base: Traffic;
  /** Cumulative counters as last seen (64-bit: past the wrap of the kernel's 32-bit ones). */
  now: Traffic;
  rttUs: number;
  active: boolean;
  closed: boolean;
}

const ZERO: Traffic = { tx: 0, rx: 0, pktsTx: 0, pktsRx: 0, retr: 0 };

function stats(values: number[]): SummaryRecord['bytes_rx'] {
  if (values.length === 0) return { sum: 0, avg: 0, min: 0, max: 0, count: 0 };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { sum, avg: sum / values.length, min, max, count: values.length };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export class Aggregator {
  private readonly sessions = new Map<number, Session>();
  private windowStart = NaN; // ms
  private lastSeen = NaN; // ms

  constructor(private readonly opts: AggregateOptions) {}

  /** Live use: windows start now, not at the first record. */
  begin(nowMs: number): void {
    this.windowStart = nowMs;
  }

  /** Adds one record; returns the summaries of any window it closed. */
  add(r: NettracerRecord): SummaryRecord[] {
    if (!('saddr' in r)) return [];
    const t = Date.parse(r.timestamp);
    const out = this.opts.windowS !== undefined ? this.tick(t) : [];
    if (Number.isNaN(this.windowStart)) this.windowStart = t;
    this.lastSeen = Number.isNaN(this.lastSeen) ? t : Math.max(this.lastSeen, t);

    let s = this.sessions.get(r.id);
    if (!s) {
      s = {
        pid: r.pid,
        comm: r.comm,
        containerId: r.container_id,
        podUid: r.pod_uid,
        base: ZERO,
        now: ZERO,
        rttUs: 0,
        active: false,
        closed: false,
      };
      this.sessions.set(r.id, s);
    }
    s.active = true;
    if (r.pid !== 0) {
      s.pid = r.pid;
      s.comm = r.comm;
    }
    if (r.type === 'connect' || r.type === 'accept') return out;
    const c: Traffic = {
      tx: r.bytes_sent,
      rx: r.bytes_received,
      pktsTx: r.packets_sent,
      pktsRx: r.packets_received,
      retr: r.packets_retransmitted,
    };
    if (r.type === 'existing') {
      // Traffic from before tracing started belongs to no window.
      s.base = c;
      s.now = c;
    } else if (r.type === 'metrics' && r.incremental) {
      s.now = {
        tx: s.now.tx + c.tx,
        rx: s.now.rx + c.rx,
        pktsTx: s.now.pktsTx + c.pktsTx,
        pktsRx: s.now.pktsRx + c.pktsRx,
        retr: s.now.retr + c.retr,
      };
    } else {
      // Totals (metrics without -i, close always): what they grew by since
      // the last record, added to 64-bit running totals (record/counters.ts).
      const grown = (field: string, now: number, before: number) =>
        before + counterGrowth(field, now, before, r.family);
      s.now = {
        tx: grown('bytes_sent', c.tx, s.now.tx),
        rx: grown('bytes_received', c.rx, s.now.rx),
        pktsTx: grown('packets_sent', c.pktsTx, s.now.pktsTx),
        pktsRx: grown('packets_received', c.pktsRx, s.now.pktsRx),
        retr: grown('packets_retransmitted', c.retr, s.now.retr),
      };
    }
    if (r.rtt_us > 0) s.rttUs = r.rtt_us;
    if (r.type === 'close') s.closed = true;
    return out;
  }

  /** Closes every window that ended at or before `nowMs` (live use, or between records). */
  tick(nowMs: number): SummaryRecord[] {
    const w = this.opts.windowS;
    if (w === undefined || Number.isNaN(this.windowStart)) return [];
    const out: SummaryRecord[] = [];
    while (nowMs >= this.windowStart + w * 1000) {
      out.push(...this.close(this.windowStart, this.windowStart + w * 1000));
      this.windowStart += w * 1000;
    }
    return out;
  }

  /** The last window (the whole input, without --window). */
  finish(endMs?: number): SummaryRecord[] {
    if (Number.isNaN(this.windowStart)) return [];
    const w = this.opts.windowS;
    const end = w !== undefined ? this.windowStart + w * 1000 : Math.max(endMs ?? this.lastSeen, this.windowStart + 1);
    return this.close(this.windowStart, end);
  }

  private close(startMs: number, endMs: number): SummaryRecord[] {
    const active = [...this.sessions.values()].filter((s) => s.active);
    const groups = new Map<string, { dim: Dimension; key: Partial<SummaryRecord>; sessions: Session[] }>();
    const add = (id: string, dim: Dimension, key: Partial<SummaryRecord>, s: Session) => {
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { dim, key, sessions: [] }));
      g.sessions.push(s);
    };
    for (const s of active) {
      if (this.opts.by.includes('host')) add('host', 'host', {}, s);
      if (this.opts.by.includes('container') && s.containerId) {
        add(
          `c/${s.containerId}`,
          'container',
          { container_id: s.containerId, ...(s.podUid ? { pod_uid: s.podUid } : {}) },
          s,
        );
      }
      if (this.opts.by.includes('process')) add(`p/${s.pid}/${s.comm}`, 'process', { pid: s.pid, comm: s.comm }, s);
    }
    // The host always has a row: a quiet window says so.
    if (this.opts.by.includes('host') && !groups.has('host'))
      groups.set('host', { dim: 'host', key: {}, sessions: [] });
    const windowS = (endMs - startMs) / 1000;
    const order: Record<Dimension, number> = { host: 0, container: 1, process: 2 };
    const out: SummaryRecord[] = [];
    for (const g of groups.values()) {
      const rx = g.sessions.map((s) => s.now.rx - s.base.rx);
      const tx = g.sessions.map((s) => s.now.tx - s.base.tx);
      const sum = (f: (s: Session) => number) => g.sessions.reduce((a, s) => a + f(s), 0);
      const pktsTx = sum((s) => s.now.pktsTx - s.base.pktsTx);
      const pktsRx = sum((s) => s.now.pktsRx - s.base.pktsRx);
      const retr = sum((s) => s.now.retr - s.base.retr);
      const rtts = g.sessions.filter((s) => s.rttUs > 0).map((s) => s.rttUs / 1000);
      const bytesRx = stats(rx);
      const bytesTx = stats(tx);
      out.push({
        type: 'summary',
        window_start: new Date(startMs).toISOString(),
        window_end: new Date(endMs).toISOString(),
        window_s: windowS,
        dimension: g.dim,
        host: this.opts.host,
        ...g.key,
        sessions: g.sessions.length,
        bytes_rx: bytesRx,
        bytes_tx: bytesTx,
        pkts_rx: pktsRx,
        pkts_tx: pktsTx,
        pkts_retr: retr,
        retr_percentage: retr + pktsTx > 0 ? round3((retr / (retr + pktsTx)) * 100) : 0,
        rtt: rtts.length
          ? {
              avg: round3(rtts.reduce((a, b) => a + b, 0) / rtts.length),
              min: Math.min(...rtts),
              max: Math.max(...rtts),
            }
          : { avg: 0, min: 0, max: 0 },
        traffic: round3(((bytesRx.sum + bytesTx.sum) * 8) / windowS),
        traffic_rx: round3((bytesRx.sum * 8) / windowS),
        traffic_tx: round3((bytesTx.sum * 8) / windowS),
      });
    }
    out.sort((a, b) => order[a.dimension] - order[b.dimension] || b.traffic - a.traffic);
    // The next window starts from here: closed sessions leave, the rest rebase.
    for (const [id, s] of this.sessions) {
      if (s.closed) this.sessions.delete(id);
      else {
        s.base = s.now;
        s.active = false;
      }
    }
    return out;
  }
}
