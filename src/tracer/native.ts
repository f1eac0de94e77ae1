// The native addon (native/), loaded on first use so `--help` never pays for it.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from '../root.js';

export interface NativeOptions {
  mapSize: number;
  withLoopback: boolean;
  pid?: number;
  port?: number;
  ringBytes?: number;
  verbose: boolean;
  /** 4 or 6. */
  family?: number;
  netns?: number;
  comm?: string;
  addr?: { family: 4 | 6; prefix: number; bytes: number[] };
  /** A BPF object file to load instead of the embedded one (-p). */
  program?: string;
}

/**
 * Records, in the first `length` bytes of a buffer the tracer reuses: read
 * them during the call, keep nothing of it.
 */
export type RecordsCallback = (records: Buffer, length: number) => void;

export interface NativeCounters {
  recordsLost: number;
  insertFailed: number;
  recordsSent: number;
  unacceptedCloses: number;
  tracked: number;
  /** Runs of our tracepoint programs the kernel skipped (already running on that CPU). */
  hookMisses: number;
}

export interface NativeTracer {
  /**
   * Walks every process's open files, handing records over a chunk at a
   * time. mode 0: metrics of tracked connections; 1: also listeners;
   * 2: also adopts connections open before tracing started.
   */
  collect(mode: 0 | 1 | 2, onChunk: RecordsCallback): number;
  counters(): NativeCounters;
  hooks(): string[];
  pause(): void;
  resume(): void;
  flush(): void;
  /** Changes what is traced from now on (filters only); tracked connections stay. */
  setFilters(options: NativeOptions): void;
  /** Stops new records; the ring, counters and metrics walk stay usable. */
  detach(): void;
  close(): void;
  /** Gives up root once attached; returns who we are now. */
  dropPrivileges(): string;
}

export interface EncoderOptions {
  bootToRealtimeMs: number;
  headerSize: boolean;
  incremental: boolean;
}

/** native/ndjson.h: nt_record batches to NDJSON lines, except records that need JavaScript's state. */
export interface NativeNdjsonEncoder {
  /**
   * Writes the lines of records first.. of batch into target at offset;
   * returns [next record, bytes written, stop]: stop 0 at the end of the
   * batch, 1 at a record JavaScript must write (next), 2 when target is
   * full, 3 like 1 because the record's owner is new to the encoder.
   */
  encodeInto(batch: Buffer, first: number, target: Uint8Array, offset: number): [number, number, 0 | 1 | 2 | 3];
  configure(options: EncoderOptions): void;
  /** What follows "direction" in records of this owner ('' when not in a container). */
  container(cgroupId: number, pid: number, fields: string): void;
}

interface NativeModule {
  Tracer: new (options: NativeOptions, onRecords: RecordsCallback) => NativeTracer;
  NdjsonEncoder: new (options: EncoderOptions) => NativeNdjsonEncoder;
  bootToRealtimeMs(): number;
  probe(): unknown;
}

let cached: NativeModule | undefined;

export function loadNative(): NativeModule {
  if (!cached) {
    const require = createRequire(import.meta.url);
    cached = require(join(ROOT, 'build', 'Release', 'nettracer.node')) as NativeModule;
  }
  return cached;
}
