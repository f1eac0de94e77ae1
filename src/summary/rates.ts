// Per-connection rates for live views (`nettracer top`). Two sources: the
// metrics walks, taken in memory (the session's walks into a
// MetricsRates: no record per connection per refresh), and the records of
// events (opening records, closes, failed attempts), which name a
// connection's owner, container and direction once and end it. A refresh
// updates one object per connection in place and makes none: it costs what
// the walk costs plus a few field writes per connection. Pure: readings in,
// a sample out; the caller says when time passes.
import type { NettracerRecord } from '../generated/records.js';
import { DIRECTION } from '../generated/wire.js';
import { counterGrowth } from '../record/counters.js';
import type { ConnectionRate } from '../tracer/rates.js';

/** One connection in a sample. Rates are per second over the sample's period. */
export interface ConnectionSample {
  readonly id: number;
  pid: number;
  comm: string;
  /** Container id ('' on the host). */
  container: string;
  readonly saddr: string;
  readonly sport: number;
  readonly daddr: string;
  readonly dport: number;
  readonly incoming: boolean;
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
  /** The same objects from one sample to the next, updated in place. */
  connections: ConnectionSample[];
  /** Over the period: outgoing attempts that failed (connect_failed records), and connection ends reset (close_reason). */
  failed: number;
  resets: number;
}

/** What a live view reads of a connection in a walk's table. */
export type WalkReading = Pick<
  ConnectionRate,
  | 'id'
  | 'pid'
  | 'comm'
  | 'saddr'
  | 'sport'
  | 'daddr'
  | 'dport'
  | 'direction'
  | 'bytesSent'
  | 'bytesReceived'
  | 'packetsSent'
  | 'packetsRetransmitted'
  | 'rttUs'
>;

/** What a live view reads of a MetricsRates (src/tracer/rates.ts) after a walk. */
export interface WalkTable {
  readonly walks: number;
  readonly connections: ReadonlyMap<number, WalkReading>;
}

/** A connection followed: its sample, and what its next growth is counted from. */
interface Tracked extends ConnectionSample {
  /** Counters as last read (a walk or a record): the next growth is counted from them. */
  lastTx: number;
  lastRx: number;
  lastPktsTx: number;
  lastRetr: number;
  /** Growth over the period so far. */
  pTx: number;
  pRx: number;
  pPktsTx: number;
  pRetr: number;
  /** Bytes and retransmissions since first seen. */
  seenBytes: number;
  seenRetr: number;
  /** The walk that last saw it. */
  walk: number;
  /** When its close record came (ms); -1: open (always a number: one shape for every connection). */
  closedMs: number;
}

/** close_reason values that are a reset, received or sent. */
const RESET = new Set(['reset_received', 'reset_sent', 'aborted']);

/** The kernel's packet counters are 32 bits (record/counters.ts): their growth is counted modulo 2^32. */
const PKT_WRAP = 2 ** 32;

/** Retransmitted segments as a share of all sent (Dynatrace's retr_percentage): retr / (retr + tx) x 100. */
export function retrPercentage(retr: number, pktsTx: number): number {
  return retr + pktsTx > 0 ? (retr / (retr + pktsTx)) * 100 : 0;
}

export class LiveRates {
  private readonly conns = new Map<number, Tracked>();
  private lastSampleMs = NaN;
  private failed = 0;
  private resets = 0;
  /** The latest walk sampled: a connection opened since is due in the next one. */
  private lastWalk = 0;

  /**
   * @param keepClosedMs how long a closed connection stays in samples after its close record.
   * @param recordsOnly show only connections whose opening record came (--container: the
   *   writer leaves out the records of other containers; the walk does not).
   */
  constructor(
    private readonly keepClosedMs = 5000,
    private readonly recordsOnly = false,
  ) {}

  /** Starts the first period (before any record). */
  begin(nowMs: number): void {
    this.lastSampleMs = nowMs;
  }

  /** A record of an event (opening, close, failed attempt); metrics come from walks. */
  add(r: NettracerRecord, nowMs: number): void {
    if (!('saddr' in r)) return;
    if (r.type === 'connect_failed') {
      this.failed++; // an attempt, not a connection: no row
      return;
    }
    if (r.type === 'close' && r.close_reason && RESET.has(r.close_reason)) this.resets++;
    let t = this.conns.get(r.id);
    if (!t) {
      // Found open at start (or a metrics record): what it moved before is no one's rate.
      const base = 'bytes_sent' in r && r.type !== 'close';
      t = tracked(r, r.direction === 'incoming', r.container_id ?? '', this.lastWalk);
      if (base && 'bytes_sent' in r) {
        t.lastTx = r.bytes_sent;
        t.lastRx = r.bytes_received;
        t.lastPktsTx = r.packets_sent;
        t.lastRetr = r.packets_retransmitted;
      }
      this.conns.set(r.id, t);
    }
    // Keep the owner a later record names (an accept's pid may be 0 before the process takes it).
    if (r.pid !== 0 || t.pid === 0) {
      t.pid = r.pid;
      t.comm = r.comm;
      t.container = r.container_id ?? '';
    }
    if (r.type !== 'close') return;
    // Its last counters: growth since the walk that last read it.
    grow(
      t,
      counterGrowth('bytes_sent', r.bytes_sent, t.lastTx, r.family),
      counterGrowth('bytes_received', r.bytes_received, t.lastRx, r.family),
      counterGrowth('packets_sent', r.packets_sent, t.lastPktsTx, r.family),
      counterGrowth('packets_retransmitted', r.packets_retransmitted, t.lastRetr, r.family),
    );
    if (r.rtt_us > 0) t.rttUs = r.rtt_us;
    t.closedMs = nowMs;
  }

  /**
   * The connections after a walk (`table`), with their rates since the
   * previous sample; starts the next period. A connection the walk did not
   * see and whose close has not come yet (it closed between the drain before
   * the walk and the walk) is left out once, and forgotten the next time.
   */
  sample(nowMs: number, table: WalkTable): Sample {
    const periodS = Number.isNaN(this.lastSampleMs) ? 0 : Math.max(0, nowMs - this.lastSampleMs) / 1000;
    this.lastSampleMs = nowMs;
    const walk = table.walks;
    this.lastWalk = walk;
    for (const c of table.connections.values()) {
      let t = this.conns.get(c.id);
      if (t === undefined) {
        if (this.recordsOnly) continue;
        // No opening record (lost, or before the view began): from its first reading on.
        t = tracked(c, c.direction === DIRECTION.incoming, '', walk);
        t.lastTx = c.bytesSent;
        t.lastRx = c.bytesReceived;
        t.lastPktsTx = c.packetsSent;
        t.lastRetr = c.packetsRetransmitted;
        this.conns.set(c.id, t);
      }
      if (t.closedMs >= 0) continue; // its close counted last
      // The growth of each counter, inline: this runs for every connection
      // at every refresh (a call through counterDelta() and its % cost a
      // third of a refresh). Packet counters wrap at 2^32; byte counters
      // never go back.
      const tx = c.bytesSent - t.lastTx;
      const rx = c.bytesReceived - t.lastRx;
      let pkts = c.packetsSent - t.lastPktsTx;
      if (pkts < 0) pkts += PKT_WRAP;
      let retr = c.packetsRetransmitted - t.lastRetr;
      if (retr < 0) retr += PKT_WRAP;
      if (tx > 0) {
        t.lastTx = c.bytesSent;
        t.pTx += tx;
        t.seenBytes += tx;
      }
      if (rx > 0) {
        t.lastRx = c.bytesReceived;
        t.pRx += rx;
        t.seenBytes += rx;
      }
      t.lastPktsTx = c.packetsSent;
      t.pPktsTx += pkts;
      t.lastRetr = c.packetsRetransmitted;
      t.pRetr += retr;
      t.seenRetr += retr;
      if (c.rttUs > 0) t.rttUs = c.rttUs;
      if (c.pid !== t.pid && c.pid !== 0) {
        t.pid = c.pid;
        t.comm = c.comm;
      }
      t.walk = walk;
    }
    const per = periodS > 0 ? 1 / periodS : 0;
    const connections: ConnectionSample[] = [];
    for (const t of this.conns.values()) {
      const closed = t.closedMs >= 0;
      if (closed) {
        if (nowMs - t.closedMs > this.keepClosedMs) {
          this.conns.delete(t.id);
          continue;
        }
      } else if (t.walk !== walk) {
        if (t.walk < walk - 1) this.conns.delete(t.id);
        continue;
      }
      t.txRate = t.pTx * per;
      t.rxRate = t.pRx * per;
      t.periodRetr = t.pRetr;
      t.periodPktsTx = t.pPktsTx;
      t.bytes = t.seenBytes;
      t.retr = t.seenRetr;
      t.closed = closed;
      t.pTx = 0;
      t.pRx = 0;
      t.pPktsTx = 0;
      t.pRetr = 0;
      connections.push(t);
    }
    const out = { atMs: nowMs, periodS, connections, failed: this.failed, resets: this.resets };
    this.failed = 0;
    this.resets = 0;
    return out;
  }

  /** Connections followed now (closed ones until they leave). */
  get size(): number {
    return this.conns.size;
  }
}

/** A connection first seen in a record or in walk `walk` (a record: the walk before it, so that the next must see it). */
function tracked(
  o: { id: number; pid: number; comm: string; saddr: string; sport: number; daddr: string; dport: number },
  incoming: boolean,
  container: string,
  walk: number,
): Tracked {
  return {
    id: o.id,
    pid: o.pid,
    comm: o.comm,
    container,
    saddr: o.saddr,
    sport: o.sport,
    daddr: o.daddr,
    dport: o.dport,
    incoming,
    txRate: 0,
    rxRate: 0,
    bytes: 0,
    retr: 0,
    periodRetr: 0,
    periodPktsTx: 0,
    rttUs: 0,
    closed: false,
    lastTx: 0,
    lastRx: 0,
    lastPktsTx: 0,
    lastRetr: 0,
    pTx: 0,
    pRx: 0,
    pPktsTx: 0,
    pRetr: 0,
    seenBytes: 0,
    seenRetr: 0,
    walk,
    closedMs: -1,
  };
}

function grow(t: Tracked, tx: number, rx: number, pktsTx: number, retr: number): void {
  t.lastTx += tx;
  t.lastRx += rx;
  t.lastPktsTx = (t.lastPktsTx + pktsTx) % PKT_WRAP;
  t.lastRetr = (t.lastRetr + retr) % PKT_WRAP; // at a close only: not per refresh
  t.pTx += tx;
  t.pRx += rx;
  t.pPktsTx += pktsTx;
  t.pRetr += retr;
  t.seenBytes += tx + rx;
  t.seenRetr += retr;
}
