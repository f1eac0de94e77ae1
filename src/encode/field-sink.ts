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

/**
 * Hands each record to `each` as it is made, in one object reused for every
 * record: no allocation per record, and one shape for its reader (record
 * objects of a dozen shapes made every property read megamorphic). The
 * object is valid only during the call: for a reader that keeps numbers
 * and strings of a record, never the record (the agent).
 */
export class TransientSink implements FieldSink {
  private readonly cur: Record<string, unknown>;
  /** The fields of the record in `cur`: undefined again before the next. */
  private readonly written: string[] = [];
  count = 0;

  /** `names`: every field a record written here can have (one shape from the start). */
  constructor(
    names: readonly string[],
    private readonly each: (r: NettracerRecord) => void,
    private readonly limit = Infinity,
  ) {
    // Parsed, not built a key at a time: an object given over a dozen
    // properties by computed keys goes to dictionary mode, and every read of
    // it is a hash lookup. JSON.parse makes it with a fast shape.
    this.cur = JSON.parse(JSON.stringify(Object.fromEntries(['type', ...names].map((n) => [n, null])))) as Record<
      string,
      unknown
    >;
    for (const n of Object.keys(this.cur)) this.cur[n] = undefined;
  }

  begin(type: NettracerRecord['type']): void {
    const w = this.written;
    for (let i = 0; i < w.length; i++) this.cur[w[i]] = undefined;
    w.length = 0;
    this.cur.type = type;
  }
  str(f: Field, v: string): void {
    this.cur[f.name] = v;
    this.written.push(f.name);
  }
  num(f: Field, v: number): void {
    this.cur[f.name] = v;
    this.written.push(f.name);
  }
  bool(f: Field, v: boolean): void {
    this.cur[f.name] = v;
    this.written.push(f.name);
  }
  end(): void {
    this.object(this.cur as unknown as NettracerRecord);
  }
  object(r: NettracerRecord): void {
    if (this.count >= this.limit) return;
    this.count++;
    this.each(r);
  }
}
