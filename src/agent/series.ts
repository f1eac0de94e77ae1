// From records and closed windows to the points of each export: the
// attributes of each connection (cardinality controls: no client port, peers
// grouped, PID off by default), a cap on series per metric with an overflow
// series, and expiry of series that are gone. Pure: the sinks (otlp.ts,
// prometheus.ts) apply the points.
import { BlockList, isIPv6 } from 'node:net';
import type { NettracerRecord, SummaryRecord } from '../generated/records.js';
import type { ClosedWindow } from '../summary/aggregate.js';
import type { Attributes, ConnWindow, MetricDef } from './metrics.js';

/** How peers appear: not at all, as given CIDR classes ("other" outside them), or by address. */
export type PeerGrouping = { by: 'none' } | { by: 'address' } | { by: 'cidr'; cidrs: string[] };

export interface SeriesOptions {
  peers: PeerGrouping;
  withPid: boolean;
  /** Series per metric; the rest fold into one overflow series. */
  maxSeries: number;
  /** A counter or histogram series with no point in this many windows is forgotten (Prometheus drops it). */
  expireWindows: number;
}

/** One thing to record: add (counter, updown), observe (histogram) or set (gauge). */
export interface Point {
  def: MetricDef;
  attrs: Attributes;
  value: number;
}

export interface Window {
  points: Point[];
  /** Series gone since the last window, per metric name: Prometheus removes them. */
  expired: { def: MetricDef; attrs: Attributes }[];
}

interface Conn {
  attrs: Attributes;
  rttVarUs: number;
  open: boolean;
  /** The window of its last record: every metrics walk gives each open connection one. */
  seen: number;
}

const OVERFLOW: Attributes = { 'otel.metric.overflow': 'true' };

/** The stable key of an attribute set. */
const keyOf = (a: Attributes) =>
  JSON.stringify(
    Object.keys(a)
      .sort()
      .map((k) => [k, a[k]]),
  );

function peerGrouper(p: PeerGrouping): (addr: string) => string | undefined {
  if (p.by === 'none') return () => undefined;
  if (p.by === 'address') return (a) => a;
  const lists = p.cidrs.map((text) => {
    const [addr, len] = text.split('/');
    const type = isIPv6(addr) ? 'ipv6' : 'ipv4';
    const list = new BlockList();
    list.addSubnet(addr, Number(len ?? (type === 'ipv6' ? 128 : 32)), type);
    return { text, list, type };
  });
  return (a) => {
    const type = isIPv6(a) ? 'ipv6' : 'ipv4';
    return lists.find((l) => l.type === type && l.list.check(a, type))?.text ?? 'other';
  };
}

/** The attributes of a connection: the server's port only (never the client's ephemeral one). */
export function connectionAttributes(
  r: Extract<NettracerRecord, { saddr: string }>,
  peer: (addr: string) => string | undefined,
  withPid: boolean,
): Attributes {
  const a: Attributes = { 'network.transport': 'tcp', 'network.type': r.family };
  const remote = peer(r.daddr);
  if (r.direction === 'outgoing') {
    if (remote !== undefined) a['server.address'] = remote;
    a['server.port'] = r.dport;
  } else {
    if (remote !== undefined) a['client.address'] = remote;
    a['server.port'] = r.sport;
  }
  a['process.executable.name'] = r.comm;
  if (withPid) a['process.pid'] = r.pid;
  if (r.container_id) a['container.id'] = r.container_id;
  if (r.pod_uid) a['k8s.pod.uid'] = r.pod_uid;
  return a;
}

/** The attributes of a summary row: host (none: host.name is the resource's), container or process. */
export function rowAttributes(r: SummaryRecord, withPid: boolean): Attributes {
  if (r.dimension === 'container')
    return { 'container.id': r.container_id ?? '', ...(r.pod_uid ? { 'k8s.pod.uid': r.pod_uid } : {}) };
  if (r.dimension === 'process')
    return {
      'process.executable.name': r.comm ?? '',
      ...(withPid && r.pid !== undefined ? { 'process.pid': r.pid } : {}),
    };
  return {};
}

export class Series {
  private readonly conns = new Map<number, Conn>();
  private readonly peer: (addr: string) => string | undefined;
  /** Per metric: series key -> window index of its last point. */
  private readonly live = new Map<string, Map<string, { attrs: Attributes; last: number }>>();
  /** Points of record-driven metrics since the last window. */
  private pending: Point[] = [];
  /** Open connections per attribute set, as last exported. */
  private levels = new Map<string, { attrs: Attributes; n: number }>();
  private index = 0;
  /** Points folded into an overflow series, ever. */
  overflowed = 0;

  constructor(
    private readonly defs: readonly MetricDef[],
    private readonly opts: SeriesOptions,
  ) {
    this.peer = peerGrouper(opts.peers);
  }

  /** Connections being followed (bounded by the tracer's table). */
  get connections(): number {
    return this.conns.size;
  }

  /** A connection's attributes (connection events carry them too). */
  attributesOf(id: number): Attributes | undefined {
    return this.conns.get(id)?.attrs;
  }

  /** A record, before the aggregator sees it. */
  record(r: NettracerRecord): void {
    if (!('saddr' in r)) return;
    let c = this.conns.get(r.id);
    if (!c) {
      c = { attrs: connectionAttributes(r, this.peer, this.opts.withPid), rttVarUs: 0, open: false, seen: 0 };
      this.conns.set(r.id, c);
    } else if (r.pid !== 0 && c.attrs['process.executable.name'] !== r.comm) {
      // The owner became known (an accept seen in softirq first) or changed (exec).
      c.attrs = connectionAttributes(r, this.peer, this.opts.withPid);
    }
    c.open = r.type !== 'close';
    c.seen = this.index;
    if ('rtt_var_us' in r && r.rtt_var_us > 0) c.rttVarUs = r.rtt_var_us;
    for (const def of this.defs) {
      if (!('record' in def.from)) continue;
      for (const [value, extra] of def.from.record(r))
        this.pending.push({ def, attrs: { ...c.attrs, ...extra }, value });
    }
  }

  /** A closed window: its points, capped, and the series that expired. */
  window(w: ClosedWindow): Window {
    this.index++;
    const raw = this.pending;
    this.pending = [];
    for (const s of w.sessions) {
      const c = this.conns.get(s.id);
      if (!c) continue;
      const cw: ConnWindow = { ...s, rttVarUs: c.rttVarUs };
      for (const def of this.defs) {
        if (!('session' in def.from)) continue;
        for (const [value, extra] of def.from.session(cw)) raw.push({ def, attrs: { ...c.attrs, ...extra }, value });
      }
    }
    for (const { row, sessions } of w.rows) {
      const attrs = rowAttributes(row, this.opts.withPid);
      for (const def of this.defs) {
        if ('row' in def.from) {
          const v = def.from.row(row);
          if (v !== undefined) raw.push({ def, attrs, value: v });
        } else if ('rowSessions' in def.from) {
          for (const s of sessions) {
            const v = def.from.rowSessions(s);
            if (v !== undefined) raw.push({ def, attrs, value: v });
          }
        }
      }
    }
    for (const p of this.levelPoints()) raw.push(p);
    for (const s of w.sessions) if (s.closed) this.conns.delete(s.id);
    // A connection whose close record was lost (the ring was full) is in no
    // walk any more: forgotten after expireWindows windows, as its series.
    for (const [id, c] of this.conns) if (this.index - c.seen > this.opts.expireWindows) this.conns.delete(id);
    const points = raw.map((p) => this.admit(p));
    return { points, expired: this.expire() };
  }

  /** Open connections now, as changes of each attribute set's level (an UpDownCounter adds them). */
  private levelPoints(): Point[] {
    const defs = this.defs.filter((d) => 'level' in d.from);
    if (!defs.length) return [];
    const now = new Map<string, { attrs: Attributes; n: number }>();
    for (const c of this.conns.values()) {
      if (!c.open) continue;
      const k = keyOf(c.attrs);
      const e = now.get(k);
      if (e) e.n++;
      else now.set(k, { attrs: c.attrs, n: 1 });
    }
    const out: Point[] = [];
    for (const [k, e] of now) {
      const was = this.levels.get(k)?.n ?? 0;
      if (e.n !== was) for (const def of defs) out.push({ def, attrs: e.attrs, value: e.n - was });
    }
    for (const [k, e] of this.levels)
      if (!now.has(k)) for (const def of defs) out.push({ def, attrs: e.attrs, value: -e.n });
    this.levels = now;
    return out;
  }

  /** The point's own series, or its metric's overflow series once the cap is reached. */
  private admit(p: Point): Point {
    let m = this.live.get(p.def.name);
    if (!m) this.live.set(p.def.name, (m = new Map<string, { attrs: Attributes; last: number }>()));
    const k = keyOf(p.attrs);
    const s = m.get(k);
    if (s) {
      s.last = this.index;
      return p;
    }
    if (m.size < this.opts.maxSeries) {
      m.set(k, { attrs: p.attrs, last: this.index });
      return p;
    }
    this.overflowed++;
    const o = keyOf(OVERFLOW);
    const os = m.get(o);
    if (os) os.last = this.index;
    else m.set(o, { attrs: OVERFLOW, last: this.index });
    return { ...p, attrs: OVERFLOW };
  }

  /**
   * Gauges last only their window; levels while anything is open; counters
   * and histograms for expireWindows windows without a point.
   */
  private expire(): Window['expired'] {
    const out: Window['expired'] = [];
    for (const def of this.defs) {
      const m = this.live.get(def.name);
      if (!m) continue;
      const ttl = def.kind === 'gauge' ? 1 : this.opts.expireWindows;
      for (const [k, s] of m) {
        const gone = def.kind === 'updown' ? !this.levels.has(k) && k !== keyOf(OVERFLOW) : this.index - s.last >= ttl;
        if (gone) {
          m.delete(k);
          out.push({ def, attrs: s.attrs });
        }
      }
    }
    return out;
  }
}
