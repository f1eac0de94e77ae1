// Reading a tracer's NDJSON output file while it grows: counts of the records
// of the connections on some ports, and what its "lost" and "stats" records say.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { count, isObj, num, type Obj, str } from './json.js';

/** The fields of a "stats" record the bench reads. */
export interface StatsRecord {
  timestamp: string;
  connections_tracked: number;
  records_lost: number;
  connections_untracked: number;
  hook_misses: number;
  final: boolean;
}

type Counted = 'connect' | 'accept' | 'close' | 'metrics';
const isCounted = (t: unknown): t is Counted => t === 'connect' || t === 'accept' || t === 'close' || t === 'metrics';

/** Counts the records of the connections whose local or remote port is in `ports` (may grow). */
export class RecordTail {
  /** Bytes read so far. */
  offset = 0;
  private rest = '';
  readonly counts: Record<Counted, number> = { connect: 0, accept: 0, close: 0, metrics: 0 };
  /** Sums over the "lost" records. */
  lost = 0; // records_lost
  untracked = 0; // connections_untracked
  missed = 0; // hook_misses
  /** The last "stats" record, if the tracer writes them. */
  stats: StatsRecord | undefined;
  lines = 0;
  bad = 0;

  constructor(
    readonly file: string,
    readonly ports: ReadonlySet<number>,
  ) {}

  /** Reads what was appended since the last call; returns the file size. */
  poll(): number {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return 0;
    }
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.allocUnsafe(4 << 20);
      while (this.offset < size) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, size - this.offset), this.offset);
        if (n <= 0) break;
        this.offset += n;
        const lines = (this.rest + buf.toString('utf8', 0, n)).split('\n');
        this.rest = lines.pop() ?? '';
        for (const l of lines) this.line(l);
      }
      return size;
    } finally {
      closeSync(fd);
    }
  }

  private line(l: string): void {
    if (!l) return;
    this.lines++;
    let r: unknown;
    try {
      r = JSON.parse(l);
    } catch {
      this.bad++;
      return;
    }
    if (!isObj(r)) {
      this.bad++;
      return;
    }
    if (r.type === 'lost') {
      this.lost += count(r, 'records_lost');
      this.untracked += count(r, 'connections_untracked');
      this.missed += count(r, 'hook_misses');
    } else if (r.type === 'stats') {
      this.stats = {
        timestamp: str(r, 'timestamp'),
        connections_tracked: num(r, 'connections_tracked'),
        records_lost: num(r, 'records_lost'),
        connections_untracked: num(r, 'connections_untracked'),
        hook_misses: num(r, 'hook_misses'),
        final: r.final === true,
      };
    } else if (isCounted(r.type) && (this.ports.has(num(r, 'sport')) || this.ports.has(num(r, 'dport')))) {
      this.count(r.type, r);
    }
  }

  /** A record with one of the watched ports. */
  protected count(type: Counted, _r: Obj): void {
    this.counts[type]++;
  }

  /** connect + accept + close records counted. */
  get lifecycle(): number {
    return this.counts.connect + this.counts.accept + this.counts.close;
  }

  /** Polls until pred() holds (true), or the file stops growing for stallMs (false). */
  async settle(pred: () => boolean, { stallMs = 1500, timeoutMs = 60_000 } = {}): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    let last = -1;
    let since = Date.now();
    for (;;) {
      const size = this.poll();
      if (pred()) return true;
      if (size !== last) {
        last = size;
        since = Date.now();
      } else if (Date.now() - since >= stallMs) return false;
      if (Date.now() > end) return false;
      await sleep(150);
    }
  }
}

/** A RecordTail that also keeps the lifecycle records of each connection end (by id). */
export class EndsTail extends RecordTail {
  readonly ends = new Map<string, Counted[]>();
  protected override count(type: Counted, r: Obj): void {
    super.count(type, r);
    if (type === 'metrics') return;
    const id = String(r.id);
    const kinds = this.ends.get(id);
    if (kinds) kinds.push(type);
    else this.ends.set(id, [type]);
  }
}

/**
 * A RecordTail that counts only the churn generator's own records (comm
 * "churn") among those with a churn port; records with a churn port from other
 * processes (a concurrent test that got the same ephemeral port) are counted
 * apart, in `other`.
 */
export class ChurnTail extends RecordTail {
  other = 0;
  protected override count(type: Counted, r: Obj): void {
    if (r.comm === 'churn') super.count(type, r);
    else this.other++;
  }
}
