// The two RecordWriters a session can hand its records to: NDJSON bytes
// (ndjson-writer.ts, with the native fast path) and record objects, for
// every other format. Both convert through one RecordBuilder.
import type { NettracerRecord } from '../generated/records.js';
import { HEADER_BYTES } from '../record/fields.js';
import { markMapped } from '../record/mapped.js';
import { ContainerResolver } from '../tracer/containers.js';
import { RecordView } from '../tracer/decode.js';
import { loadNative } from '../tracer/native.js';
import type { EncodingOptions, RecordWriter } from '../tracer/record-writer.js';
import { bootClock, RecordBuilder } from './builder.js';
import { type FieldSink, ObjectSink } from './field-sink.js';

export interface WriterOptions {
  /** Records to accept at most (--count); later ones are dropped. */
  limit?: number;
  /** Realtime minus boottime (ms): default, the native addon's reading now. */
  bootToRealtimeMs?: number;
  containers?: ContainerResolver;
}

export abstract class BuilderWriter<S extends FieldSink> implements RecordWriter {
  protected readonly builder: RecordBuilder;
  protected readonly view = new RecordView();
  protected readonly bootToRealtimeMs: number;

  constructor(
    readonly sink: S,
    options: EncodingOptions,
    w: WriterOptions,
  ) {
    this.bootToRealtimeMs = w.bootToRealtimeMs ?? loadNative().bootToRealtimeMs();
    this.builder = new RecordBuilder(
      bootClock(this.bootToRealtimeMs),
      options,
      w.containers ?? new ContainerResolver(),
    );
  }

  listeners(batch: Buffer): void {
    this.builder.noteListeners(batch);
  }

  kernel(batch: Buffer): void {
    const view = this.view;
    const n = view.batch(batch);
    for (let i = 0; i < n; i++) this.builder.write(view.at(i), this.sink);
  }

  record(r: NettracerRecord): void {
    this.sink.object(r);
  }

  configure(options: EncodingOptions): void {
    this.builder.configure(options);
  }

  /** Records accepted so far. */
  get count(): number {
    return this.sink.count;
  }
}

/** Records as objects, for the formats that read them. */
export class ObjectWriter extends BuilderWriter<ObjectSink> {
  constructor(options: EncodingOptions, w: WriterOptions = {}) {
    super(new ObjectSink(w.limit), options, w);
  }

  /** As BuilderWriter's, and marks the records of IPv6 sockets shown as IPv4 (record/mapped.ts). */
  override kernel(batch: Buffer): void {
    const view = this.view;
    const n = view.batch(batch);
    for (let i = 0; i < n; i++) {
      const k = view.at(i);
      const before = this.sink.count;
      this.builder.write(k, this.sink);
      if (k.family === 6 && k.ipFamily === 'ipv4')
        for (const r of this.sink.recent(this.sink.count - before)) markMapped(r);
    }
  }

  /** The records since the last take(). */
  take(): NettracerRecord[] {
    return this.sink.take();
  }
}

/** Header bytes per packet for the native encoder: 0 without --header-size. */
export function headerBytes(options: EncodingOptions): { headerBytesIpv4: number; headerBytesIpv6: number } {
  return options.headerSize
    ? { headerBytesIpv4: HEADER_BYTES.ipv4, headerBytesIpv6: HEADER_BYTES.ipv6 }
    : { headerBytesIpv4: 0, headerBytesIpv6: 0 };
}
