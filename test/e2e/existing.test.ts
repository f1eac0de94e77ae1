// Connections open before the tracer starts are found (task_file iterator),
// reported once as "existing" with their owner, then followed like any other.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { killAll, startGenerator, startTracer } from '../helpers/processes.js';
import { assertValidLine } from '../helpers/schemas.js';

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
    const t = await startTracer(['-f', '-t', '0.5', '--pid', String(gen.pid)]);
    const truth = await gen.run();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await t.stop(), 0);
    const recs = t.lines.map(assertValidLine);
    assert.equal(
      recs.filter((r) => r.type === 'connect' || r.type === 'accept').length,
      0,
      'nothing mistaken for a new connection',
    );
    for (const c of truth) {
      for (const [local, remote, direction, sent, received, info] of [
        [c.client, c.server, 'outgoing', c.client_sent, c.client_received, c.client_tcp_info],
        [c.server, c.client, 'incoming', c.server_sent, c.server_received, c.server_tcp_info],
      ] as const) {
        const mine = recs.filter(
          (r) => r.saddr === local.addr && r.sport === local.port && r.daddr === remote.addr && r.dport === remote.port,
        );
        const existing = mine.filter((r) => r.type === 'existing');
        assert.equal(existing.length, 1, `${direction} end found once`);
        const e = existing[0];
        assert.equal(e.pid, gen.pid);
        assert.equal(e.comm, 'python3');
        assert.equal(e.direction, direction);
        assert.equal(e.family, `ipv${c.family}`);
        assert.equal(e.bytes_sent, sent, 'bytes before the start, from TCP counters');
        assert.equal(e.bytes_received, received);
        assert.ok(e.packets_sent! > 0 && e.packets_sent! <= info.segs_out);
        const close = mine.find((r) => r.type === 'close')!;
        assert.ok(close, 'its close is reported');
        assert.equal(close.id, e.id);
        assert.equal(close.direction, direction, 'direction carried to later records');
        assert.equal(close.bytes_sent, sent);
        assert.equal(close.bytes_received, received);
        assert.ok(close.packets_sent! >= info.segs_out && close.packets_sent! <= info.segs_out + 2);
        assert.equal(close.packets_retransmitted, info.total_retrans);
        assert.ok(mine.filter((r) => r.type === 'metrics').length >= 2, 'metrics while open');
      }
    }
  });
});
