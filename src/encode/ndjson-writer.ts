// NDJSON bytes straight from the kernel's records: the native encoder
// (native/ndjson.h) writes the lines it can, nearly all of a busy stream,
// into the sink's own buffer, about fifteen times faster than JavaScript;
// the RecordBuilder writes the rest in place, and teaches the encoder each
// new owner's container fields so the next records of that owner are the
// encoder's too.
import { CONTAINER_CACHE_MAX, type Owner } from '../tracer/containers.js';
import { type EncodeStops, loadNative, type NativeNdjsonEncoder } from '../tracer/native.js';
import type { EncodingOptions } from '../tracer/record-writer.js';
import { NdjsonSink } from './ndjson-sink.js';
import { BuilderWriter, headerBytes, type WriterOptions } from './writers.js';

/** Room asked of the sink before each native call: a few hundred lines. */
const ROOM = 256 * 1024;

export class NdjsonWriter extends BuilderWriter<NdjsonSink> {
  private readonly encoder?: NativeNdjsonEncoder;
  private readonly stops?: EncodeStops;

  /** native: false writes every record in JavaScript (the reference the tests compare with). */
  constructor(options: EncodingOptions, w: WriterOptions & { native?: boolean } = {}) {
    super(new NdjsonSink(w.limit), options, w);
    if (w.native !== false) {
      const native = loadNative();
      this.encoder = new native.NdjsonEncoder(this.encoderOptions(options));
      this.stops = native.encodeStops;
    }
  }

  override configure(options: EncodingOptions): void {
    super.configure(options);
    this.encoder?.configure(this.encoderOptions(options));
  }

  override kernel(batch: Buffer): void {
    const encoder = this.encoder;
    const stops = this.stops;
    // --container filters in JavaScript: every record goes through the builder.
    if (!encoder || !stops || this.builder.containerPrefix) return super.kernel(batch);
    const view = this.view;
    const sink = this.sink;
    const n = view.batch(batch);
    for (let i = 0; i < n;) {
      const { buf, at } = sink.room(ROOM);
      const [next, bytes, stop] = encoder.encodeInto(batch, i, buf, at);
      sink.wrote(bytes, next - i);
      i = next;
      if (stop === stops.hole || stop === stops.owner) {
        const k = view.at(i++);
        this.builder.write(k, sink);
        // Also after a hole: the builder may have learnt this owner's container
        // under a key the encoder would look for first (its cgroup).
        this.teach(k);
      }
    }
  }

  /** The bytes written since the last take(); valid until the next write. */
  take(): Buffer {
    return this.sink.take();
  }

  /** The encoder keeps what it is taught (bounded): nothing to remember here. */
  private teach(k: Owner): void {
    let fields = '';
    for (const [f, v] of this.builder.containerFields(k)) fields += f.key + JSON.stringify(v);
    // Under the key the resolver keeps it by: the cgroup, or this process only.
    this.encoder!.container(this.builder.containerByCgroup(k) ? k.cgroup_id : 0, k.pid, k.owner_start, fields);
  }

  private encoderOptions(options: EncodingOptions) {
    return {
      bootToRealtimeMs: this.bootToRealtimeMs,
      ...headerBytes(options),
      incremental: options.incremental,
      containerCacheMax: CONTAINER_CACHE_MAX,
    };
  }
}
