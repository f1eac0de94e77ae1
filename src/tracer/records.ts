// Kernel records -> the published record types (schemas/v1). Counter
// arithmetic for --incremental lives here too.
import type { AcceptRecord, CloseRecord, ConnectRecord, ExistingRecord, MetricsRecord } from '../generated/records.js';
import type { ContainerInfo, ContainerResolver } from './containers.js';
import type { KernelRecord } from './decode.js';

export type ConnectionRecord = ConnectRecord | AcceptRecord | ExistingRecord | MetricsRecord | CloseRecord;

export interface Counters {
  bytes_sent: number;
  bytes_received: number;
  packets_sent: number;
  packets_received: number;
  packets_retransmitted: number;
}

export const HEADER_BYTES_IPV4 = 66;
export const HEADER_BYTES_IPV6 = 77;

/** Converts CLOCK_BOOTTIME ns (kernel stamps) to RFC 3339 UTC. */
export type Clock = (bootNs: number) => string;

export function bootClock(bootToRealtimeMs: number): Clock {
  // Records come in bursts with equal milliseconds: format each once.
  let lastMs = NaN;
  let last = '';
  return (ns) => {
    const ms = Math.floor(ns / 1e6 + bootToRealtimeMs);
    if (ms !== lastMs) {
      lastMs = ms;
      last = new Date(ms).toISOString();
    }
    return last;
  };
}

/** Deltas of every counter since `prev`; a counter that went backwards (cannot, for TCP) reads 0. */
export function delta(now: Counters, prev: Counters | undefined): Counters {
  if (!prev) return now;
  return {
    bytes_sent: Math.max(0, now.bytes_sent - prev.bytes_sent),
    bytes_received: Math.max(0, now.bytes_received - prev.bytes_received),
    packets_sent: Math.max(0, now.packets_sent - prev.packets_sent),
    packets_received: Math.max(0, now.packets_received - prev.packets_received),
    packets_retransmitted: Math.max(0, now.packets_retransmitted - prev.packets_retransmitted),
  };
}

/**
 * Builds records from kernel records, remembering what --incremental needs
 * (the last totals reported per connection; forgotten at close).
 */
export class RecordBuilder {
  private readonly lastReported = new Map<number, Counters>();
  /** Direction of connections found open at start (the kernel could not tell). */
  private readonly foundDirection = new Map<number, 'outgoing' | 'incoming'>();

  constructor(
    private readonly clock: Clock,
    private incremental: boolean,
    private readonly containers?: ContainerResolver,
    /** The original's -s: add an average header size per packet to byte counts. */
    private headerSize = false,
  ) {}

  /** A re-read configuration: applies from the next record. */
  configure(incremental: boolean, headerSize: boolean): void {
    if (incremental !== this.incremental) this.lastReported.clear(); // deltas restart from totals
    this.incremental = incremental;
    this.headerSize = headerSize;
  }

  /** Listening sockets found at start: they tell incoming from outgoing. */
  private readonly listening = new Set<string>();

  /**
   * Listeners from the first start-up walk (kind 'listen'). A connection
   * found open at start is incoming when a listener had its local port in
   * its namespace, else outgoing.
   */
  noteListeners(found: readonly KernelRecord[]): void {
    for (const k of found) if (k.kind === 'listen') this.listening.add(`${k.netns}/${k.sport}`);
  }

  private direction(k: KernelRecord): 'outgoing' | 'incoming' {
    if (k.direction !== 'unknown') return k.direction;
    return this.foundDirection.get(k.id) ?? 'outgoing';
  }

  /** Connections found open at start take bytes_sent from TCP's bytes_acked, which counts an outgoing SYN. */
  private synByte(k: KernelRecord): number {
    return k.preexisting && this.foundDirection.get(k.id) === 'outgoing' ? 1 : 0;
  }

  build(k: KernelRecord): ConnectionRecord {
    if (k.kind === 'listen') throw new Error('listen records are for noteListeners()');
    if (k.kind === 'existing') {
      this.foundDirection.set(k.id, this.listening.has(`${k.netns}/${k.sport}`) ? 'incoming' : 'outgoing');
    }
    // Fields are added in one fixed order (no spreads): every record of a type
    // gets the same hidden class, which keeps JSON.stringify on its fast path.
    const r: Record<string, unknown> = {
      type: k.kind,
      timestamp: this.clock(k.tsNs),
      id: k.id,
      pid: k.pid,
      comm: k.comm,
      family: k.family,
      saddr: k.saddr,
      sport: k.sport,
      daddr: k.daddr,
      dport: k.dport,
      netns: k.netns,
      direction: this.direction(k),
    };
    if (k.kind !== 'connect' && k.kind !== 'accept') {
      // -s: 66 B per packet for IPv4, 77 B for IPv6 (the original's averages).
      const hdr = this.headerSize ? (k.family === 'ipv4' ? HEADER_BYTES_IPV4 : HEADER_BYTES_IPV6) : 0;
      let c: Counters = {
        bytes_sent: Math.max(0, k.bytesSent - this.synByte(k)) + hdr * k.segsOut,
        bytes_received: k.bytesReceived + hdr * k.segsIn,
        packets_sent: k.segsOut,
        packets_received: k.segsIn,
        packets_retransmitted: k.totalRetrans,
      };
      if (k.kind === 'metrics' && this.incremental) {
        const total = c;
        c = delta(total, this.lastReported.get(k.id));
        this.lastReported.set(k.id, total);
      }
      r.bytes_sent = c.bytes_sent;
      r.bytes_received = c.bytes_received;
      r.packets_sent = c.packets_sent;
      r.packets_received = c.packets_received;
      r.packets_retransmitted = c.packets_retransmitted;
      r.rtt_us = k.srttUs;
      r.rtt_var_us = k.rttvarUs;
      if (k.kind === 'metrics') r.incremental = this.incremental;
      if (k.kind === 'close') {
        r.duration_ms = Math.round((k.tsNs - k.startNs) / 1e3) / 1e3;
        this.lastReported.delete(k.id);
        this.foundDirection.delete(k.id);
      }
    }
    const rec = r as unknown as ConnectionRecord;
    const info = this.containers?.lookup(k.cgroupId, k.pid);
    return info && info.container_id !== undefined ? withContainer(rec, info) : rec;
  }
}

/** Container fields go right after direction, as in the schemas. */
function withContainer(r: ConnectionRecord, c: ContainerInfo): ConnectionRecord {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(r)) {
    out[key] = value;
    if (key === 'direction') Object.assign(out, c);
  }
  return out as unknown as ConnectionRecord;
}
