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
  /** What a view sorts by, for connections[i] at index i (read in sequence, not from each object). */
  keys: SampleKeys;
  totals: Totals;
  /** Over the period: outgoing attempts that failed (connect_failed records), and connection ends reset (close_reason). */
  failed: number;
  resets: number;
}

/** Each connection's sort keys: rate (bytes per second, both ways), bytes and retransmissions since first seen, RTT, id. */
export interface SampleKeys {
  readonly rate: Float64Array;
  readonly bytes: Float64Array;
  readonly retransmits: Float64Array;
  readonly rtt: Float64Array;
  readonly id: Float64Array;
}

/** SampleKeys that grow as needed. */
class Keys implements SampleKeys {
  rate = new Float64Array(0);
  bytes = new Float64Array(0);
  retransmits = new Float64Array(0);
  rtt = new Float64Array(0);
  id = new Float64Array(0);

  /** Room for n connections. */
  reserve(n: number): this {
    if (this.id.length < n) {
      const size = Math.max(1024, 2 * n);
      this.rate = new Float64Array(size);
      this.bytes = new Float64Array(size);
      this.retransmits = new Float64Array(size);
      this.rtt = new Float64Array(size);
      this.id = new Float64Array(size);
    }
    return this;
  }
}

/** A sample of nothing (before the first). */
export function emptySample(atMs: number): Sample {
  return { atMs, periodS: 0, connections: [], keys: new Keys(), totals: noTotals(), failed: 0, resets: 0 };
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

/** A connection followed: its sample, where its counters are, and what its next growth is counted from. */
interface Tracked extends ConnectionSample {
  /**
   * Its place in the latest walk's order (its counters are there: OrderedCounters),
   * or -1: not in it (opened by a record and not read by a walk yet, gone
   * from the walks, or closed); its counters are then the fields below.
   */
  at: number;
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
  /** Not in the latest walk's order: the last walk that saw it (opened by a record: the last walk complete then). */
  walk: number;
  /** When its close record came (ms); -1: open (always a number: one shape for every connection). */
  closedMs: number;
}

// A connection's counters in an OrderedCounters: K numbers from index i * K.
const LAST_TX = 0;
const LAST_RX = 1;
const LAST_PKTS = 2;
const LAST_RETR = 3;
const P_TX = 4;
const P_RX = 5;
const P_PKTS = 6;
const P_RETR = 7;
const SEEN_BYTES = 8;
const SEEN_RETR = 9;
const RTT = 10;
/** The owner the walks read last (NaN: look at the connection's own). */
const PID = 11;
/** 1: the connection shows what these counters say, and they did not move since (its object need not be written). */
const SHOWN = 12;
/** 1: an incoming connection (the header's count, without looking at the object). */
const INCOMING = 13;
const K = 14;

/**
 * The connections a walk read, in the order it read them, with their
 * counters side by side in one typed array. A walk reads the connections
 * in nearly the same order every time, so the next one finds most of them
 * at the next place in this order, without a lookup, and reads and writes
 * their counters in sequence: no Map lookup and no numbers boxed on the heap
 * per connection (a refresh of 20,000 spent most of its JavaScript time on
 * the cache misses of those). The agent's WalkOrder (src/tracer/walk-order.ts)
 * finds objects by the same rule; here the counters themselves move with the
 * order, so that a refresh touches no connection object that did not change.
 */
class OrderedCounters {
  n = 0;
  ids = new Float64Array(1024);
  st = new Float64Array(1024 * K);
  objs: Tracked[] = [];
  /** Read again by the walk in progress (this is its previous order). */
  taken = new Uint8Array(1024);

  /** Room for one more; returns its index. */
  push(): number {
    if (this.n === this.ids.length) {
      const size = 2 * this.ids.length;
      const ids = new Float64Array(size);
      ids.set(this.ids);
      const st = new Float64Array(size * K);
      st.set(this.st);
      const taken = new Uint8Array(size);
      taken.set(this.taken);
      this.ids = ids;
      this.st = st;
      this.taken = taken;
    }
    return this.n++;
  }
}

/** The counters a connection keeps in its own fields while in no order, and their place in one. */
const IN_ORDER = [
  ['lastTx', LAST_TX],
  ['lastRx', LAST_RX],
  ['lastPktsTx', LAST_PKTS],
  ['lastRetr', LAST_RETR],
  ['pTx', P_TX],
  ['pRx', P_RX],
  ['pPktsTx', P_PKTS],
  ['pRetr', P_RETR],
  ['seenBytes', SEEN_BYTES],
  ['seenRetr', SEEN_RETR],
  ['lastRtt', RTT],
] as const;

/** A connection's counters from its fields into an order (it joins one), and back (it leaves). */
function toOrder(t: Tracked, s: Float64Array, b: number): void {
  for (const [field, k] of IN_ORDER) s[b + k] = t[field];
  s[b + PID] = t.pid;
  s[b + SHOWN] = 0;
  s[b + INCOMING] = t.incoming ? 1 : 0;
}

function fromOrder(t: Tracked, s: Float64Array, b: number): void {
  for (const [field, k] of IN_ORDER) t[field] = s[b + k];
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
  /** The latest complete walk's order, and the one the walk in progress fills. */
  private order = new OrderedCounters();
  private next = new OrderedCounters();
  /** Where in `order` the walk in progress expects its next connection. */
  private cursor = 0;
  /** Places in `next` whose connection is at another place in `order` (its `at` is set at end()). */
  private moved: number[] = [];
  /** The connections followed that are in no order (see Tracked.at). */
  private readonly offWalk = new Set<Tracked>();
  /** Between begin() and end(): records wait for the walk to end (the order is being rebuilt). */
  private walking = false;
  private waiting: [NettracerRecord, number][] = [];
  /** Readings of connections not followed yet, taken in at end() (after the records the walk brought). */
  private pending: WalkReading[] = [];
  /** With recordsOnly: connections the latest walk read that no record opened (not decoded again). */
  private ignored = new Set<number>();
  private ignoredNext = new Set<number>();
  private readonly view = new RecordView();
  private readonly taker = (v: RecordView): boolean => {
    this.reading(v);
    return true;
  };
  /** The connections of the latest sample and their sort keys (refilled by each). */
  private readonly shown: Tracked[] = [];
  private readonly keys = new Keys();

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
    if (this.walking) this.waiting.push([r, nowMs]);
    else this.apply(r, nowMs);
  }

  private apply(r: NettracerRecord, nowMs: number): void {
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
      this.offWalk.add(t);
    }
    // Keep the owner a later record names (an accept's pid may be 0 before the process takes it).
    if (r.pid !== 0 || t.pid === 0) {
      t.pid = r.pid;
      t.comm = r.comm;
      t.container = r.container_id ?? '';
      if (t.at >= 0) this.order.st[t.at * K + PID] = NaN; // the next walk's owner is compared with this one
    }
    if (r.type !== 'close') return;
    if (t.at >= 0) {
      // Out of the order: its counters back in its fields, its place left empty.
      const o = this.order;
      fromOrder(t, o.st, t.at * K);
      o.ids[t.at] = NaN;
      t.at = -1;
      this.offWalk.add(t);
    }
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
    // A walk cut short (it threw) ends here: what it read counts, and the records it held are let in.
    if (this.walking) this.end();
    this.walks++;
    this.walking = true;
    this.cursor = 0;
  }

  /** A chunk of the walk: its metrics records read in place; the others (opening records the walk made) handed back. */
  add(chunk: Buffer): number[] {
    return takeMetrics(this.view, chunk, this.taker);
  }

  /**
   * One connection as the walk read it, between begin() and end(). One the
   * last walk read is first looked for at the next place in its order, then
   * in the Map; its counters move to the next order and grow there. One not
   * followed yet waits for end(): the opening record the walk brought with it
   * (an owner it found) may come after.
   */
  reading(v: WalkReading): void {
    const id = v.id;
    const prev = this.order;
    let j = this.cursor;
    let t: Tracked | undefined;
    if (j >= prev.n || prev.ids[j] !== id || prev.taken[j] === 1) {
      t = this.conns.get(id);
      if (t === undefined) {
        if (this.ignored.has(id)) this.ignoredNext.add(id);
        else this.pending.push(copyReading(v));
        return;
      }
      if (t.closedMs >= 0) return; // its close counted last
      j = t.at;
      if (j >= 0 && prev.taken[j] === 1) return; // read twice in one walk
    }
    const next = this.next;
    const i = next.push();
    next.ids[i] = id;
    const s = next.st;
    const b = i * K;
    if (j >= 0) {
      prev.taken[j] = 1;
      const ps = prev.st;
      const a = j * K;
      for (let k = 0; k < K; k++) s[b + k] = ps[a + k];
      next.objs[i] = prev.objs[j];
      if (i !== j) this.moved.push(i);
      this.cursor = j + 1;
    } else {
      // Not in the last walk's order (so found in the Map): it joins this one with the counters of its fields.
      const joining = t as Tracked;
      toOrder(joining, s, b);
      next.objs[i] = joining;
      this.moved.push(i);
      this.offWalk.delete(joining);
    }
    this.update(next, i, v);
  }

  /** The growth of the counters of place `i` of `o` to reading `v`, inline: this runs for every connection at every refresh. */
  private update(o: OrderedCounters, i: number, v: WalkReading): void {
    // Packet counters wrap at 2^32; byte counters never go back.
    const s = o.st;
    const b = i * K;
    const bs = v.bytes_sent;
    const br = v.bytes_received;
    const ps = v.packets_sent;
    const pt = v.packets_retransmitted;
    const tx = bs - s[b + LAST_TX];
    const rx = br - s[b + LAST_RX];
    let pkts = ps - s[b + LAST_PKTS];
    if (pkts < 0) pkts += PKT_WRAP;
    let retr = pt - s[b + LAST_RETR];
    if (retr < 0) retr += PKT_WRAP;
    if (tx > 0) {
      s[b + LAST_TX] = bs;
      s[b + P_TX] += tx;
      s[b + SEEN_BYTES] += tx;
    }
    if (rx > 0) {
      s[b + LAST_RX] = br;
      s[b + P_RX] += rx;
      s[b + SEEN_BYTES] += rx;
    }
    s[b + LAST_PKTS] = ps;
    s[b + P_PKTS] += pkts;
    s[b + LAST_RETR] = pt;
    s[b + P_RETR] += retr;
    s[b + SEEN_RETR] += retr;
    const rtt = v.rtt_us;
    if (rtt > 0 && rtt !== s[b + RTT]) {
      s[b + RTT] = rtt;
      s[b + SHOWN] = 0;
    }
    const pid = v.pid;
    if (pid !== s[b + PID]) {
      // Another owner than the walk before read (rare): the connection itself is looked at.
      s[b + PID] = pid;
      const t = o.objs[i];
      if (pid !== 0 && pid !== t.pid) {
        t.pid = pid;
        t.comm = v.comm;
      }
    }
  }

  /** The walk is complete. */
  end(): void {
    const prev = this.order;
    const next = this.next;
    // The connections the last walk read and this one did not: out of the order.
    for (let j = 0; j < prev.n; j++) {
      if (prev.taken[j] === 1) {
        prev.taken[j] = 0;
        continue;
      }
      if (Number.isNaN(prev.ids[j])) continue; // closed: out already
      const t = prev.objs[j];
      fromOrder(t, prev.st, j * K);
      t.at = -1;
      t.walk = this.walked;
      this.offWalk.add(t);
    }
    // Its places are written over by the next walk (no new arrays per walk);
    // what this walk read fewer of is let go.
    prev.n = 0;
    if (next.objs.length > next.n) next.objs.length = next.n;
    this.order = next;
    this.next = prev;
    for (const i of this.moved) next.objs[i].at = i;
    this.moved = [];
    this.walking = false;
    // The records that came during the walk, as if before it (a connection
    // one opens is due in the next walk if this one missed it).
    const waiting = this.waiting;
    this.waiting = [];
    for (const [r, nowMs] of waiting) this.apply(r, nowMs);
    this.walked = this.walks;
    // Connections read for the first time.
    const pending = this.pending;
    this.pending = [];
    for (const c of pending) {
      let t = this.conns.get(c.id);
      if (t === undefined) {
        if (this.recordsOnly) {
          this.ignoredNext.add(c.id);
          continue;
        }
        // No opening record (lost, or before the view began): from its first reading on.
        t = tracked(c, c.direction === DIRECTION.incoming, '', this.walked);
        t.lastTx = c.bytes_sent;
        t.lastRx = c.bytes_received;
        t.lastPktsTx = c.packets_sent;
        t.lastRetr = c.packets_retransmitted;
        this.conns.set(c.id, t);
      } else if (t.closedMs >= 0 || t.at >= 0) continue; // closed, or read twice
      const i = next.push();
      next.ids[i] = c.id;
      next.objs[i] = t;
      t.at = i;
      this.offWalk.delete(t);
      toOrder(t, next.st, i * K);
      this.update(next, i, c);
    }
    const ignored = this.ignored;
    ignored.clear();
    this.ignored = this.ignoredNext;
    this.ignoredNext = ignored;
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
    const totals = noTotals();
    const o = this.order;
    const keys = this.keys.reserve(o.n + this.offWalk.size);
    let n = 0;
    // Those the latest walk read, in its order: their counters in sequence,
    // their objects written only when what they show changed.
    const s = o.st;
    for (let i = 0; i < o.n; i++) {
      const id = o.ids[i];
      if (Number.isNaN(id)) continue; // closed since
      const t = o.objs[i];
      const b = i * K;
      const pTx = s[b + P_TX];
      const pRx = s[b + P_RX];
      const pPkts = s[b + P_PKTS];
      const pRetr = s[b + P_RETR];
      totals.open++;
      if (s[b + INCOMING] === 1) totals.incoming++;
      totals.txRate += pTx * per;
      totals.rxRate += pRx * per;
      totals.retr += pRetr;
      totals.pktsTx += pPkts;
      const idle = pTx === 0 && pRx === 0 && pPkts === 0 && pRetr === 0;
      if (!idle || s[b + SHOWN] !== 1) {
        t.txRate = pTx * per;
        t.rxRate = pRx * per;
        t.periodRetr = pRetr;
        t.periodPktsTx = pPkts;
        t.bytes = s[b + SEEN_BYTES];
        t.retr = s[b + SEEN_RETR];
        t.rttUs = s[b + RTT];
        t.closed = false;
        s[b + SHOWN] = idle ? 1 : 0;
        s[b + P_TX] = 0;
        s[b + P_RX] = 0;
        s[b + P_PKTS] = 0;
        s[b + P_RETR] = 0;
      }
      keys.rate[n] = (pTx + pRx) * per;
      keys.bytes[n] = s[b + SEEN_BYTES];
      keys.retransmits[n] = s[b + SEEN_RETR];
      keys.rtt[n] = s[b + RTT];
      keys.id[n] = id;
      shown[n++] = t;
    }
    // The others: closed, opened by a record and not read yet, or gone from the walks.
    for (const t of this.offWalk) {
      const closed = t.closedMs >= 0;
      if (closed) {
        if (nowMs - t.closedMs > this.keepClosedMs) {
          this.conns.delete(t.id);
          this.offWalk.delete(t);
          continue;
        }
        totals.closed++;
      } else if (t.walk !== walk) {
        if (t.walk < walk - 1) {
          this.conns.delete(t.id);
          this.offWalk.delete(t);
        }
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
      keys.rate[n] = t.txRate + t.rxRate;
      keys.bytes[n] = t.bytes;
      keys.retransmits[n] = t.retr;
      keys.rtt[n] = t.rttUs;
      keys.id[n] = t.id;
      shown[n++] = t;
    }
    shown.length = n;
    const out = { atMs: nowMs, periodS, connections: shown, keys, totals, failed: this.failed, resets: this.resets };
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
    at: -1,
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
