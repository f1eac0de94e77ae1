// Per-connection rates for live views (`nettracer top`). Two sources: the
// metrics walks, read in place as the session hands over each chunk (this is
// the session's MetricsSampler: no record and no second table per connection
// per refresh), and the records of events (opening records, closes, failed
// attempts), which name a connection's owner, container and direction once
// and end it. A connection is one object, found with one lookup per walk and
// updated in place; a sample then makes rates of what the walks added up.
// Pure: readings in, a sample out; the caller says when time passes.
import type { NettracerRecord } from '../generated/records.js';
import { DIRECTION } from '../generated/wire.js';
import { counterGrowth } from '../record/counters.js';
import { RecordView } from '../tracer/decode.js';
import { takeMetrics } from '../tracer/rates.js';
import type { MetricsSampler } from '../tracer/session.js';

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

/** The host's totals over a sample's period (the view's header line). */
export interface Totals {
  /** Connections open, of them incoming, and closed (still shown). */
  open: number;
  incoming: number;
  closed: number;
  /** Bytes per second received and sent, all connections shown. */
  rxRate: number;
  txRate: number;
  /** Segments retransmitted and sent over the period. */
  retr: number;
  pktsTx: number;
}

export interface Sample {
  atMs: number;
  /** Seconds the rates are over. */
  periodS: number;
  /**
   * The same objects from one sample to the next, updated in place, in the
   * same array, refilled by the next sample: a sample is read before the next.
   */
  connections: ConnectionSample[];
  totals: Totals;
  /** Over the period: outgoing attempts that failed (connect_failed records), and connection ends reset (close_reason). */
  failed: number;
  resets: number;
}

/** A sample of nothing (before the first). */
export function emptySample(atMs: number): Sample {
  return { atMs, periodS: 0, connections: [], totals: noTotals(), failed: 0, resets: 0 };
}

const noTotals = (): Totals => ({ open: 0, incoming: 0, closed: 0, rxRate: 0, txRate: 0, retr: 0, pktsTx: 0 });

/**
 * What a live view reads of a connection in a metrics walk, under the names
 * of the kernel record's members: the session's RecordView on a walk chunk
 * is one, read in place.
 */
export interface WalkReading {
  readonly id: number;
  readonly pid: number;
  readonly comm: string;
  readonly saddr: string;
  readonly sport: number;
  readonly daddr: string;
  readonly dport: number;
  /** enum nt_direction (DIRECTION in src/generated/wire.ts). */
  readonly direction: number;
  readonly bytes_sent: number;
  readonly bytes_received: number;
  readonly packets_sent: number;
  readonly packets_retransmitted: number;
  readonly rtt_us: number;
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
  /** The latest RTT read (0: none yet): shown from the next sample on. */
  lastRtt: number;
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

/**
 * The live view's connections. Records go to record(); metrics walks come
 * in as a MetricsSampler (begin(), add() each chunk, end()); sample() ends
 * a period. Between samples, walks add up each connection's growth, so a
 * sample left out (a paused screen) makes the next one's period longer, not
 * its rates wrong.
 */
export class LiveRates implements MetricsSampler {
  private readonly conns = new Map<number, Tracked>();
  private lastSampleMs = NaN;
  private failed = 0;
  private resets = 0;
  /** Walks begun, and complete: a connection a record opens is due in the walk after the last complete one. */
  private walks = 0;
  private walked = 0;
  /** Readings of connections not followed yet, taken in at end() (after the records the walk brought). */
  private pending: WalkReading[] = [];
  private readonly view = new RecordView();
  private readonly taker = (v: RecordView): boolean => {
    this.reading(v);
    return true;
  };
  /** The connections of the latest sample (one array, refilled). */
  private readonly shown: Tracked[] = [];

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
  start(nowMs: number): void {
    this.lastSampleMs = nowMs;
  }

  /** A record of an event (opening, close, failed attempt); metrics come from walks. */
  record(r: NettracerRecord, nowMs: number): void {
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
      t = tracked(r, r.direction === 'incoming', r.container_id ?? '', this.walked);
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
    if (r.rtt_us > 0) t.lastRtt = r.rtt_us;
    t.closedMs = nowMs;
  }

  /** A metrics walk begins. */
  begin(): void {
    this.walks++;
  }

  /** A chunk of the walk: its metrics records read in place; the others (opening records the walk made) handed back. */
  add(chunk: Buffer): number[] {
    return takeMetrics(this.view, chunk, this.taker);
  }

  /**
   * One connection as the walk read it. A connection followed grows at once
   * (one lookup, no object); one not followed yet waits for end(): the
   * opening record the walk brought with it (its owner found) may come after.
   */
  reading(v: WalkReading): void {
    const t = this.conns.get(v.id);
    if (t === undefined) this.pending.push(copyReading(v));
    else this.update(t, v);
  }

  /** The walk is complete. */
  end(): void {
    const walk = this.walks;
    for (const c of this.pending) {
      let t = this.conns.get(c.id);
      if (t === undefined) {
        if (this.recordsOnly) continue;
        // No opening record (lost, or before the view began): from its first reading on.
        t = tracked(c, c.direction === DIRECTION.incoming, '', walk);
        t.lastTx = c.bytes_sent;
        t.lastRx = c.bytes_received;
        t.lastPktsTx = c.packets_sent;
        t.lastRetr = c.packets_retransmitted;
        this.conns.set(c.id, t);
      }
      this.update(t, c);
    }
    this.pending = [];
    this.walked = walk;
  }

  private update(t: Tracked, v: WalkReading): void {
    if (t.closedMs >= 0) return; // its close counted last
    // The growth of each counter, inline: this runs for every connection at
    // every refresh (a call through counterDelta() and its % cost a third of
    // a refresh). Packet counters wrap at 2^32; byte counters never go back.
    const bs = v.bytes_sent;
    const br = v.bytes_received;
    const ps = v.packets_sent;
    const pt = v.packets_retransmitted;
    const tx = bs - t.lastTx;
    const rx = br - t.lastRx;
    let pkts = ps - t.lastPktsTx;
    if (pkts < 0) pkts += PKT_WRAP;
    let retr = pt - t.lastRetr;
    if (retr < 0) retr += PKT_WRAP;
    if (tx > 0) {
      t.lastTx = bs;
      t.pTx += tx;
      t.seenBytes += tx;
    }
    if (rx > 0) {
      t.lastRx = br;
      t.pRx += rx;
      t.seenBytes += rx;
    }
    t.lastPktsTx = ps;
    t.pPktsTx += pkts;
    t.lastRetr = pt;
    t.pRetr += retr;
    t.seenRetr += retr;
    const rtt = v.rtt_us;
    if (rtt > 0) t.lastRtt = rtt;
    const pid = v.pid;
    if (pid !== t.pid && pid !== 0) {
      t.pid = pid;
      t.comm = v.comm;
    }
    t.walk = this.walks;
  }

  /**
   * The connections after the latest complete walk, with their rates since
   * the previous sample; starts the next period. A connection the walk did
   * not see and whose close has not come yet (it closed between the drain
   * before the walk and the walk) is left out once, and forgotten the next
   * time.
   */
  sample(nowMs: number): Sample {
    const periodS = Number.isNaN(this.lastSampleMs) ? 0 : Math.max(0, nowMs - this.lastSampleMs) / 1000;
    this.lastSampleMs = nowMs;
    const walk = this.walked;
    const per = periodS > 0 ? 1 / periodS : 0;
    const shown = this.shown;
    shown.length = 0;
    const totals = noTotals();
    for (const t of this.conns.values()) {
      const closed = t.closedMs >= 0;
      if (closed) {
        if (nowMs - t.closedMs > this.keepClosedMs) {
          this.conns.delete(t.id);
          continue;
        }
        totals.closed++;
      } else if (t.walk !== walk) {
        if (t.walk < walk - 1) this.conns.delete(t.id);
        continue;
      } else {
        totals.open++;
        if (t.incoming) totals.incoming++;
      }
      t.txRate = t.pTx * per;
      t.rxRate = t.pRx * per;
      t.periodRetr = t.pRetr;
      t.periodPktsTx = t.pPktsTx;
      t.bytes = t.seenBytes;
      t.retr = t.seenRetr;
      t.rttUs = t.lastRtt;
      t.closed = closed;
      totals.txRate += t.txRate;
      totals.rxRate += t.rxRate;
      totals.retr += t.pRetr;
      totals.pktsTx += t.pPktsTx;
      t.pTx = 0;
      t.pRx = 0;
      t.pPktsTx = 0;
      t.pRetr = 0;
      shown.push(t);
    }
    const out = { atMs: nowMs, periodS, connections: shown, totals, failed: this.failed, resets: this.resets };
    this.failed = 0;
    this.resets = 0;
    return out;
  }

  /** Connections followed now (closed ones until they leave). */
  get size(): number {
    return this.conns.size;
  }
}

/** A reading that outlives the walk's chunk (a view moves on). */
function copyReading(v: WalkReading): WalkReading {
  return {
    id: v.id,
    pid: v.pid,
    comm: v.comm,
    saddr: v.saddr,
    sport: v.sport,
    daddr: v.daddr,
    dport: v.dport,
    direction: v.direction,
    bytes_sent: v.bytes_sent,
    bytes_received: v.bytes_received,
    packets_sent: v.packets_sent,
    packets_retransmitted: v.packets_retransmitted,
    rtt_us: v.rtt_us,
  };
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
    lastRtt: 0,
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
