// Per-connection counters kept in memory from metrics walks, and their change
// since the previous walk: what a live view (top) refreshes from, without an
// NDJSON line or a record object per connection per refresh. A connection's
// text (process name, addresses) is decoded once, when it is first seen.
import { KIND, OFF, RECORD_SIZE } from '../generated/wire.js';
import { RecordView } from './decode.js';

/**
 * The metrics records of a walk chunk, each given to `take` with `view` on
 * it; returns the indexes of the records not taken (not metrics, or
 * refused), which go to the writer as records.
 */
export function takeMetrics(view: RecordView, chunk: Buffer, take: (v: RecordView) => boolean): number[] {
  const n = view.batch(chunk);
  const others: number[] = [];
  const metrics = KIND.metrics;
  for (let i = 0; i < n; i++) {
    if (chunk[i * RECORD_SIZE + OFF.kind] !== metrics || !take(view.at(i))) others.push(i);
  }
  return others;
}

/** A tracked connection end as the last walk saw it, with its change since the walk before. */
export interface ConnectionRate {
  readonly id: number;
  /** The owner as the latest walk saw it (an accepted connection's may be 0 until its process takes it). */
  pid: number;
  comm: string;
  readonly family: 'ipv4' | 'ipv6';
  readonly saddr: string;
  readonly sport: number;
  readonly daddr: string;
  readonly dport: number;
  readonly netns: number;
  /** enum nt_direction (DIRECTION in src/generated/wire.ts). */
  readonly direction: number;
  /** Cumulative counters, as in a metrics record without --header-size. */
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  packetsRetransmitted: number;
  rttUs: number;
  rttVarUs: number;
  /** Change since the previous walk that saw it (0 on its first). Packet counters wrap at 2^32, as the kernel's. */
  dBytesSent: number;
  dBytesReceived: number;
  dPacketsSent: number;
  dPacketsReceived: number;
  dPacketsRetransmitted: number;
  /** Nanoseconds between the two walks' readings (0 on its first). */
  dtNs: number;
  /** CLOCK_BOOTTIME of this reading. */
  tsNs: number;
  /** The sample (MetricsRates.walks) that last saw it. */
  seen: number;
}

const U32 = 2 ** 32;
const wrap32 = (now: number, was: number): number => (now >= was ? now - was : now + U32 - was);

/**
 * The connections of the latest walk, keyed by socket cookie. begin(), then
 * add() every chunk of the walk, then end(): connections the walk no longer
 * saw (closed) are dropped.
 */
export class MetricsRates {
  readonly connections = new Map<number, ConnectionRate>();
  /** Walks taken in so far. */
  walks = 0;
  private readonly view = new RecordView();

  begin(): void {
    this.walks++;
  }

  /**
   * Takes in the metrics records of a chunk of the walk; returns the
   * indexes of the other records (opening records of owners the walk found),
   * which are not this table's business.
   */
  add(chunk: Buffer): number[] {
    return takeMetrics(this.view, chunk, (v) => {
      this.take(v);
      return true;
    });
  }

  private take(v: RecordView): void {
    const id = v.id;
    const c = this.connections.get(id);
    if (!c) {
      this.connections.set(id, {
        id,
        pid: v.pid,
        comm: v.comm,
        family: v.ipFamily,
        saddr: v.saddr,
        sport: v.sport,
        daddr: v.daddr,
        dport: v.dport,
        netns: v.netns,
        direction: v.direction,
        bytesSent: v.bytes_sent,
        bytesReceived: v.bytes_received,
        packetsSent: v.packets_sent,
        packetsReceived: v.packets_received,
        packetsRetransmitted: v.packets_retransmitted,
        rttUs: v.rtt_us,
        rttVarUs: v.rtt_var_us,
        dBytesSent: 0,
        dBytesReceived: 0,
        dPacketsSent: 0,
        dPacketsReceived: 0,
        dPacketsRetransmitted: 0,
        dtNs: 0,
        tsNs: v.ts_ns,
        seen: this.walks,
      });
      return;
    }
    const bs = v.bytes_sent;
    const br = v.bytes_received;
    const ps = v.packets_sent;
    const pr = v.packets_received;
    const pt = v.packets_retransmitted;
    const ts = v.ts_ns;
    c.dBytesSent = bs - c.bytesSent;
    c.dBytesReceived = br - c.bytesReceived;
    c.dPacketsSent = wrap32(ps, c.packetsSent);
    c.dPacketsReceived = wrap32(pr, c.packetsReceived);
    c.dPacketsRetransmitted = wrap32(pt, c.packetsRetransmitted);
    c.dtNs = ts - c.tsNs;
    c.bytesSent = bs;
    c.bytesReceived = br;
    c.packetsSent = ps;
    c.packetsReceived = pr;
    c.packetsRetransmitted = pt;
    c.rttUs = v.rtt_us;
    c.rttVarUs = v.rtt_var_us;
    c.tsNs = ts;
    const pid = v.pid;
    if (pid !== c.pid) {
      c.pid = pid;
      c.comm = v.comm;
    }
    c.seen = this.walks;
  }

  /** The walk is complete: forgets the connections it did not see. */
  end(): void {
    for (const [id, c] of this.connections) if (c.seen !== this.walks) this.connections.delete(id);
  }
}
