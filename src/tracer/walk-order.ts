// What a consumer of metrics walks keeps per connection, found for each
// record of a walk without a hash lookup in the steady state. A walk visits
// the kernel's table in slot order, and a connection keeps its slot, so the
// walk after this one reads the same connections in the same order, give or
// take those opened and closed in between: the one after the last found is
// almost always the next read. A lookup by id (a Map of 100,000 cookies,
// which are not small integers) costs more than everything else done per
// connection, so it is kept for the connections that moved.

/** A connection's place in the walks: its own fields, so that finding it needs no lookup either. */
export interface Placed {
  readonly id: number;
  /** Its index in walk `placedIn`'s order. */
  placedAt: number;
  placedIn: number;
}

/**
 * begin() a walk, find() each connection it reads, in order. An object
 * found must be the one `lookup` returns for its id while its id is in the
 * walks (the caller forgets it only once the kernel has: its close record,
 * or no walk saw it).
 */
export class WalkOrder<T extends Placed> {
  private prev: T[] = [];
  private prevLength = 0;
  private next: T[] = [];
  private nextLength = 0;
  private cursor = 0;
  private walk = 0;
  /** Connections found by lookup, not by their place: the ones that moved, opened or were first read. */
  lookups = 0;

  constructor(private readonly lookup: (id: number) => T | undefined) {}

  begin(): void {
    // The order of the walk before becomes the expected one; its array is refilled (no allocation per walk).
    const p = this.prev;
    this.prev = this.next;
    this.prevLength = this.nextLength;
    this.next = p;
    this.nextLength = 0;
    this.cursor = 0;
    this.walk++;
  }

  /** The connection `id` read next in the walk (undefined: the caller does not keep it). */
  find(id: number): T | undefined {
    let c = this.cursor < this.prevLength ? this.prev[this.cursor] : undefined;
    if (c !== undefined && c.id === id && c.placedIn === this.walk - 1) this.cursor++;
    else {
      this.lookups++;
      c = this.lookup(id);
      if (c === undefined) return undefined;
      // Where it was last walk is where the next one is likely read.
      if (c.placedIn === this.walk - 1) this.cursor = c.placedAt + 1;
    }
    c.placedAt = this.nextLength;
    c.placedIn = this.walk;
    this.next[this.nextLength++] = c;
    return c;
  }

  /** The walk is complete: the objects it did not read are let go. */
  end(): void {
    this.prev.fill(undefined as unknown as T, 0, this.prevLength);
    this.prevLength = 0;
  }
}
