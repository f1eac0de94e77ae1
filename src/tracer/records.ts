// Kernel records -> the published record types (schemas/v1). Counter
// arithmetic for --incremental lives here too.
import type { AcceptRecord, CloseRecord, ConnectRecord, ExistingRecord, MetricsRecord } from '../generated/records.js';
import type { ContainerInfo, ContainerResolver } from './containers.js';
import type { KernelRecord } from './decode.js';
import { Field, ObjectSink, type RecordSink } from './sink.js';

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
    /** --container: only connections of containers whose id starts with this. */
    private containerPrefix?: string,
  ) {}

  /** A re-read configuration: applies from the next record. */
  configure(incremental: boolean, headerSize: boolean, containerPrefix?: string): void {
    if (incremental !== this.incremental) this.lastReported.clear(); // deltas restart from totals
    this.incremental = incremental;
    this.headerSize = headerSize;
    this.containerPrefix = containerPrefix;
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

  /**
   * One record as an object (tests, one-off use; the session writes records
   * to a sink); undefined when --container leaves it out.
   */
  build(k: KernelRecord): ConnectionRecord | undefined {
    const sink = new ObjectSink();
    return this.write(k, sink) ? (sink.take()[0] as ConnectionRecord) : undefined;
  }

  /**
   * Writes the published record for `k` to `sink`, fields in schema order;
   * returns false when --container leaves it out.
   */
  write(k: KernelRecord, sink: RecordSink): boolean {
    const kind = k.kind;
    if (kind === 'listen') throw new Error('listen records are for noteListeners()');
    const id = k.id;
    if (kind === 'existing') {
      this.foundDirection.set(id, this.listening.has(`${k.netns}/${k.sport}`) ? 'incoming' : 'outgoing');
    }
    const container = this.containerFields(k);
    if (this.containerPrefix && !container[0]?.[1].startsWith(this.containerPrefix)) {
      if (kind === 'close') this.forget(id);
      return false;
    }
    sink.begin(kind);
    sink.str(F.timestamp, this.clock(k.tsNs));
    sink.num(F.id, id);
    sink.num(F.pid, k.pid);
    sink.str(F.comm, k.comm);
    sink.str(F.family, k.family);
    sink.str(F.saddr, k.saddr);
    sink.num(F.sport, k.sport);
    sink.str(F.daddr, k.daddr);
    sink.num(F.dport, k.dport);
    sink.num(F.netns, k.netns);
    sink.str(F.direction, this.direction(k));
    for (const [f, v] of container) sink.str(f, v);
    if (kind !== 'connect' && kind !== 'accept') {
      // -s: 66 B per packet for IPv4, 77 B for IPv6 (the original's averages).
      const hdr = this.headerSize ? (k.family === 'ipv4' ? HEADER_BYTES_IPV4 : HEADER_BYTES_IPV6) : 0;
      const segsOut = k.segsOut;
      const segsIn = k.segsIn;
      let bytesSent = Math.max(0, k.bytesSent - this.synByte(k)) + hdr * segsOut;
      let bytesReceived = k.bytesReceived + hdr * segsIn;
      let packetsSent = segsOut;
      let packetsReceived = segsIn;
      let retransmitted = k.totalRetrans;
      if (kind === 'metrics' && this.incremental) {
        const total = { bytes_sent: bytesSent, bytes_received: bytesReceived, packets_sent: packetsSent, packets_received: packetsReceived, packets_retransmitted: retransmitted };
        const c = delta(total, this.lastReported.get(id));
        this.lastReported.set(id, total);
        bytesSent = c.bytes_sent;
        bytesReceived = c.bytes_received;
        packetsSent = c.packets_sent;
        packetsReceived = c.packets_received;
        retransmitted = c.packets_retransmitted;
      }
      sink.num(F.bytes_sent, bytesSent);
      sink.num(F.bytes_received, bytesReceived);
      sink.num(F.packets_sent, packetsSent);
      sink.num(F.packets_received, packetsReceived);
      sink.num(F.packets_retransmitted, retransmitted);
      sink.num(F.rtt_us, k.srttUs);
      sink.num(F.rtt_var_us, k.rttvarUs);
      if (kind === 'metrics') sink.bool(F.incremental, this.incremental);
      if (kind === 'close') {
        sink.num(F.duration_ms, Math.round((k.tsNs - k.startNs) / 1e3) / 1e3);
        this.forget(id);
      }
    }
    sink.end();
    return true;
  }

  /**
   * The container fields of a record's owner, in schema order (right after
   * direction); none outside containers. container_id, when known, is first.
   */
  containerFields(k: Pick<KernelRecord, 'cgroupId' | 'pid'>): [Field, string][] {
    const info = this.containers?.lookup(k.cgroupId, k.pid);
    if (info?.container_id === undefined) return NO_FIELDS;
    const out: [Field, string][] = [];
    for (const f of CONTAINER_FIELDS) {
      const v = info[f.name as keyof ContainerInfo];
      if (v !== undefined) out.push([f, v]);
    }
    return out;
  }

  private forget(id: number): void {
    if (this.lastReported.size) this.lastReported.delete(id);
    if (this.foundDirection.size) this.foundDirection.delete(id);
  }
}

const F = {
  timestamp: new Field('timestamp'),
  id: new Field('id'),
  pid: new Field('pid'),
  comm: new Field('comm'),
  family: new Field('family'),
  saddr: new Field('saddr'),
  sport: new Field('sport'),
  daddr: new Field('daddr'),
  dport: new Field('dport'),
  netns: new Field('netns'),
  direction: new Field('direction'),
  bytes_sent: new Field('bytes_sent'),
  bytes_received: new Field('bytes_received'),
  packets_sent: new Field('packets_sent'),
  packets_received: new Field('packets_received'),
  packets_retransmitted: new Field('packets_retransmitted'),
  rtt_us: new Field('rtt_us'),
  rtt_var_us: new Field('rtt_var_us'),
  incremental: new Field('incremental'),
  duration_ms: new Field('duration_ms'),
};

const NO_FIELDS: [Field, string][] = [];
/** In schema order. */
const CONTAINER_FIELDS = ['container_id', 'container_runtime', 'pod_uid', 'qos_class'].map((n) => new Field(n));
