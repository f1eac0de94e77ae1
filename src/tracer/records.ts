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

  /** Listeners from the first start-up walk (kind 'listen'). */
  noteListeners(found: readonly KernelRecord[]): void {
    for (const k of found) if (k.kind === 'listen') this.listening.add(`${k.netns}/${k.sport}`);
  }

  /**
   * The start-up walks' records in one go: listeners, then connections
   * already open. A connection is incoming when a listener had its local
   * port in its namespace, else outgoing.
   */
  discover(found: readonly KernelRecord[]): ConnectionRecord[] {
    this.noteListeners(found);
    return found.filter((k) => k.kind === 'existing').map((k) => this.build(k));
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
    if (k.kind === 'existing') {
      this.foundDirection.set(k.id, this.listening.has(`${k.netns}/${k.sport}`) ? 'incoming' : 'outgoing');
    }
    // Object literals in one fixed key order (no spreads): every record of a
    // type has one hidden class, which keeps JSON.stringify on its fast path.
    const syn = this.synByte(k);
    const timestamp = this.clock(k.tsNs);
    // -s: 66 B per packet for IPv4, 77 B for IPv6 (the original's averages).
    const hdr = this.headerSize ? (k.family === 'ipv4' ? HEADER_BYTES_IPV4 : HEADER_BYTES_IPV6) : 0;
    const direction = this.direction(k);
    let r: ConnectionRecord;
    switch (k.kind) {
      case 'connect':
      case 'accept':
        r = {
          type: k.kind,
          timestamp,
          id: k.id,
          pid: k.pid,
          comm: k.comm,
          family: k.family,
          saddr: k.saddr,
          sport: k.sport,
          daddr: k.daddr,
          dport: k.dport,
          netns: k.netns,
          direction,
        };
        break;
      case 'metrics': {
        let sent = Math.max(0, k.bytesSent - syn) + hdr * k.segsOut;
        let received = k.bytesReceived + hdr * k.segsIn;
        let segsOut = k.segsOut;
        let segsIn = k.segsIn;
        let retrans = k.totalRetrans;
        if (this.incremental) {
          const now = { bytes_sent: sent, bytes_received: received, packets_sent: segsOut, packets_received: segsIn, packets_retransmitted: retrans };
          const d = delta(now, this.lastReported.get(k.id));
          this.lastReported.set(k.id, now);
          sent = d.bytes_sent;
          received = d.bytes_received;
          segsOut = d.packets_sent;
          segsIn = d.packets_received;
          retrans = d.packets_retransmitted;
        }
        r = {
          type: 'metrics',
          timestamp,
          id: k.id,
          pid: k.pid,
          comm: k.comm,
          family: k.family,
          saddr: k.saddr,
          sport: k.sport,
          daddr: k.daddr,
          dport: k.dport,
          netns: k.netns,
          direction,
          bytes_sent: sent,
          bytes_received: received,
          packets_sent: segsOut,
          packets_received: segsIn,
          packets_retransmitted: retrans,
          rtt_us: k.srttUs,
          rtt_var_us: k.rttvarUs,
          incremental: this.incremental,
        };
        break;
      }
      case 'existing':
      case 'close':
        r = {
          type: k.kind,
          timestamp,
          id: k.id,
          pid: k.pid,
          comm: k.comm,
          family: k.family,
          saddr: k.saddr,
          sport: k.sport,
          daddr: k.daddr,
          dport: k.dport,
          netns: k.netns,
          direction,
          bytes_sent: Math.max(0, k.bytesSent - syn) + hdr * k.segsOut,
          bytes_received: k.bytesReceived + hdr * k.segsIn,
          packets_sent: k.segsOut,
          packets_received: k.segsIn,
          packets_retransmitted: k.totalRetrans,
          rtt_us: k.srttUs,
          rtt_var_us: k.rttvarUs,
        } as ConnectionRecord;
        if (k.kind === 'close') {
          (r as CloseRecord).duration_ms = Math.round((k.tsNs - k.startNs) / 1e3) / 1e3;
          this.lastReported.delete(k.id);
          this.foundDirection.delete(k.id);
        }
        break;
      case 'listen':
        throw new Error('listen records are for discover()');
    }
    const c = this.containers?.lookup(k.cgroupId, k.pid);
    return c && c.container_id !== undefined ? withContainer(r, c) : r;
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
