// The listeners a metrics walk met (kernel records of kind listen, with
// their queues): the stats record's listeners. One snapshot, replaced by
// each walk; a socket held by several processes is met once per holder.
import type { StatsRecord } from '../generated/records.js';
import { KIND, OFF, RECORD_SIZE } from '../generated/wire.js';
import { LISTENERS_LISTED } from '../record/fields.js';
import { RecordView } from './decode.js';

type Listener = NonNullable<StatsRecord['listeners']>[number];

export class ListenerTable {
  private walking = new Map<number, Listener>();
  private last: Listener[] = [];
  private readonly view = new RecordView();

  /** A metrics walk begins: what it meets replaces the last one's. */
  begin(): void {
    this.walking = new Map();
  }

  /** A chunk of the walk's output (only its listen records are read). */
  note(batch: Buffer): void {
    for (let at = OFF.kind; at < batch.length; at += RECORD_SIZE) {
      if (batch[at] !== KIND.listen) continue;
      const k = this.view;
      k.batch(batch);
      k.at((at - OFF.kind) / RECORD_SIZE);
      if (k.listen_drops === 0 && k.accept_queue === 0 && k.half_open === 0 && k.synack_retransmits === 0) continue;
      this.walking.set(k.id, {
        netns: k.netns,
        address: k.saddr,
        port: k.sport,
        listen_drops: k.listen_drops,
        accept_queue: k.accept_queue,
        accept_queue_max: k.accept_queue_max,
        half_open: k.half_open,
        ...(k.synack_retransmits ? { synack_retransmits: k.synack_retransmits } : {}),
      });
    }
  }

  /** The walk is complete. */
  end(): void {
    this.last = [...this.walking.values()]
      .sort((a, b) => b.listen_drops - a.listen_drops || b.accept_queue - a.accept_queue)
      .slice(0, LISTENERS_LISTED);
  }

  /** The last complete walk's listeners worth listing. */
  rows(): Listener[] {
    return this.last;
  }
}
