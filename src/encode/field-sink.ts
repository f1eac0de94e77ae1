// Where the TypeScript encoder's records go, a field at a time. RecordBuilder
// writes each record once, in the order of the record table; a sink makes it
// an object (ObjectSink, for the formats that read records) or NDJSON bytes
// (NdjsonSink, which allocates nothing per record).
import type { NettracerRecord } from '../generated/records.js';

/** Sets one field of a record object. */
type Setter = (o: Record<string, unknown>, v: unknown) => void;

/**
 * A record key, with its NDJSON form (`,"name":`) encoded once, and a
 * setter that writes it on an object by name.
 */
export class Field {
  readonly key: string;
  readonly json: Uint8Array;
  /**
   * `o["name"] = v` compiled for this name: a store by a computed key
   * (`o[f.name] = v`) puts an object given over a dozen properties that way
   * in V8's dictionary mode, where every later read is a hash lookup; a
   * store by name keeps its shape fast (records of 15 to 28 fields).
   */
  readonly set: Setter;
  constructor(readonly name: string) {
    this.key = `,"${name}":`;
    this.json = Buffer.from(this.key, 'latin1');
    // The name is the record table's, quoted by JSON.stringify: code made from our own constant.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    this.set = new Function('o', 'v', `o[${JSON.stringify(name)}] = v;`) as Setter;
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
    f.set(this.cur, v);
  }
  num(f: Field, v: number): void {
    f.set(this.cur, v);
  }
  bool(f: Field, v: boolean): void {
    f.set(this.cur, v);
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
