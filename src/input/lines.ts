// NDJSON input split into lines, each at most MAX_LINE_BYTES long: a longer
// line is reported by its number and skipped without being kept, so memory
// stays at the bound plus the chunk being read whatever the input holds.
// Each byte is looked at once (the search for a newline starts where the
// previous one stopped): time is linear in the input. split2, which ndjson
// uses, keeps a line however long and searches it again at every chunk: a
// 1 GiB line without a newline ran for more than 200 s at 1.7 GB.
import { isUtf8 } from 'node:buffer';

/** The longest line read. Records of `nettracer trace` are under 1 KiB (the fixture capture's longest: 627 bytes); 1 MiB leaves room for what later versions add and bounds what a hostile line costs. */
export const MAX_LINE_BYTES = 1024 * 1024;

/** One line: its text, or why it was not read. */
export type Line = { n: number; text: string } | { n: number; error: string };

/** Splits chunks into lines. Synchronous and pure: a stream feeds it (readLines). */
export class LineSplitter {
  /** The unfinished line: its first pendingBytes bytes (grown by doubling, up to the bound). */
  private buf = Buffer.alloc(0);
  private pendingBytes = 0;
  /** The current line passed the bound (and was reported): its bytes are dropped until its newline. */
  private tooLong = false;
  private n = 0;

  constructor(private readonly maxBytes = MAX_LINE_BYTES) {}

  /** Bytes of the unfinished line kept between chunks (at most the bound). */
  get pending(): number {
    return this.pendingBytes;
  }

  /** The lines that end in this chunk, in order. */
  push(chunk: Buffer): Line[] {
    const out: Line[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(0x0a, pos);
      const end = nl === -1 ? chunk.length : nl;
      if (!this.tooLong && this.pendingBytes + (end - pos) > this.maxBytes) {
        // Said at once, so a reader that stops at the first bad line does not read on to its end.
        out.push({ n: ++this.n, error: `longer than ${this.maxBytes} bytes, the longest line read` });
        this.tooLong = true;
        this.drop();
      }
      if (nl === -1) {
        if (!this.tooLong) this.keep(chunk.subarray(pos));
        break;
      }
      if (this.tooLong) this.tooLong = false;
      else out.push(this.line(chunk.subarray(pos, nl)));
      pos = nl + 1;
    }
    return out;
  }

  /** The last line, when the input does not end with a newline. */
  end(): Line[] {
    return this.pendingBytes > 0 ? [this.line(Buffer.alloc(0))] : [];
  }

  /** Copied (a slice would keep the whole chunk alive) into one buffer: small chunks cost no more. */
  private keep(piece: Buffer): void {
    const need = this.pendingBytes + piece.length;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(Math.max(need, 2 * this.buf.length, 4096), this.maxBytes));
      this.buf.copy(grown, 0, 0, this.pendingBytes);
      this.buf = grown;
    }
    piece.copy(this.buf, this.pendingBytes);
    this.pendingBytes = need;
  }

  private drop(): void {
    this.pendingBytes = 0;
    if (this.buf.length > 65536) this.buf = Buffer.alloc(0);
  }

  private line(last: Buffer): Line {
    const n = ++this.n;
    const bytes = this.pendingBytes ? Buffer.concat([this.buf.subarray(0, this.pendingBytes), last]) : last;
    this.drop();
    if (!isUtf8(bytes)) return { n, error: 'not UTF-8 text' };
    return { n, text: bytes.toString('utf8') };
  }
}

/**
 * Calls `onLine` for every line of `source`, in order, chunk by chunk (the
 * stream is not read ahead of what has been handled). `onLine` throwing
 * stops the reading and rejects with what it threw.
 */
export async function readLines(
  source: AsyncIterable<Buffer | string>,
  onLine: (line: Line) => void,
  maxBytes = MAX_LINE_BYTES,
): Promise<void> {
  const splitter = new LineSplitter(maxBytes);
  for await (const chunk of source) {
    for (const line of splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) onLine(line);
  }
  for (const line of splitter.end()) onLine(line);
}
