// Kernel records -> the published record types (schemas/v1). Counter
// arithmetic for --incremental lives here too.
import type { AcceptRecord, CloseRecord, ConnectRecord, ExistingRecord, MetricsRecord } from '../generated/records.js';
import type { ContainerResolver } from './containers.js';
import type { KernelRecord } from './decode.js';

export type ConnectionRecord = ConnectRecord | AcceptRecord | ExistingRecord | MetricsRecord | CloseRecord;

export interface Counters {
  bytes_sent: number;
  bytes_received: number;
  packets_sent: number;
  packets_received: number;
  packets_retransmitted: number;
}

/** Converts CLOCK_BOOTTIME ns (kernel stamps) to RFC 3339 UTC. */
export type Clock = (bootNs: number) => string;

export function bootClock(bootToRealtimeMs: number): Clock {
  return (ns) => new Date(ns / 1e6 + bootToRealtimeMs).toISOString();
}

/** `synByte`: 1 when bytes_sent still counts an active open's SYN (connections found open at start). */
function counters(k: KernelRecord, synByte = 0): Counters {
  return {
    bytes_sent: Math.max(0, k.bytesSent - synByte),
    bytes_received: k.bytesReceived,
    packets_sent: k.segsOut,
    packets_received: k.segsIn,
    packets_retransmitted: k.totalRetrans,
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
    private readonly incremental: boolean,
    private readonly containers?: ContainerResolver,
  ) {}

  /**
   * The start-up walk's records: listeners and connections already open.
   * A connection is incoming when a listener had its local port in its
   * namespace, else outgoing.
   */
  discover(found: readonly KernelRecord[]): ConnectionRecord[] {
    const listening = new Set<string>();
    for (const k of found) if (k.kind === 'listen') listening.add(`${k.netns}/${k.sport}`);
    const out: ConnectionRecord[] = [];
    for (const k of found) {
      if (k.kind !== 'existing') continue;
      this.foundDirection.set(k.id, listening.has(`${k.netns}/${k.sport}`) ? 'incoming' : 'outgoing');
      out.push(this.build(k));
    }
    return out;
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
    const syn = this.synByte(k);
    const base = {
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
      ...this.containers?.lookup(k.cgroupId, k.pid),
    };
    switch (k.kind) {
      case 'connect':
        return { type: 'connect', ...base };
      case 'accept':
        return { type: 'accept', ...base };
      case 'metrics': {
        const total = counters(k, syn);
        let reported = total;
        if (this.incremental) {
          reported = delta(total, this.lastReported.get(k.id));
          this.lastReported.set(k.id, total);
        }
        return {
          type: 'metrics',
          ...base,
          ...reported,
          rtt_us: k.srttUs,
          rtt_var_us: k.rttvarUs,
          incremental: this.incremental,
        };
      }
      case 'listen':
        throw new Error('listen records are for discover()');
      case 'existing':
        return {
          type: 'existing',
          ...base,
          ...counters(k, syn),
          rtt_us: k.srttUs,
          rtt_var_us: k.rttvarUs,
        };
      case 'close':
        this.lastReported.delete(k.id);
        this.foundDirection.delete(k.id);
        return {
          type: 'close',
          ...base,
          ...counters(k, syn),
          rtt_us: k.srttUs,
          rtt_var_us: k.rttvarUs,
          duration_ms: Math.round((k.tsNs - k.startNs) / 1e3) / 1e3,
        };
    }
  }
}
