// Kernel records -> the published record types (schemas/v1). Counter
// arithmetic for --incremental lives here too.
import type { AcceptRecord, CloseRecord, ConnectRecord, MetricsRecord } from '../generated/records.js';
import type { KernelRecord } from './decode.js';

export type ConnectionRecord = ConnectRecord | AcceptRecord | MetricsRecord | CloseRecord;

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

function counters(k: KernelRecord): Counters {
  return {
    bytes_sent: k.bytesSent,
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

  constructor(
    private readonly clock: Clock,
    private readonly incremental: boolean,
  ) {}

  build(k: KernelRecord): ConnectionRecord {
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
      direction: k.direction,
    };
    switch (k.kind) {
      case 'connect':
        return { type: 'connect', ...base };
      case 'accept':
        return { type: 'accept', ...base };
      case 'metrics': {
        const total = counters(k);
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
      case 'close':
        this.lastReported.delete(k.id);
        return {
          type: 'close',
          ...base,
          ...counters(k),
          rtt_us: k.srttUs,
          rtt_var_us: k.rttvarUs,
          duration_ms: Math.round((k.tsNs - k.startNs) / 1e3) / 1e3,
        };
    }
  }
}
