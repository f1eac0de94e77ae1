// WalkOrder: each connection of a walk found by its place in the walk
// before, by lookup only when it moved, opened or was first read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Placed, WalkOrder } from '../../src/tracer/walk-order.js';

const conn = (id: number): Placed => ({ id, placedAt: -1, placedIn: -1 });

function setup(ids: number[]) {
  const known = new Map(ids.map((id) => [id, conn(id)]));
  const order = new WalkOrder((id) => known.get(id));
  const walk = (seq: number[]) => {
    const before = order.lookups;
    order.begin();
    const found = seq.map((id) => order.find(id));
    order.end();
    return { found, lookups: order.lookups - before };
  };
  return { known, walk };
}

describe('WalkOrder', () => {
  it('finds each connection of an unchanged walk without a lookup', () => {
    const ids = [11, 22, 33, 44, 55];
    const { known, walk } = setup(ids);
    assert.equal(walk(ids).lookups, 5, 'the first walk looks every one up');
    const again = walk(ids);
    assert.equal(again.lookups, 0);
    assert.deepEqual(
      again.found,
      ids.map((id) => known.get(id)),
    );
  });

  it('looks up only what moved: a connection opened, one closed, one moved', () => {
    const { known, walk } = setup([1, 2, 3, 4, 5, 6, 7]);
    walk([1, 2, 3, 4, 5, 6]);
    // 3 closed, 7 opened between 4 and 5, 1 moved to the end.
    const w = walk([2, 4, 7, 5, 6, 1]);
    assert.deepEqual(
      w.found,
      [2, 4, 7, 5, 6, 1].map((id) => known.get(id)),
    );
    // 2 (its place was 1's), 4 (after the gap of 3), 7 (new), 1 (moved); 5 and 6 follow their places.
    assert.equal(w.lookups, 4);
    assert.equal(walk([2, 4, 7, 5, 6, 1]).lookups, 0, 'the new order is the expected one next');
  });

  it('gives nothing for a connection the caller does not keep, and it is not placed', () => {
    const { walk } = setup([1, 2]);
    walk([1, 9, 2]);
    const w = walk([1, 9, 2]);
    assert.deepEqual(w.found, [{ id: 1, placedAt: 0, placedIn: 2 }, undefined, { id: 2, placedAt: 1, placedIn: 2 }]);
    assert.equal(w.lookups, 1, 'only 9, which is looked up each time');
  });

  it('does not take a place from a walk before the last', () => {
    const { known, walk } = setup([1, 2, 3]);
    walk([1, 2, 3]);
    walk([3]);
    // 1 and 2 were not in the last walk: their old places are not trusted; 3 is found at its place.
    const w = walk([1, 2, 3]);
    assert.deepEqual(
      w.found,
      [1, 2, 3].map((id) => known.get(id)),
    );
    assert.equal(w.lookups, 2);
  });
});
