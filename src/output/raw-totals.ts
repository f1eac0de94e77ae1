// What the original's log and interactive table print whatever -i and -s
// say: a connection's totals since it was established, without header bytes.
// Records may carry deltas (metrics under --incremental) and header bytes
// (--header-size): this undoes both, per connection.
import { HEADER_BYTES } from '../record/fields.js';
import type { NettracerRecord } from '../generated/records.js';

export type Counted = Extract<NettracerRecord, { rtt_us: number }>;

export interface RawTotals {
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  retrans: number;
}

export class RawTotalsTracker {
  /** Totals as the records carry them (with header bytes under -s). */
  private readonly totals = new Map<number, RawTotals>();

  constructor(private readonly headerSize: boolean) {}

  /** The connection's raw totals after this record. */
  update(r: Counted): RawTotals {
    const prev = this.totals.get(r.id);
    const inc = r.type === 'metrics' && r.incremental && prev !== undefined;
    const t: RawTotals = {
      bytesSent: r.bytes_sent + (inc ? prev.bytesSent : 0),
      bytesReceived: r.bytes_received + (inc ? prev.bytesReceived : 0),
      packetsSent: r.packets_sent + (inc ? prev.packetsSent : 0),
      packetsReceived: r.packets_received + (inc ? prev.packetsReceived : 0),
      retrans: r.packets_retransmitted + (inc ? prev.retrans : 0),
    };
    this.totals.set(r.id, t);
    const h = this.headerSize ? HEADER_BYTES[r.family] : 0;
    return {
      ...t,
      bytesSent: Math.max(0, t.bytesSent - h * t.packetsSent),
      bytesReceived: Math.max(0, t.bytesReceived - h * t.packetsReceived),
    };
  }

  forget(id: number): void {
    this.totals.delete(id);
  }
}
