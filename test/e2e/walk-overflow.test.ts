// The table walk reads the connections that did not fit their bucket of the
// array part (the hash part, conns) through an index of their keys, or over
// the hash map itself once a key found no place in the index
// (bpf/nettracer.bpf.c, ovf_keys). A small --map-size makes buckets few, so
// that many overflow into the index; 36,000 ends overflow the array part
// (32,768 places) by more than the index holds (4,096), so walks go over the
// hash map. Either way every end is read by every walk.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { launch } from '../helpers/launch.js';
import { ROOT } from '../helpers/processes.js';
import { assertValidLine } from '../helpers/schemas.js';

describe('the table walk and the connections that overflow their bucket', () => {
  // [--map-size, processes, pairs each]: idle-pairs holds at most ~9,900 pairs (the descriptor limit).
  for (const [mapSize, procs, pairs] of [
    [256, 1, 100],
    [2048, 1, 800],
    [262_144, 2, 9000],
  ] as const) {
    const ends = 2 * procs * pairs;
    it(`--map-size ${mapSize}, ${ends} ends open: each one read by every walk`, async () => {
      const idle = Array.from({ length: procs }, () =>
        execa('python3', [join(ROOT, 'test', 'helpers', 'idle-pairs.py'), String(pairs)], {
          stdin: 'pipe',
          buffer: false,
          reject: false,
        }),
      );
      try {
        const ports = await Promise.all(
          idle.map(async (p) => {
            const first = await createInterface({ input: p.stdout })[Symbol.asyncIterator]().next();
            return (JSON.parse(first.value as string) as { port: number }).port;
          }),
        );
        const {
          proc: p,
          lines,
          drained,
        } = await launch([
          '-f',
          ...ports.flatMap((port) => ['--port', String(port)]),
          '--map-size',
          String(mapSize),
          '-t',
          '0.5',
        ]);
        await new Promise((r) => setTimeout(r, 3000));
        p.kill('SIGINT');
        await p;
        await drained;
        const recs = lines.map(assertValidLine);
        const untracked = recs.filter((r) => r.type === 'lost').reduce((a, r) => a + (r.connections_untracked ?? 0), 0);
        assert.equal(untracked, 0, 'all fit the table');
        const mine = recs.filter((r) => ports.some((port) => r.sport === port || r.dport === port));
        const found = new Set(mine.filter((r) => r.type === 'existing').map((r) => r.id));
        assert.equal(found.size, ends, 'every end found open');
        // Each walk reads each end once (a walk's pages have times of their own: counted per end).
        const counts = new Map<number, number>();
        for (const r of mine) if (r.type === 'metrics') counts.set(r.id!, (counts.get(r.id!) ?? 0) + 1);
        const per = [...found].map((id) => counts.get(id!) ?? 0);
        const least = Math.min(...per);
        const most = Math.max(...per);
        assert.ok(least >= 3 && most - least <= 1, `metrics per end from ${least} to ${most}`);
      } finally {
        for (const p of idle) p.stdin.end();
        await Promise.all(idle);
      }
    });
  }
});
