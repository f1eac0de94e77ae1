// What a session hands its records to. The session knows nothing of output
// formats: src/encode/ has the two writers, NDJSON bytes (with the native
// fast path) and record objects (for every other format).
import type { NettracerRecord } from '../generated/records.js';

/** How records are made; may change while tracing (a re-read --config). */
export interface EncodingOptions {
  /** Metrics records carry deltas (the original's -i). */
  incremental: boolean;
  /** Add the original's average header size per packet to byte counts (-s). */
  headerSize: boolean;
  /** Only connections whose container id starts with this (decided in user space). */
  containerPrefix?: string;
}

export interface RecordWriter {
  /** The start-up walk's listening sockets: they tell which connections found open are incoming. */
  listeners(batch: Buffer): void;
  /** Kernel records (whole nt_records): from the ring buffer or a metrics walk. */
  kernel(batch: Buffer): void;
  /** A record made in JavaScript (stats, lost). */
  record(r: NettracerRecord): void;
  /** Options from the next record on. */
  configure(options: EncodingOptions): void;
}
