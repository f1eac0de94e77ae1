// Timers past Node's limit of 2^31-1 ms (--duration, intervals, windows):
// chained, they fire when asked, not after 1 ms as a single Node timer would.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { after, every, MAX_TIMER_MS } from '../../src/tracer/timers.js';

const DAY_MS = 86_400_000;

describe('timers of any length', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'setInterval'] }));
  afterEach(() => mock.timers.reset());

  // The mock clock runs a timer's callback at the end of the tick that
  // reached it: ticks stop where a link of the chain ends.
  it('after(): 30 days fires at 30 days, not after 1 ms', () => {
    let fired = 0;
    after(30 * DAY_MS, () => fired++);
    mock.timers.tick(1);
    assert.equal(fired, 0, 'not after 1 ms');
    mock.timers.tick(MAX_TIMER_MS - 1);
    assert.equal(fired, 0, 'not at the end of the first link of the chain');
    mock.timers.tick(30 * DAY_MS - MAX_TIMER_MS - 1);
    assert.equal(fired, 0, 'not 1 ms early');
    mock.timers.tick(1);
    assert.equal(fired, 1);
    mock.timers.tick(100 * DAY_MS);
    assert.equal(fired, 1, 'once');
  });

  it('after(): exactly the limit, far beyond it, and cancelled', () => {
    const fired: string[] = [];
    after(MAX_TIMER_MS, () => fired.push('limit'));
    after(3 * MAX_TIMER_MS + 7, () => fired.push('far'));
    const never = after(40 * DAY_MS, () => fired.push('cancelled'));
    mock.timers.tick(MAX_TIMER_MS);
    assert.deepEqual(fired, ['limit']);
    never.cancel();
    mock.timers.tick(MAX_TIMER_MS);
    mock.timers.tick(MAX_TIMER_MS);
    mock.timers.tick(6);
    assert.deepEqual(fired, ['limit']);
    mock.timers.tick(1);
    assert.deepEqual(fired, ['limit', 'far']);
    mock.timers.tick(100 * DAY_MS);
    assert.deepEqual(fired, ['limit', 'far']);
  });

  it('every(): 40-day periods, until cancelled', () => {
    const period = 40 * DAY_MS;
    let n = 0;
    const t = every(period, () => n++);
    for (let i = 1; i <= 3; i++) {
      mock.timers.tick(MAX_TIMER_MS);
      mock.timers.tick(period - MAX_TIMER_MS - 1);
      assert.equal(n, i - 1, `not before period ${i}`);
      mock.timers.tick(1);
      assert.equal(n, i, `at period ${i}`);
    }
    t.cancel();
    mock.timers.tick(MAX_TIMER_MS);
    mock.timers.tick(period);
    assert.equal(n, 3);
  });

  it('every(): short periods are plain intervals', () => {
    let n = 0;
    const t = every(500, () => n++);
    mock.timers.tick(2500);
    assert.equal(n, 5);
    t.cancel();
    mock.timers.tick(2500);
    assert.equal(n, 5);
  });
});
