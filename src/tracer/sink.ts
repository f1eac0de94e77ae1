// Where built records go, a field at a time. RecordBuilder says once, in
// schema order, what each record holds; a sink makes it an object
// (ObjectSink, for the formats that read records) or bytes
// (output/ndjson.ts's NdjsonSink, which allocates nothing per record).
import type { NettracerRecord } from '../generated/records.js';

/** A record key, with its NDJSON form (`,"name":`) encoded once. */
export class Field {
  readonly key: string;
  readonly json: Uint8Array;
  constructor(readonly name: string) {
    this.key = `,"${name}":`;
    this.json = Buffer.from(this.key, 'latin1');
  }
}

export interface RecordSink {
  /** Starts a record: its first key is always `type`. */
  begin(type: NettracerRecord['type']): void;
  str(f: Field, v: string): void;
  num(f: Field, v: number): void;
  bool(f: Field, v: boolean): void;
  end(): void;
  /** A record already built as an object (stats, lost). */
  object(r: NettracerRecord): void;
  /**
   * A sink that takes NDJSON lines written straight into its buffer by
   * native/ndjson.h has these: room(n) makes room for n more bytes and says
   * where to write; wrote() says how many bytes (whole lines) went there.
   */
  room?(bytes: number): { buf: Uint8Array; at: number };
  wrote?(bytes: number, lines: number): void;
  /** Records accepted so far (past the limit, records are dropped). */
  readonly count: number;
}

/** Collects plain objects: keys in the order they were written. */
export class ObjectSink implements RecordSink {
  private out: NettracerRecord[] = [];
  private cur: Record<string, unknown> = {};
  count = 0;

  constructor(private readonly limit = Infinity) {}

  begin(type: NettracerRecord['type']): void {
    this.cur = { type };
  }
  str(f: Field, v: string): void {
    this.cur[f.name] = v;
  }
  num(f: Field, v: number): void {
    this.cur[f.name] = v;
  }
  bool(f: Field, v: boolean): void {
    this.cur[f.name] = v;
  }
  end(): void {
    this.object(this.cur as unknown as NettracerRecord);
  }
  object(r: NettracerRecord): void {
    if (this.count >= this.limit) return;
    this.count++;
    this.out.push(r);
  }

  /** The records since the last take(). */
  take(): NettracerRecord[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}
