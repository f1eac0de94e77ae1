// NDJSON bytes: one record per line, in one reused byte buffer. The native
// encoder writes most lines there directly (room()/wrote()); NdjsonSink
// writes the others field by field, with no string or object per record.
// Unit tests prove its lines are exactly JSON.stringify's, and the native
// encoder's its.
import type { NettracerRecord } from '../generated/records.js';
import type { Field, FieldSink } from './field-sink.js';

const ascii = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const TRUE = ascii('true');
const FALSE = ascii('false');
const BEGIN = new Map<string, Uint8Array>();
/** Larger than any connection record with its longest strings escaped. */
const RECORD_ROOM = 4096;

export class NdjsonSink implements FieldSink {
  private buf = Buffer.allocUnsafe(1 << 20);
  private pos = 0;
  private mark = 0;
  count = 0;

  constructor(private readonly limit = Infinity) {}

  begin(type: NettracerRecord['type']): void {
    if (this.buf.length - this.pos < RECORD_ROOM) this.grow(RECORD_ROOM);
    this.mark = this.pos;
    let head = BEGIN.get(type);
    if (!head) BEGIN.set(type, (head = ascii(`{"type":"${type}"`)));
    this.bytes(head);
  }

  str(f: Field, v: string): void {
    // Room for the key, the value at a byte a character (the slow path
    // makes its own), and still the rest of the record after it.
    const need = f.json.length + v.length + 2;
    if (this.buf.length - this.pos < need + RECORD_ROOM) this.grow(need);
    this.bytes(f.json);
    const buf = this.buf; // read after grow(): it replaces the buffer
    let p = this.pos;
    buf[p++] = 0x22;
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      // Anything JSON escapes, or that is not one UTF-8 byte: the slow path.
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return this.utf8(JSON.stringify(v));
      buf[p++] = c;
    }
    buf[p++] = 0x22;
    this.pos = p;
  }

  num(f: Field, v: number): void {
    this.bytes(f.json);
    if (v >= 0 && v <= Number.MAX_SAFE_INTEGER && Math.floor(v) === v) this.digits(v);
    else this.latin1(JSON.stringify(v)); // fractions, negatives: as JSON.stringify writes them
  }

  bool(f: Field, v: boolean): void {
    this.bytes(f.json);
    this.bytes(v ? TRUE : FALSE);
  }

  end(): void {
    this.buf[this.pos++] = 0x7d; // }
    this.buf[this.pos++] = 0x0a;
    if (++this.count > this.limit) {
      this.count = this.limit;
      this.pos = this.mark;
    }
  }

  object(r: NettracerRecord): void {
    if (this.count >= this.limit) return;
    this.count++;
    this.utf8(JSON.stringify(r) + '\n');
  }

  /** Makes room for `bytes` more bytes and says where to write them (the native encoder). */
  room(bytes: number): { buf: Uint8Array; at: number } {
    if (this.buf.length - this.pos < bytes) this.grow(bytes);
    return { buf: this.buf, at: this.pos };
  }

  /** `bytes` (whole lines, `lines` of them) were written where room() said. */
  wrote(bytes: number, lines: number): void {
    let end = this.pos + bytes;
    if (this.count + lines > this.limit) {
      // Keep whole lines up to the limit.
      end = this.pos;
      for (; this.count < this.limit; this.count++) end = this.buf.indexOf(0x0a, end) + 1;
      lines = 0;
    }
    this.count += lines;
    this.pos = end;
  }

  /** The bytes written since the last take(); valid until the next write. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.pos = 0;
    return out;
  }

  private bytes(b: Uint8Array): void {
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < b.length; i++) buf[p++] = b[i];
    this.pos = p;
  }

  /** A non-negative integer up to 2^53. */
  private digits(v: number): void {
    const buf = this.buf;
    let n = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) n++;
    let p = this.pos + n;
    this.pos = p;
    do {
      const q = Math.floor(v / 10);
      buf[--p] = 0x30 + (v - q * 10);
      v = q;
    } while (v > 0);
  }

  private latin1(s: string): void {
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  private utf8(s: string): void {
    const need = Buffer.byteLength(s);
    if (this.buf.length - this.pos < need + RECORD_ROOM) this.grow(need);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + need + RECORD_ROOM));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}
