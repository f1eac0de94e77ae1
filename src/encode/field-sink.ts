// Where the TypeScript encoder's records go, a field at a time. RecordBuilder
// writes each record once, in the order of the record table; a sink makes it
// an object (ObjectSink, for the formats that read records) or NDJSON bytes
// (NdjsonSink, which allocates nothing per record).
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

export interface FieldSink {
  /** Starts a record: its first key is always `type`. */
  begin(type: NettracerRecord['type']): void;
  str(f: Field, v: string): void;
  num(f: Field, v: number): void;
  bool(f: Field, v: boolean): void;
  end(): void;
  /** A record already built as an object (stats, lost). */
  object(r: NettracerRecord): void;
  /** Records accepted so far (past the limit, records are dropped). */
  readonly count: number;
}

/** Collects plain objects: keys in the order they were written. */
export class ObjectSink implements FieldSink {
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

  /** The last n records written (not yet taken). */
  recent(n: number): NettracerRecord[] {
    return n > 0 ? this.out.slice(-n) : [];
  }

  /** The records since the last take(). */
  take(): NettracerRecord[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}
