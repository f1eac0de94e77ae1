// From records and closed windows to the points of each export: the
// attributes of each connection (cardinality controls: no client port, peers
// grouped, PID off by default), a cap on series per metric with an overflow
// series, and expiry of series that are gone. Pure: the sinks (otlp.ts,
// prometheus.ts) apply the points.
import { BlockList, isIPv6 } from 'node:net';
import type { NettracerRecord, SummaryRecord } from '../generated/records.js';
import { synByteOf } from '../record/counters.js';
import type { ClosedWindow, SessionHandle, SessionWindow } from '../summary/aggregate.js';
import type { Placed } from '../tracer/walk-order.js';
import { type Hist, newHist, observe } from './histogram.js';
import type { Attributes, MetricDef, SessionPart } from './metrics.js';

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

/**
 * One series' share of a window: the sum to add (counter, updown), the value
 * to set (gauge), or the observations counted in the metric's buckets
 * (histogram: `hist`). Points of the same series are merged before the
 * sinks see them: a sink makes one call a series.
 */
export interface Point {
  def: MetricDef;
  /** The series' key (stable while the series lives). */
  key: string;
  attrs: Attributes;
  value: number;
  hist?: Hist;
}

export interface Window {
  points: Point[];
  /** Connections forgotten without a close record (no walk saw them for expireWindows windows). */
  lost: number[];
  /** Series gone since the last window, per metric name: Prometheus removes them. */
  expired: { def: MetricDef; key: string; attrs: Attributes }[];
}

/** An attribute set, shared by every connection that has it (a few per host, not one per connection). */
interface Ident {
  attrs: Attributes;
  /** keyOf(attrs), computed once. */
  key: string;
  /** The key with each metric's extra attributes, computed once (a string kept keeps its hash). */
  ext?: Map<Attributes, string>;
  /** Connections that have it: forgotten at 0. */
  refs: number;
  /** This window's point of each session part (Series.parts), found once a window, not once a connection. */
  slots?: (Point | undefined)[];
  /** The window `slots` belong to. */
  slotsAt?: number;
  /** Open connections that have it: kept as they open, close, change owner and go (Series.setOpen). */
  open: number;
}

/** A row's point of a rowSessions metric, and the value each of its sessions adds. */
interface RowPoint {
  point: Point;
  value: (s: SessionWindow) => number;
}

/** A followed connection (Placed: its place in the metrics walks, for the agent's sampler). */
export interface Conn extends Placed {
  readonly id: number;
  ident: Ident;
  /** Its owner as its records last said (0: none found yet). */
  pid: number;
  family: 'ipv4' | 'ipv6';
  /** Its session in the aggregator, once a walk has read it (Aggregator.session()). */
  session?: SessionHandle;
  /** Subtracted from bytes_sent read in a walk, as its records do (record/counters.ts synByteOf). */
  synByte: number;
  rttVarUs: number;
  open: boolean;
  /** The window of its last record or sample: every metrics walk gives each open connection one. */
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
const OVERFLOW_KEY = keyOf(OVERFLOW);

/** The key of a connection's attributes with a metric's extra ones (the table's few constant objects). */
const extraKeys = new WeakMap<Attributes, string>();
function withExtra(c: { key: string; ext?: Map<Attributes, string> }, extra: Attributes | undefined): string {
  if (!extra) return c.key;
  let k = c.ext?.get(extra);
  if (k !== undefined) return k;
  let e = extraKeys.get(extra);
  if (e === undefined) extraKeys.set(extra, (e = keyOf(extra)));
  k = `${c.key}+${e}`;
  (c.ext ??= new Map()).set(extra, k);
  return k;
}

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

/**
 * What a connection's attributes are made of, and nothing else: the
 * server's port (never the client's ephemeral one), the peer's address only
 * when peers are grouped, the PID only when asked for. Equal sources make
 * equal attributes (attributesOf()).
 */
interface AttributeSource {
  outgoing: boolean;
  family: string;
  port: number;
  comm: string;
  pid: number | undefined;
  containerId: string | undefined;
  podUid: string | undefined;
  peer: string | undefined;
}

function attributeSource(
  r: Extract<NettracerRecord, { saddr: string }>,
  withPid: boolean,
  byPeer: boolean,
): AttributeSource {
  const outgoing = r.direction === 'outgoing';
  return {
    outgoing,
    family: r.family,
    port: outgoing ? r.dport : r.sport,
    comm: r.comm,
    pid: withPid ? r.pid : undefined,
    containerId: r.container_id,
    podUid: r.pod_uid,
    peer: byPeer ? r.daddr : undefined,
  };
}

const sameSource = (a: AttributeSource, b: AttributeSource) =>
  a.outgoing === b.outgoing &&
  a.port === b.port &&
  a.comm === b.comm &&
  a.family === b.family &&
  a.pid === b.pid &&
  a.containerId === b.containerId &&
  a.podUid === b.podUid &&
  a.peer === b.peer;

function attributesOf(s: AttributeSource, peer: (addr: string) => string | undefined): Attributes {
  const a: Attributes = { 'network.transport': 'tcp', 'network.type': s.family };
  const remote = s.peer === undefined ? undefined : peer(s.peer);
  if (remote !== undefined) a[s.outgoing ? 'server.address' : 'client.address'] = remote;
  a['server.port'] = s.port;
  a['process.executable.name'] = s.comm;
  if (s.pid !== undefined) a['process.pid'] = s.pid;
  if (s.containerId) a['container.id'] = s.containerId;
  if (s.podUid) a['k8s.pod.uid'] = s.podUid;
  return a;
}

/** The attributes of a connection: the server's port only (never the client's ephemeral one). */
export function connectionAttributes(
  r: Extract<NettracerRecord, { saddr: string }>,
  peer: (addr: string) => string | undefined,
  withPid: boolean,
): Attributes {
  return attributesOf(attributeSource(r, withPid, true), peer);
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

/**
 * The attribute sets of the last few connections, by their sources: a
 * burst of connections of one client and server has two (one per end), and
 * finding them here costs a few comparisons, where making the attributes
 * and their key costs microseconds.
 */
class RecentIdents {
  private readonly sources: AttributeSource[] = [];
  private readonly idents: Ident[] = [];
  private next = 0;

  /** A live attribute set made of s (one that no connection has any more was forgotten: not found). */
  find(s: AttributeSource): Ident | undefined {
    for (let k = 0; k < this.sources.length; k++)
      if (this.idents[k].refs > 0 && sameSource(this.sources[k], s)) return this.idents[k];
    return undefined;
  }

  note(s: AttributeSource, i: Ident): void {
    this.sources[this.next] = s;
    this.idents[this.next] = i;
    this.next = (this.next + 1) % RECENT_IDENTS;
  }
}
const RECENT_IDENTS = 8;

export class Series {
  private readonly conns = new Map<number, Conn>();
  private readonly idents = new Map<string, Ident>();
  private readonly recent = new RecentIdents();
  private readonly peer: (addr: string) => string | undefined;
  /** Per metric: series key -> the window of its last point. */
  private readonly live = new Map<string, Map<string, { attrs: Attributes; last: number }>>();
  /** This window's points so far, by metric and series key (an overflowed key maps to the overflow point). */
  private acc = new Map<MetricDef, Map<string, Point>>();
  private readonly recordDefs: MetricDef[];
  private readonly listenerDefs: MetricDef[];
  private readonly rowSessionDefs: { def: MetricDef; value: (s: SessionWindow) => number }[];
  /** Every session part of every metric, in one list: a connection's window is a walk down it. */
  private readonly parts: { def: MetricDef; value: SessionPart[0]; extra?: Attributes }[];
  /** Open connections per attribute set, as last exported. */
  private levels = new Map<string, { attrs: Attributes; n: number }>();
  /** The window being filled, from 1. */
  private index = 1;
  /** Points folded into an overflow series, ever. */
  overflowed = 0;

  constructor(
    private readonly defs: readonly MetricDef[],
    private readonly opts: SeriesOptions,
  ) {
    this.peer = peerGrouper(opts.peers);
    this.recordDefs = defs.filter((d) => 'record' in d.from);
    this.listenerDefs = defs.filter((d) => 'listener' in d.from);
    this.rowSessionDefs = defs.flatMap((def) =>
      'rowSessions' in def.from ? [{ def, value: def.from.rowSessions }] : [],
    );
    this.parts = defs.flatMap((def) =>
      'session' in def.from ? def.from.session.map(([value, extra]) => ({ def, value, extra })) : [],
    );
  }

  /** Connections being followed (bounded by the tracer's table). */
  get connections(): number {
    return this.conns.size;
  }

  /** A connection's attributes (connection events carry them too). */
  attributesOf(id: number): Attributes | undefined {
    return this.conns.get(id)?.ident.attrs;
  }

  /** Distinct attribute sets of the connections followed. */
  get identities(): number {
    return this.idents.size;
  }

  private identOf(r: Extract<NettracerRecord, { saddr: string }>): Ident {
    const source = attributeSource(r, this.opts.withPid, this.opts.peers.by !== 'none');
    let i = this.recent.find(source);
    if (!i) {
      const attrs = attributesOf(source, this.peer);
      const key = keyOf(attrs);
      i = this.idents.get(key);
      if (!i) this.idents.set(key, (i = { attrs, key, refs: 0, open: 0 }));
      this.recent.note(source, i);
    }
    i.refs++;
    return i;
  }

  private release(i: Ident): void {
    if (--i.refs === 0) this.idents.delete(i.key);
  }

  private forget(id: number): void {
    const c = this.conns.get(id);
    if (!c) return;
    this.conns.delete(id);
    if (c.open) c.ident.open--;
    this.release(c.ident);
  }

  /** Whether c is open, counted on its attribute set (levelPoints() reads the counts, not every connection). */
  private setOpen(c: Conn, open: boolean): void {
    if (c.open === open) return;
    c.open = open;
    c.ident.open += open ? 1 : -1;
  }

  /** A record, before the aggregator sees it. */
  record(r: NettracerRecord): void {
    if (r.type === 'stats') {
      // Listeners: one series each, by the address and port they listen on.
      for (const l of r.listeners ?? []) {
        const attrs: Attributes = { 'network.transport': 'tcp', 'server.address': l.address, 'server.port': l.port };
        const ident = { attrs, key: keyOf(attrs) };
        for (const def of this.listenerDefs)
          if ('listener' in def.from) this.put(def, ident, undefined, def.from.listener(l));
      }
      return;
    }
    if (!('saddr' in r)) return;
    if (r.type === 'connect_failed') {
      // An attempt, never a connection: counted, not followed.
      const attrs = connectionAttributes(r, this.peer, this.opts.withPid);
      const once = { attrs, key: keyOf(attrs) };
      for (const def of this.recordDefs)
        if ('record' in def.from) for (const [value, extra] of def.from.record(r)) this.put(def, once, extra, value);
      return;
    }
    let c = this.conns.get(r.id);
    if (!c) {
      c = {
        id: r.id,
        ident: this.identOf(r),
        pid: r.pid,
        family: r.family,
        session: undefined,
        synByte: 0,
        rttVarUs: 0,
        open: false,
        seen: 0,
        placedAt: -1,
        placedIn: -1,
      };
      this.conns.set(r.id, c);
    } else if (r.pid !== 0 && c.ident.attrs['process.executable.name'] !== r.comm) {
      // The owner became known (an accept seen in softirq first) or changed (exec).
      const was = c.ident;
      c.ident = this.identOf(r);
      if (c.open) {
        was.open--;
        c.ident.open++;
      }
      this.release(was);
    }
    if (r.pid !== 0) c.pid = r.pid;
    if (r.type === 'existing') c.synByte = synByteOf(true, r.direction);
    this.setOpen(c, r.type !== 'close');
    c.seen = this.index;
    if ('rtt_var_us' in r && r.rtt_var_us > 0) c.rttVarUs = r.rtt_var_us;
    for (const def of this.recordDefs)
      if ('record' in def.from) for (const [value, extra] of def.from.record(r)) this.put(def, c.ident, extra, value);
  }

  /** A followed connection (one with a record), for a metrics walk's sample of it. */
  followed(id: number): Conn | undefined {
    return this.conns.get(id);
  }

  /** A metrics walk read the connection, as a metrics record of it would say. */
  sampled(c: Conn, rttVarUs: number): void {
    this.setOpen(c, true);
    c.seen = this.index;
    if (rttVarUs > 0) c.rttVarUs = rttVarUs;
  }

  /**
   * Each connection's values of the window, into the points of its attribute
   * set. Its own function: the loop over every connection stays compiled
   * small, and window(), which runs once a window, is not recompiled whole.
   */
  private sessionPoints(sessions: ClosedWindow['sessions'], rowPoints: Map<object, RowPoint[]>): void {
    const parts = this.parts;
    // Its rows' points (rowSessions) too, in the same pass: a pass over 100,000 sessions is a cache miss each.
    // A session's rows are its owner's (one array per owner): their points are found once per owner.
    const ofOwner = new Map<readonly object[], RowPoint[]>();
    let groups: readonly object[] | undefined;
    let rps: RowPoint[] = [];
    for (const s of sessions) {
      const gs = s.groups;
      if (gs !== groups) {
        groups = gs;
        let found = gs && ofOwner.get(gs);
        if (gs && !found) ofOwner.set(gs, (found = gs.flatMap((g) => rowPoints.get(g) ?? [])));
        rps = found ?? [];
      }
      for (let k = 0; k < rps.length; k++) this.add(rps[k].point, rps[k].value(s));
      // A connection a walk sampled is the session's ref; one known only from its records is looked up.
      const c = (s.ref as Conn | undefined) ?? this.conns.get(s.id);
      if (!c) continue;
      const ident = c.ident;
      if (ident.slotsAt !== this.index) {
        ident.slots = new Array<Point | undefined>(parts.length);
        ident.slotsAt = this.index;
      }
      const slots = ident.slots as (Point | undefined)[];
      for (let j = 0; j < parts.length; j++) {
        const v = parts[j].value(s, c);
        if (v === undefined) continue;
        this.add((slots[j] ??= this.point(parts[j].def, ident, parts[j].extra)), v);
      }
    }
  }

  /** A closed window: its points, capped, and the series that expired. */
  window(w: ClosedWindow): Window {
    const rows = w.rows.map(({ row, group }) => {
      const attrs = rowAttributes(row, this.opts.withPid);
      return { row, group, c: { attrs, key: keyOf(attrs) } };
    });
    // The points of each row's sessions (a row without any has none), filled in sessionPoints().
    const rowPoints = new Map<object, RowPoint[]>();
    for (const { row, group, c } of rows)
      if (row.sessions)
        rowPoints.set(
          group,
          this.rowSessionDefs.map(({ def, value }) => ({ point: this.point(def, c, undefined), value })),
        );
    this.sessionPoints(w.sessions, rowPoints);
    for (const { row, c } of rows)
      for (const def of this.defs)
        if ('row' in def.from) {
          const v = def.from.row(row);
          if (v !== undefined) this.put(def, c, undefined, v);
        }
    this.levelPoints();
    const lost = this.forgetGone(w.sessions);
    const points = [...new Set([...this.acc.values()].flatMap((m) => [...m.values()]))];
    this.acc = new Map();
    const expired = this.expire();
    this.index++;
    return { points, expired, lost };
  }

  /**
   * Forgets the connections that closed in the window, and those no walk saw
   * for expireWindows windows; returns the latter.
   */
  private forgetGone(sessions: ClosedWindow['sessions']): number[] {
    for (const s of sessions) if (s.closed) this.forget(s.id);
    // A connection whose close record was lost (the ring was full) is in no
    // walk any more: forgotten after expireWindows windows, as its series.
    const lost: number[] = [];
    for (const c of this.conns.values()) if (this.index - c.seen >= this.opts.expireWindows) lost.push(c.id);
    for (const id of lost) this.forget(id);
    return lost;
  }

  /** One value into its series' point of this window (admitted under the cap once a window). */
  private put(
    def: MetricDef,
    c: { attrs: Attributes; key: string; ext?: Map<Attributes, string> },
    extra: Attributes | undefined,
    value: number,
  ): void {
    this.add(this.point(def, c, extra), value);
  }

  /** The point of this window of a series (or of its metric's overflow series, past the cap). */
  private point(
    def: MetricDef,
    c: { attrs: Attributes; key: string; ext?: Map<Attributes, string> },
    extra: Attributes | undefined,
  ): Point {
    const key = withExtra(c, extra);
    let acc = this.acc.get(def);
    if (!acc) this.acc.set(def, (acc = new Map<string, Point>()));
    let p = acc.get(key);
    if (!p) {
      const admitted = this.admit(def, key, () => (extra ? { ...c.attrs, ...extra } : c.attrs));
      p = acc.get(admitted.key);
      if (!p) {
        p = {
          def,
          key: admitted.key,
          attrs: admitted.attrs,
          value: 0,
          ...(def.kind === 'histogram' ? { hist: newHist(def.buckets ?? []) } : {}),
        };
        acc.set(admitted.key, p);
      }
      if (admitted.key !== key) acc.set(key, p);
    }
    return p;
  }

  private add(p: Point, value: number): void {
    if (p.attrs === OVERFLOW) this.overflowed++;
    if (p.hist) observe(p.hist, p.def.buckets ?? [], value);
    else if (p.def.kind === 'gauge') p.value = value;
    else p.value += value;
  }

  /** Open connections now, as changes of each attribute set's level (an UpDownCounter adds them). */
  private levelPoints(): void {
    const defs = this.defs.filter((d) => 'level' in d.from);
    if (!defs.length) return;
    // Counted on the attribute sets as connections open and close: a pass over the sets, not the connections.
    const now = new Map<string, { attrs: Attributes; key: string; n: number }>();
    for (const i of this.idents.values()) if (i.open > 0) now.set(i.key, { attrs: i.attrs, key: i.key, n: i.open });
    for (const [k, e] of now) {
      const was = this.levels.get(k)?.n ?? 0;
      if (e.n !== was) for (const def of defs) this.put(def, e, undefined, e.n - was);
    }
    for (const [k, e] of this.levels)
      if (!now.has(k)) for (const def of defs) this.put(def, { attrs: e.attrs, key: k }, undefined, -e.n);
    this.levels = now;
  }

  /** The series itself, or its metric's overflow series once the cap is reached. */
  private admit(def: MetricDef, key: string, attrs: () => Attributes): { key: string; attrs: Attributes } {
    let m = this.live.get(def.name);
    if (!m) this.live.set(def.name, (m = new Map<string, { attrs: Attributes; last: number }>()));
    const s = m.get(key);
    if (s) {
      s.last = this.index;
      return { key, attrs: s.attrs };
    }
    if (m.size < this.opts.maxSeries) {
      const a = attrs();
      m.set(key, { attrs: a, last: this.index });
      return { key, attrs: a };
    }
    const os = m.get(OVERFLOW_KEY);
    if (os) os.last = this.index;
    else m.set(OVERFLOW_KEY, { attrs: OVERFLOW, last: this.index });
    return { key: OVERFLOW_KEY, attrs: OVERFLOW };
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
        const gone = def.kind === 'updown' ? !this.levels.has(k) && k !== OVERFLOW_KEY : this.index - s.last >= ttl;
        if (gone) {
          m.delete(k);
          out.push({ def, key: k, attrs: s.attrs });
        }
      }
    }
    return out;
  }
}
