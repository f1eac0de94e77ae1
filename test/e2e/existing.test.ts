// Connections open before the tracer starts are found (task_file iterator),
// reported once as "existing" with their owner, then followed like any
// other; on both paths (the send and receive hooks, and TCP's counters alone).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type GeneratedConnection, killAll, startGenerator, startTracer } from '../helpers/processes.js';
import { type AnyRecord, assertValidLine } from '../helpers/schemas.js';

after(killAll);

describe('connections older than the tracer', () => {
  it('are reported as existing with PID, netns, direction and counters; their metrics and close follow', async () => {
    const spec = {
      connections: [
        { family: 4 as const, client_bytes: 1234, server_bytes: 56 },
        { family: 6 as const, client_bytes: 7, server_bytes: 89_000 },
      ],
      hold: 2,
      preopen: true,
    };
    const gen = await startGenerator(spec);
    const paths = { calls: [] as string[], counters: ['-b', 'counters'] };
    const tracers = await Promise.all(
      Object.values(paths).map((extra) => startTracer(['-f', '-t', '0.5', '--pid', String(gen.pid), ...extra])),
    );
    const truth = await gen.run();
    await new Promise((r) => setTimeout(r, 300));
    for (const t of tracers) assert.equal(await t.stop(), 0);
    Object.keys(paths).forEach((path, i) => check(path, tracers[i].lines.map(assertValidLine), truth, gen.pid));
  });
});

function check(path: string, recs: AnyRecord[], truth: GeneratedConnection[], pid: number): void {
  assert.equal(
    recs.filter((r) => r.type === 'connect' || r.type === 'accept').length,
    0,
    `${path}: nothing mistaken for a new connection`,
  );
  for (const c of truth) {
    for (const [local, remote, direction, sent, received, info] of [
      [c.client, c.server, 'outgoing', c.client_sent, c.client_received, c.client_tcp_info],
      [c.server, c.client, 'incoming', c.server_sent, c.server_received, c.server_tcp_info],
    ] as const) {
      const what = `${path}, IPv${c.family} ${direction}`;
      const mine = recs.filter(
        (r) => r.saddr === local.addr && r.sport === local.port && r.daddr === remote.addr && r.dport === remote.port,
      );
      const existing = mine.filter((r) => r.type === 'existing');
      assert.equal(existing.length, 1, `${what}: end found once`);
      const e = existing[0];
      assert.equal(e.pid, pid, what);
      assert.equal(e.comm, 'python3', what);
      assert.equal(e.direction, direction, what);
      assert.equal(e.family, `ipv${c.family}`, what);
      assert.equal(e.bytes_sent, sent, `${what}: bytes before the start, from TCP counters`);
      assert.equal(e.bytes_received, received, what);
      assert.ok(e.packets_sent! > 0 && e.packets_sent! <= info.segs_out, what);
      const close = mine.find((r) => r.type === 'close')!;
      assert.ok(close, `${what}: its close is reported`);
      assert.equal(close.id, e.id, what);
      assert.equal(close.direction, direction, `${what}: direction carried to later records`);
      assert.equal(close.bytes_sent, sent, `${what}: bytes_sent at close`);
      assert.equal(close.bytes_received, received, `${what}: bytes_received at close`);
      assert.ok(close.packets_sent! >= info.segs_out && close.packets_sent! <= info.segs_out + 2, what);
      assert.equal(close.packets_retransmitted, info.total_retrans, what);
      assert.ok(mine.filter((r) => r.type === 'metrics').length >= 2, `${what}: metrics while open`);
    }
  }
}
