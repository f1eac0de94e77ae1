// The TypeScript encoder: kernel records -> the published records, written to
// a FieldSink in the order of the record table (field-plan.ts). It keeps what
// needs user-space state: the last totals per connection for --incremental,
// the direction of connections found open at start, the owners' containers.
import type { ConnectionRecord } from '../generated/records.js';
import { DIRECTION, FLAG, KIND } from '../generated/wire.js';
import { counterDelta, synByteOf } from '../record/counters.js';
import { closeReason, errorName, firstFin } from '../record/close-reason.js';
import { HEADER_BYTES } from '../record/fields.js';
import type { ContainerResolver, Owner } from '../tracer/containers.js';
import { KIND_NAME, type KernelRecord, RecordView } from '../tracer/decode.js';
import type { EncodingOptions } from '../tracer/record-writer.js';
import { type Field, type FieldSink, ObjectSink } from './field-sink.js';
import { CONTAINER_FIELDS, COUNTERS, HAS_COUNTERS, PLANS } from './field-plan.js';

/** Converts CLOCK_BOOTTIME ns (kernel stamps) to RFC 3339 UTC. */
export type Clock = (bootNs: number) => string;

export function bootClock(bootToRealtimeMs: number): Clock {
  // Records come in bursts with equal milliseconds: each is formatted once.
  // A close record names two instants (its time and when it was
  // established), so a new millisecond is common: only the seconds and
  // milliseconds are written then, behind the minute's text, made once.
  let lastMs = NaN;
  let last = '';
  let minute = NaN;
  let prefix = '';
  return (ns) => {
    const ms = Math.floor(ns / 1e6 + bootToRealtimeMs);
    if (ms === lastMs) return last;
    lastMs = ms;
    const m = Math.floor(ms / 60_000);
    if (m !== minute) {
      minute = m;
      const iso = new Date(m * 60_000).toISOString();
      // Years past 9999 (or before 0) have six digits and a sign: formatted whole.
      prefix = iso.length === 24 ? iso.slice(0, 17) : '';
    }
    if (!prefix) return (last = new Date(ms).toISOString());
    const r = ms - m * 60_000;
    const sec = Math.floor(r / 1000);
    const milli = r - sec * 1000;
    return (last = `${prefix}${sec < 10 ? '0' : ''}${sec}.${milli < 100 ? (milli < 10 ? '00' : '0') : ''}${milli}Z`);
  };
}

type Direction = 'outgoing' | 'incoming';

const NO_FIELDS: [Field, string][] = [];

export class RecordBuilder {
  /**
   * --incremental: per connection (forgotten at close), the readings last
   * reported: each counter's member, then the member of its header bytes.
   */
  private readonly lastReported = new Map<number, number[]>();
  /** Direction of connections found open at start (the kernel could not tell). */
  private readonly foundDirection = new Map<number, Direction>();
  /** Listening sockets found at start, as netns/port. */
  private readonly listening = new Set<string>();
  private readonly totals = new Array<number>(COUNTERS.length).fill(0);
  private options: EncodingOptions;

  constructor(
    private readonly clock: Clock,
    options: EncodingOptions,
    private readonly containers?: ContainerResolver,
  ) {
    this.options = { ...options };
  }

  /** Options from the next record on. */
  configure(options: EncodingOptions): void {
    if (options.incremental !== this.options.incremental) this.lastReported.clear(); // deltas restart from totals
    this.options = { ...options };
  }

  get containerPrefix(): string | undefined {
    return this.options.containerPrefix;
  }

  /**
   * Listeners from the start-up walk (kind listen; its other records are
   * dropped). A connection found open at start is incoming when a listener
   * had its local port in its namespace, else outgoing.
   */
  noteListeners(batch: Buffer): void {
    const view = new RecordView();
    const n = view.batch(batch);
    for (let i = 0; i < n; i++) {
      const k = view.at(i);
      if (k.kind === KIND.listen) this.listening.add(`${k.netns}/${k.sport}`);
    }
  }

  private direction(k: KernelRecord): Direction {
    if (k.direction === DIRECTION.outgoing) return 'outgoing';
    if (k.direction === DIRECTION.incoming) return 'incoming';
    return this.foundDirection.get(k.id) ?? 'outgoing';
  }

  /** One record as an object (tests, one-off use); undefined when nothing is written for it. */
  build(k: KernelRecord): ConnectionRecord | undefined {
    const sink = new ObjectSink();
    return this.write(k, sink) ? (sink.take()[0] as ConnectionRecord) : undefined;
  }

  /**
   * Writes the published record for `k` to `sink`; returns false when there
   * is none (--container leaves it out, or a listener of the start-up walk).
   */
  write(k: KernelRecord, sink: FieldSink): boolean {
    const kind = KIND_NAME[k.kind];
    if (kind === undefined || kind === 'listen') return false;
    const id = k.id;
    if (kind === 'existing') {
      this.foundDirection.set(id, this.listening.has(`${k.netns}/${k.sport}`) ? 'incoming' : 'outgoing');
    }
    const container = this.containerFields(k);
    const prefix = this.options.containerPrefix;
    if (prefix && !container[0]?.[1].startsWith(prefix)) {
      if (kind === 'close') this.forget(id);
      return false;
    }
    const totals = this.totals;
    if (HAS_COUNTERS[kind]) this.counters(k, kind === 'metrics' && this.options.incremental);
    sink.begin(kind);
    for (const s of PLANS[kind]) {
      switch (s.how) {
        case 'number':
          sink.num(s.field, s.read(k));
          break;
        case 'counter':
          sink.num(s.field, totals[s.index]);
          break;
        case 'container':
          for (const [f, v] of container) sink.str(f, v);
          break;
        case 'derived':
          switch (s.derived) {
            case 'timestamp':
              sink.str(s.field, this.clock(k.ts_ns));
              break;
            case 'comm':
              sink.str(s.field, k.comm);
              break;
            case 'family':
              sink.str(s.field, k.ipFamily);
              break;
            case 'saddr':
              sink.str(s.field, k.saddr);
              break;
            case 'daddr':
              sink.str(s.field, k.daddr);
              break;
            case 'direction':
              sink.str(s.field, this.direction(k));
              break;
            case 'incremental':
              sink.bool(s.field, this.options.incremental);
              break;
            case 'duration_ms':
              sink.num(s.field, Math.round((k.ts_ns - k.start_ns) / 1e3) / 1e3);
              break;
            case 'established_at':
              // A connection found open at start: when it was established is not known.
              if (!(k.flags & FLAG.preexisting)) sink.str(s.field, this.clock(k.start_ns));
              break;
            case 'close_reason': {
              const reason = closeReason(k.close_reason);
              if (reason) sink.str(s.field, reason);
              break;
            }
            case 'first_fin': {
              const first = firstFin(k.close_reason);
              if (first) sink.str(s.field, first);
              break;
            }
            case 'error': {
              const error = errorName(k.sk_err, kind === 'connect_failed');
              if (error) sink.str(s.field, error);
              break;
            }
            case 'errno':
              if (k.sk_err || kind === 'connect_failed') sink.num(s.field, k.sk_err);
              break;
          }
          break;
      }
    }
    sink.end();
    if (kind === 'close') this.forget(id);
    return true;
  }

  /** The record's counters into this.totals: totals, or deltas since the last report. */
  private counters(k: KernelRecord, delta: boolean): void {
    const hdr = this.options.headerSize ? HEADER_BYTES[k.ipFamily] : 0;
    // Only a connection found open at start has a direction of ours (no lookup for the others).
    const pre = (k.flags & FLAG.preexisting) !== 0;
    const syn = pre ? synByteOf(true, this.foundDirection.get(k.id) ?? '') : 0;
    const totals = this.totals;
    const readings = delta ? new Array<number>(2 * COUNTERS.length) : undefined;
    for (let i = 0; i < COUNTERS.length; i++) {
      const c = COUNTERS[i];
      const v = c.lessSynByte ? Math.max(0, c.read(k) - syn) : c.read(k);
      const packets = c.headersPer ? c.headersPer(k) : 0;
      totals[i] = v + hdr * packets;
      if (readings) {
        readings[2 * i] = v;
        readings[2 * i + 1] = packets;
      }
    }
    if (!readings) return;
    const prev = this.lastReported.get(k.id);
    this.lastReported.set(k.id, readings);
    if (!prev) return;
    // Deltas of the readings, not of the totals: a 32-bit counter that
    // started again from 0 (packets, and the header bytes counted per packet)
    // grew modulo 2^32; a 64-bit one that went backwards (cannot, for TCP) reads 0.
    for (let i = 0; i < COUNTERS.length; i++) {
      const c = COUNTERS[i];
      totals[i] = counterDelta(readings[2 * i], prev[2 * i], c.wrap);
      if (hdr) totals[i] += hdr * counterDelta(readings[2 * i + 1], prev[2 * i + 1], c.headersWrap);
    }
  }

  /**
   * The container fields of a record's owner, in table order; none outside
   * containers. container_id, when known, is first.
   */
  containerFields(k: Owner): [Field, string][] {
    const info = this.containers?.lookup(k);
    if (info?.container_id === undefined) return NO_FIELDS;
    const out: [Field, string][] = [];
    for (const { field, key } of CONTAINER_FIELDS) {
      const v = info[key];
      if (v !== undefined) out.push([field, v]);
    }
    return out;
  }

  /** Whether the owner's container facts hold for its whole cgroup (else for this process only). */
  containerByCgroup(k: Owner): boolean {
    return this.containers?.cached(k)?.byCgroup ?? false;
  }

  private forget(id: number): void {
    if (this.lastReported.size) this.lastReported.delete(id);
    if (this.foundDirection.size) this.foundDirection.delete(id);
  }
}
