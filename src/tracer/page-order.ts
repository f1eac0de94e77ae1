// The order of a walk page's records and what the ring delivers around them.
// The ring is drained after each page is made (the session's drainFirst()):
// a connection the page read had its opening record submitted before the
// read, so that record is in the ring and must come first. A close in the
// same drain of a connection the page read happened after the read: it is
// held back and delivered after the page, so that no connection's metrics
// follow its close.
import { KIND, OFF, RECORD_SIZE, u64 } from '../generated/wire.js';

const view = (b: Buffer) => new DataView(b.buffer, b.byteOffset, b.byteLength);

export class PageOrder {
  private page?: Buffer;
  /** The page's connection ids, read once a close needs them. */
  private ids?: Set<number>;
  private held: Buffer[] = [];

  /** A page is about to be delivered: the ring's closes of its connections wait for it. */
  begin(page: Buffer): void {
    this.page = page;
    this.ids = undefined;
  }

  /**
   * A batch the ring delivers while a page waits: passes on, in order, all
   * but the closes of connections the page read, which are copied and kept
   * for end() (the batch is the ring's buffer, reused once this returns).
   */
  pass(batch: Buffer, deliver: (b: Buffer) => void): void {
    if (!this.page) return deliver(batch);
    const n = batch.length / RECORD_SIZE;
    let from = 0;
    let v: DataView | undefined;
    for (let i = 0; i < n; i++) {
      if (batch[i * RECORD_SIZE + OFF.kind] !== KIND.close) continue;
      if (!this.pageIds().has(u64((v ??= view(batch)), i * RECORD_SIZE + OFF.id))) continue;
      if (i > from) deliver(batch.subarray(from * RECORD_SIZE, i * RECORD_SIZE));
      this.held.push(Buffer.from(batch.subarray(i * RECORD_SIZE, (i + 1) * RECORD_SIZE)));
      from = i + 1;
    }
    if (from < n) deliver(from === 0 ? batch : batch.subarray(from * RECORD_SIZE));
  }

  /** The page has been delivered: the closes held back follow it. */
  end(deliver: (b: Buffer) => void): void {
    this.page = undefined;
    this.ids = undefined;
    const held = this.held;
    this.held = [];
    for (const b of held) deliver(b);
  }

  private pageIds(): Set<number> {
    if (this.ids) return this.ids;
    const ids = new Set<number>();
    const page = this.page as Buffer;
    const v = view(page);
    for (let at = 0; at < page.length; at += RECORD_SIZE) ids.add(u64(v, at + OFF.id));
    return (this.ids = ids);
  }
}
