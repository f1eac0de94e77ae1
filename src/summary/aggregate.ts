// Aggregates of a record stream per process, container and host over
// windows, with the metric keys of Dynatrace's NetTracer (builtin:tech.nettracer.*;
// schemas/v1/summary.schema.json).
// Pure: records in, summary records out; the caller says when time passes.
import type { NettracerRecord, SummaryRecord } from '../generated/records.js';
import { shown } from '../record/shown.js';
import { counterGrowthOf } from '../record/counters.js';

export type Dimension = 'process' | 'container' | 'host';

export interface AggregateOptions {
  /** Window length; undefined: one window over the whole input. */
  windowS?: number;
  host: string;
  by: readonly Dimension[];
  /** What a process row is: one PID (default), or every process of one executable (the agent without PIDs). */
  processKey?: 'pid' | 'comm';
  /** Each closed window, its sessions and which rows they made: the agent exports these same numbers. */
  closed?: (w: ClosedWindow) => void;
}

/**
 * A window as it closes. Valid until the next window closes: its session
 * windows are each session's own object, refilled every window (a window
 * of 100,000 sessions allocates none).
 */
export interface ClosedWindow {
  sessions: readonly SessionWindow[];
  /** `group`: the row's identity, as its sessions' `groups` hold it. */
  rows: readonly { row: SummaryRecord; group: object }[];
}

/** What one session moved in one window: every summary row is made of these. */
export interface SessionWindow {
  id: number;
  pid: number;
  comm: string;
  containerId?: string;
  podUid?: string;
  rx: number;
  tx: number;
  pktsRx: number;
  pktsTx: number;
  retr: number;
  /** The last RTT seen (0: none yet). */
  rttUs: number;
  /** It closed in this window: it is forgotten with it. */
  closed: boolean;
  /** Opened by a connect in this window. */
  connected: boolean;
  /** How it ended: a reset from the peer, or from this end. */
  reset?: 'received' | 'sent';
  /** What the caller gave session() for it (the agent's connection): no lookup by id per window. */
  ref?: object;
  /** The rows it counts in (each one's ClosedWindow.rows group): a consumer of a window need not look its rows up. */
  groups?: readonly object[];
}

/**
 * A session: its own window (the SessionWindow fields, refilled as each
 * window closes) and its running totals, in one object. A window of
 * 100,000 sessions touches 100,000 objects, not 400,000, and makes none.
 */
interface Session extends SessionWindow {
  /** Cumulative counters at the start of the current window. */
  baseTx: number;
  baseRx: number;
  basePktsTx: number;
  basePktsRx: number;
  baseRetr: number;
  /** Cumulative counters as last seen (64-bit: past the wrap of the kernel's 32-bit ones). */
  nowTx: number;
  nowRx: number;
  nowPktsTx: number;
  nowPktsRx: number;
  nowRetr: number;
  /** In the current window's list of active sessions. */
  active: boolean;
  /** The rows it counts in, while its owner stays (Aggregator.groupsOf). */
  groups?: Group[];
}

/** A session as sample() takes it: which one, and nothing else. */
export type SessionHandle = object;

/**
 * A summary row: its dimension and key fields, and its share of the window
 * being closed. One object per row id (the key of Aggregator.groups), kept
 * from window to window, so that a session finds its rows without a lookup
 * per window.
 */
interface Group {
  readonly dim: Dimension;
  readonly key: Partial<SummaryRecord>;
  /** The window (Aggregator.windowsClosed) the sums below belong to. */
  at: number;
  /** The window's sums over the row's sessions, added as each session's window is made (countIn()). */
  sessions: number;
  readonly bytesRx: Stats;
  readonly bytesTx: Stats;
  /** RTT in ms, of the sessions with a sample. */
  readonly rtt: Stats;
  pktsTx: number;
  pktsRx: number;
  retr: number;
  connects: number;
  resetsReceived: number;
  resetsSent: number;
  failed: number;
}

/** An owner, as a group key reads it. */
interface Owner {
  pid: number;
  comm: string;
  containerId?: string;
  podUid?: string;
}

const RESET: Readonly<Record<string, Session['reset']>> = {
  reset_received: 'received',
  reset_sent: 'sent',
  aborted: 'sent',
};

/** How each running total grows: as the record field it is read from (record/counters.ts). */
const GROWTH = {
  tx: counterGrowthOf('bytes_sent'),
  rx: counterGrowthOf('bytes_received'),
  pktsTx: counterGrowthOf('packets_sent'),
  pktsRx: counterGrowthOf('packets_received'),
  retr: counterGrowthOf('packets_retransmitted'),
};

/** The first and last instants a summary record can name: RFC 3339 has four-digit years. */
export const EARLIEST_MS = Date.parse('0000-01-01T00:00:00.000Z');
export const LATEST_MS = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * Why a (schema-valid) record cannot be summarized, or undefined. Its time
 * must be one Date reads (RFC 3339 allows a leap second, 23:59:60, which it
 * does not) and leave room for a window before the year 10000 in UTC (an
 * offset can push 9999-12-31T23:59:59-12:00 past it).
 */
export function unplaceable(r: NettracerRecord): string | undefined {
  if (!('saddr' in r)) return undefined; // only connection records are placed in windows
  const t = Date.parse(r.timestamp);
  if (Number.isNaN(t)) return `timestamp ${shown(r.timestamp)} is not a time summarize can place (a leap second?)`;
  if (t < EARLIEST_MS)
    return `timestamp ${shown(r.timestamp)} is before 0000-01-01T00:00:00Z, the first time a summary can name`;
  if (t >= LATEST_MS) {
    return `timestamp ${shown(r.timestamp)} leaves no window before 9999-12-31T23:59:59.999Z, the last time a summary can name`;
  }
  return undefined;
}

/** A record add() refuses (unplaceable() says why): nothing of it was counted. */
export class UnplaceableRecord extends Error {}

/** Sum, count, min and max of values added one at a time (no array: a spread of 200,000 overflows the stack). */
class Stats {
  sum = 0;
  count = 0;
  min = Infinity;
  max = -Infinity;

  add(v: number): void {
    this.sum += v;
    this.count++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  get avg(): number {
    return this.count ? this.sum / this.count : 0;
  }

  reset(): void {
    this.sum = 0;
    this.count = 0;
    this.min = Infinity;
    this.max = -Infinity;
  }

  summary(): SummaryRecord['bytes_rx'] {
    if (this.count === 0) return { sum: 0, avg: 0, min: 0, max: 0, count: 0 };
    return { sum: this.sum, avg: this.avg, min: this.min, max: this.max, count: this.count };
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** A new session: every field set, so that all have one shape. */
function newSession(id: number, pid: number, comm: string, containerId?: string, podUid?: string): Session {
  return {
    id,
    pid,
    comm,
    containerId,
    podUid,
    rx: 0,
    tx: 0,
    pktsRx: 0,
    pktsTx: 0,
    retr: 0,
    rttUs: 0,
    closed: false,
    connected: false,
    reset: undefined,
    ref: undefined,
    baseTx: 0,
    baseRx: 0,
    basePktsTx: 0,
    basePktsRx: 0,
    baseRetr: 0,
    nowTx: 0,
    nowRx: 0,
    nowPktsTx: 0,
    nowPktsRx: 0,
    nowRetr: 0,
    active: false,
    groups: undefined,
  };
}

/** What a session moved in the window, into its window fields. A total that went down (a 32-bit counter wrapped) counts 0. */
function windowOf(s: Session): SessionWindow {
  s.rx = Math.max(0, s.nowRx - s.baseRx);
  s.tx = Math.max(0, s.nowTx - s.baseTx);
  s.pktsRx = Math.max(0, s.nowPktsRx - s.basePktsRx);
  s.pktsTx = Math.max(0, s.nowPktsTx - s.basePktsTx);
  s.retr = Math.max(0, s.nowRetr - s.baseRetr);
  return s;
}

/** The next window counts from the totals now. */
function rebaseOf(s: Session): void {
  s.baseTx = s.nowTx;
  s.baseRx = s.nowRx;
  s.basePktsTx = s.nowPktsTx;
  s.basePktsRx = s.nowPktsRx;
  s.baseRetr = s.nowRetr;
}

export class Aggregator {
  private readonly sessions = new Map<number, Session>();
  /** The sessions with a record in the current window: closing it costs what they are, not all. */
  private active: Session[] = [];
  /** The current window's failed attempts, by owner. */
  private failed: Owner[] = [];
  /** Windows are [origin + k w, origin + (k + 1) w); the current one is k = index. */
  private origin = NaN; // ms
  private index = 0;
  /** A record fell in the current window. */
  private touched = false;
  /** Live use: the current window is printed when it ends, quiet or not. */
  private live = false;
  /** The first and last instants the input covered (any record; a stats record's started_at). */
  private firstSeen = NaN; // ms
  private lastSeen = NaN; // ms
  private readonly windowMs: number | undefined;
  /** Windows closed so far (each printed): the work done, which gaps in time do not add to. */
  windowsClosed = 0;

  constructor(private readonly opts: AggregateOptions) {
    // Longer than all time a summary can name is as long as that (and 1e306 s in ms is Infinity).
    this.windowMs = opts.windowS === undefined ? undefined : Math.min(opts.windowS * 1000, LATEST_MS - EARLIEST_MS);
  }

  /** Live use: windows start now, not at the first record. */
  begin(nowMs: number): void {
    this.origin = nowMs;
    this.index = 0;
    this.live = true;
  }

  /**
   * Adds one record (valid against its schema); returns the summaries of any
   * window it closed. Throws UnplaceableRecord, having changed nothing, for a
   * record unplaceable() refuses. `nowMs`: live use, the record is of now
   * (the agent's, from the tracer), and its timestamp need not be parsed.
   */
  add(r: NettracerRecord, nowMs?: number): SummaryRecord[] {
    if (!('saddr' in r)) {
      this.span(r);
      return [];
    }
    const t = nowMs ?? Date.parse(r.timestamp);
    if (!(t >= EARLIEST_MS && t < LATEST_MS)) throw new UnplaceableRecord(unplaceable(r));
    const out = this.tick(t);
    if (Number.isNaN(this.origin)) this.origin = t;
    this.touched = true;
    this.seen(t);
    if (r.type === 'connect_failed') {
      this.failed.push({ pid: r.pid, comm: r.comm, containerId: r.container_id, podUid: r.pod_uid });
      return out;
    }

    let s = this.sessions.get(r.id);
    if (!s) {
      s = newSession(r.id, r.pid, r.comm, r.container_id, r.pod_uid);
      this.sessions.set(r.id, s);
    }
    if (!s.active) {
      s.active = true;
      this.active.push(s);
    }
    if (r.pid !== 0) {
      if (s.pid !== r.pid || s.comm !== r.comm) s.groups = undefined;
      s.pid = r.pid;
      s.comm = r.comm;
    }
    if (r.type === 'connect') s.connected = true;
    if (r.type === 'connect' || r.type === 'accept') return out;
    if (r.type === 'existing') {
      // Traffic from before tracing started belongs to no window.
      s.nowTx = r.bytes_sent;
      s.nowRx = r.bytes_received;
      s.nowPktsTx = r.packets_sent;
      s.nowPktsRx = r.packets_received;
      s.nowRetr = r.packets_retransmitted;
      rebaseOf(s);
    } else if (r.type === 'metrics' && r.incremental) {
      s.nowTx += r.bytes_sent;
      s.nowRx += r.bytes_received;
      s.nowPktsTx += r.packets_sent;
      s.nowPktsRx += r.packets_received;
      s.nowRetr += r.packets_retransmitted;
    } else
      this.grew(
        s,
        r.bytes_sent,
        r.bytes_received,
        r.packets_sent,
        r.packets_received,
        r.packets_retransmitted,
        r.family,
      );
    if (r.rtt_us > 0) s.rttUs = r.rtt_us;
    if (r.type === 'close') {
      s.closed = true;
      s.reset = r.close_reason ? RESET[r.close_reason] : undefined;
    }
    return out;
  }

  /**
   * A followed connection's totals at `tMs`, read in memory by a metrics walk
   * rather than from a metrics record (the agent; live use with cut(): it
   * closes no window): counted as that record would be. False, having
   * changed nothing: the session has closed, and its record is needed.
   */
  sample(
    session: SessionHandle,
    tMs: number,
    tx: number,
    rx: number,
    pktsTx: number,
    pktsRx: number,
    retr: number,
    rttUs: number,
    family: 'ipv4' | 'ipv6',
  ): boolean {
    const s = session as Session;
    if (s.closed || !(tMs >= EARLIEST_MS && tMs < LATEST_MS)) return false;
    this.touched = true;
    this.seen(tMs);
    if (!s.active) {
      s.active = true;
      this.active.push(s);
    }
    this.grew(s, tx, rx, pktsTx, pktsRx, retr, family);
    if (rttUs > 0) s.rttUs = rttUs;
    return true;
  }

  /** Sessions held (open ones, and those closed in the current window). */
  get size(): number {
    return this.sessions.size;
  }

  /** A connection gone without a close record (the agent: no walk saw it for a while): its session goes. */
  forget(id: number): void {
    const s = this.sessions.get(id);
    if (s && !s.active) this.sessions.delete(id);
  }

  /**
   * A followed connection's session, for sample() (undefined: none yet); it
   * lasts until the connection closes. `ref` comes back as its windows' ref.
   */
  session(id: number, ref?: object): SessionHandle | undefined {
    const s = this.sessions.get(id);
    if (s && ref) s.ref = ref;
    return s;
  }

  /**
   * Totals (metrics without -i, close always): what they grew by since the
   * last reading, added to 64-bit running totals (record/counters.ts).
   */
  private grew(
    s: Session,
    tx: number,
    rx: number,
    pktsTx: number,
    pktsRx: number,
    retr: number,
    family: 'ipv4' | 'ipv6',
  ): void {
    // In place, from numbers: nothing allocated per reading (a session's totals live as long as it does).
    s.nowTx += GROWTH.tx(tx, s.nowTx, family);
    s.nowRx += GROWTH.rx(rx, s.nowRx, family);
    s.nowPktsTx += GROWTH.pktsTx(pktsTx, s.nowPktsTx, family);
    s.nowPktsRx += GROWTH.pktsRx(pktsRx, s.nowPktsRx, family);
    s.nowRetr += GROWTH.retr(retr, s.nowRetr, family);
  }

  /** The capture covered `t`: the last window (or the only one) ends no earlier. */
  private seen(t: number): void {
    this.lastSeen = Number.isNaN(this.lastSeen) ? t : Math.max(this.lastSeen, t);
    if (!(this.firstSeen <= t)) this.firstSeen = t;
  }

  /**
   * A record that is not a connection's still says the capture covered its
   * time (a lost record, the final stats one: when tracing stopped); a stats
   * record's started_at says when tracing started. Times a summary cannot
   * name are passed over: they place no connection.
   */
  private span(r: NettracerRecord): void {
    const ok = (ms: number) => ms >= EARLIEST_MS && ms < LATEST_MS;
    const t = 'timestamp' in r && typeof r.timestamp === 'string' ? Date.parse(r.timestamp) : NaN;
    if (!ok(t)) return;
    if (!this.live) this.seen(t);
    if (r.type === 'stats' && r.started_at !== undefined) {
      const s = Date.parse(r.started_at);
      if (ok(s) && s <= t && !(this.firstSeen <= s)) this.firstSeen = s;
    }
  }

  /**
   * Closes the current window if it ended at or before `nowMs` (live use, or
   * between records), and moves to the window holding `nowMs`. The windows in
   * between had no record: they are passed over, not printed, so a gap of
   * years costs what a gap of a second does.
   */
  tick(nowMs: number): SummaryRecord[] {
    const w = this.windowMs;
    if (w === undefined || Number.isNaN(this.origin) || nowMs < this.origin + (this.index + 1) * w) return [];
    const out =
      this.touched || this.live ? this.close(this.origin + this.index * w, this.origin + (this.index + 1) * w) : [];
    let k = Math.max(this.index + 1, Math.floor((nowMs - this.origin) / w));
    // Rounding: make origin + k w <= nowMs < origin + (k + 1) w.
    while (k > this.index + 1 && this.origin + k * w > nowMs) k--;
    while (this.origin + (k + 1) * w <= nowMs) k++;
    this.index = k;
    this.touched = false;
    return out;
  }

  /**
   * Live use without windowS: the caller ends the window now (the agent, at
   * each export) and the next one starts here.
   */
  cut(nowMs: number): SummaryRecord[] {
    const out = this.finish(nowMs);
    this.origin = nowMs;
    this.touched = false;
    return out;
  }

  /**
   * The last window (the whole input, without --window), which ends when the
   * input did: at `endMs` (live: when tracing stopped), else at the last
   * record's time (the final stats record's, for a whole capture), and never
   * after the end of its grid window. Without --window it starts at the first
   * record or when tracing started, whichever is earlier.
   */
  finish(endMs?: number): SummaryRecord[] {
    if (Number.isNaN(this.origin) || !(this.touched || this.live)) return [];
    const w = this.windowMs;
    const end = endMs ?? this.lastSeen;
    if (w !== undefined) {
      const start = this.origin + this.index * w;
      return this.close(start, Math.max(Math.min(end, start + w), start + 1));
    }
    const start = this.live ? this.origin : Math.min(this.origin, this.firstSeen);
    return this.close(start, Math.max(end, start + 1));
  }

  /** Owners' rows, shared by their sessions (one list per owner, not per connection). */
  private readonly ownerRows = new Map<string, Group[]>();
  /** Every row, by id. */
  private readonly groups = new Map<string, Group>();
  /** The rows of the window being closed, in the order they were first counted in. */
  private rowsTouched: Group[] = [];

  /** The rows an owner counts in. */
  private groupsOf(o: Owner): Group[] {
    const owner = `${o.pid}/${o.comm}/${o.containerId ?? ''}/${o.podUid ?? ''}`;
    let gs = this.ownerRows.get(owner);
    if (!gs) this.ownerRows.set(owner, (gs = this.rowsOf(o)));
    return gs;
  }

  private rowsOf(o: Owner): Group[] {
    const gs: Group[] = [];
    const by = this.opts.by;
    if (by.includes('host')) gs.push(this.group('host', 'host', {}));
    if (by.includes('container') && o.containerId)
      gs.push(
        this.group(`c/${o.containerId}`, 'container', {
          container_id: o.containerId,
          ...(o.podUid ? { pod_uid: o.podUid } : {}),
        }),
      );
    if (by.includes('process'))
      gs.push(
        this.opts.processKey === 'comm'
          ? this.group(`e/${o.comm}`, 'process', { comm: o.comm })
          : this.group(`p/${o.pid}/${o.comm}`, 'process', { pid: o.pid, comm: o.comm }),
      );
    return gs;
  }

  private group(id: string, dim: Dimension, key: Partial<SummaryRecord>): Group {
    let g = this.groups.get(id);
    if (!g)
      this.groups.set(
        id,
        (g = {
          dim,
          key,
          at: -1,
          sessions: 0,
          bytesRx: new Stats(),
          bytesTx: new Stats(),
          rtt: new Stats(),
          pktsTx: 0,
          pktsRx: 0,
          retr: 0,
          connects: 0,
          resetsReceived: 0,
          resetsSent: 0,
          failed: 0,
        }),
      );
    return g;
  }

  /** Row g has a share in the window being closed: its share starts empty the first time. */
  private touch(g: Group): Group {
    if (g.at !== this.windowsClosed) {
      g.at = this.windowsClosed;
      g.sessions = 0;
      g.bytesRx.reset();
      g.bytesTx.reset();
      g.rtt.reset();
      g.pktsTx = 0;
      g.pktsRx = 0;
      g.retr = 0;
      g.connects = 0;
      g.resetsReceived = 0;
      g.resetsSent = 0;
      g.failed = 0;
      this.rowsTouched.push(g);
    }
    return g;
  }

  /**
   * The window's sessions, each in the rows it counts in. Its own function,
   * as are rowOf() and rebase(): the loops over every session stay compiled
   * small, and close(), which runs once a window, is not recompiled whole.
   */
  private sessionWindows(): SessionWindow[] {
    const windows: SessionWindow[] = [];
    for (const s of this.active) {
      const w = windowOf(s);
      windows.push(w);
      const gs = (s.groups ??= this.groupsOf(s));
      for (let i = 0; i < gs.length; i++) countIn(this.touch(gs[i]), w);
    }
    return windows;
  }

  /** The next window starts from here: closed sessions leave, the rest rebase. */
  private rebase(): void {
    for (const s of this.active) {
      if (s.closed) this.sessions.delete(s.id);
      else {
        rebaseOf(s);
        s.active = false;
        s.connected = false;
      }
    }
    this.active = [];
    this.failed = [];
    this.rowsTouched = [];
    // Bounded like the sessions: a host has few owners, and a long run forgets them all now and then.
    if (this.ownerRows.size >= 65_536) {
      this.ownerRows.clear();
      this.groups.clear();
      for (const s of this.sessions.values()) s.groups = undefined;
    }
  }

  private close(startMs: number, endMs: number): SummaryRecord[] {
    this.windowsClosed++;
    // A window that would end after the last instant RFC 3339 can write ends there.
    const end = Math.min(endMs, LATEST_MS);
    // What the window really covered: the divisor of every rate.
    const full = this.windowMs !== undefined && end - startMs === this.windowMs;
    const windowS = full ? (this.opts.windowS as number) : (end - startMs) / 1000;
    const windows = this.sessionWindows();
    for (const o of this.failed) for (const g of this.groupsOf(o)) this.touch(g).failed++;
    // The host always has a row: a quiet window says so.
    if (this.opts.by.includes('host')) this.touch(this.group('host', 'host', {}));
    const order: Record<Dimension, number> = { host: 0, container: 1, process: 2 };
    const times = {
      window_start: new Date(startMs).toISOString(),
      window_end: new Date(end).toISOString(),
      window_s: windowS,
    };
    const rows = this.rowsTouched.map((g) => ({
      row: rowOf(g, times, this.opts.host),
      group: g,
    }));
    this.opts.closed?.({ sessions: windows, rows });
    const out = rows.map((r) => r.row);
    out.sort((a, b) => order[a.dimension] - order[b.dimension] || b.traffic - a.traffic);
    this.rebase();
    return out;
  }
}

/** One row of a window: its sessions' traffic in the NetTracer's keys. */
/** A session's window, added to one of its rows' sums: made as the window is, not by a pass per row. */
function countIn(g: Group, s: SessionWindow): void {
  g.sessions++;
  g.bytesRx.add(s.rx);
  g.bytesTx.add(s.tx);
  if (s.rttUs > 0) g.rtt.add(s.rttUs / 1000);
  g.pktsTx += s.pktsTx;
  g.pktsRx += s.pktsRx;
  g.retr += s.retr;
  if (s.connected) g.connects++;
  if (s.reset === 'received') g.resetsReceived++;
  else if (s.reset === 'sent') g.resetsSent++;
}

function rowOf(
  g: Group,
  times: Pick<SummaryRecord, 'window_start' | 'window_end' | 'window_s'>,
  host: string,
): SummaryRecord {
  const windowS = times.window_s;
  const { bytesRx, bytesTx, rtt, pktsTx, pktsRx, retr, connects, resetsReceived, resetsSent } = g;
  const attempts = connects + g.failed;
  return {
    type: 'summary',
    ...times,
    dimension: g.dim,
    host,
    ...g.key,
    sessions: g.sessions,
    bytes_rx: bytesRx.summary(),
    bytes_tx: bytesTx.summary(),
    pkts_rx: pktsRx,
    pkts_tx: pktsTx,
    pkts_retr: retr,
    retr_percentage: retr + pktsTx > 0 ? round3((retr / (retr + pktsTx)) * 100) : 0,
    // No sample, no field: 0 ms would be a (very good) RTT.
    ...(rtt.count ? { rtt: { avg: round3(rtt.avg), min: rtt.min, max: rtt.max } } : {}),
    traffic: round3(((bytesRx.sum + bytesTx.sum) * 8) / windowS),
    traffic_rx: round3((bytesRx.sum * 8) / windowS),
    traffic_tx: round3((bytesTx.sum * 8) / windowS),
    connects,
    connects_failed: g.failed,
    ...(attempts > 0 ? { connect_failure_rate: round3((g.failed / attempts) * 100) } : {}),
    resets_received: resetsReceived,
    resets_sent: resetsSent,
  };
}
