// The connection table is shared with every user of the host: an ordinary
// user makes their own user and network namespaces (unshare -rn, no
// privilege needed) and holds idle connections in them. With --table-share
// they get their share and no more; root's connections are still followed,
// and stats say who was refused what.
import assert from 'node:assert/strict';
import { execa, type ResultPromise } from 'execa';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { killAll, ROOT, startGenerator, startTracer } from '../helpers/processes.js';
import { assertValidLine } from '../helpers/schemas.js';

after(killAll);

const PAIRS = join(ROOT, 'test', 'helpers', 'idle-pairs.py');
const NOBODY = 65534;

/** COUNT idle loopback pairs held by nobody in a user and network namespace of its own. */
async function hostileHolder(count: number): Promise<{ proc: ResultPromise; pid: number; netns: number }> {
  const proc = execa(
    'setpriv',
    [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      '--clear-groups',
      'unshare',
      '-rn',
      'sh',
      '-c',
      `ip link set lo up && exec python3 ${PAIRS} ${count}`,
    ],
    // The system's python: nobody may not reach one under root's home.
    { stdin: 'pipe', buffer: false, reject: false, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, extendEnv: false },
  );
  const rl = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const line = (await rl.next()).value as string | undefined;
  if (!line) throw new Error(`holder did not start: ${String((await proc).stderr)}`);
  const { pid } = JSON.parse(line) as { pid: number };
  return { proc, pid, netns: statSync(`/proc/${pid}/ns/net`).ino };
}

/** Root's own traffic in the host's namespace while the holders hold: followed or not. */
async function rootTraffic(share: string) {
  const t = await startTracer(['-f', '--map-size', '64', '--table-share', share, '--stats-interval', '0']);
  const a = await hostileHolder(40); // 80 connection ends, more than the whole table
  const b = await hostileHolder(10); // the same user, another namespace
  try {
    const gen = await startGenerator({
      connections: [
        { family: 4, client_bytes: 1000, server_bytes: 2000 },
        { family: 6, client_bytes: 3000, server_bytes: 4000 },
      ],
      hold: 0.2,
    });
    const truth = await gen.run();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await t.stop(), 0);
    const recs = t.lines.map(assertValidLine);
    const closes = recs.filter((r) => r.type === 'close' && r.pid === gen.pid);
    const stats = recs.filter((r) => r.type === 'stats').pop()!;
    return { closes, stats, truth, a, b };
  } finally {
    for (const h of [a, b]) h.proc.stdin!.end();
    await Promise.all([a.proc, b.proc]);
  }
}

describe('the connection table, shared with every user', () => {
  it('without shares, one user in namespaces of their own fills it: root is blind (the attack)', async () => {
    const { closes, stats } = await rootTraffic('100');
    assert.equal(closes.length, 0, "root's connections went unseen");
    assert.ok(stats.connections_untracked! > 0);
    assert.equal(stats.untracked_by_user, undefined);
  });

  it('with --table-share 25: that user holds a quarter, root is followed exactly, stats name who was refused', async () => {
    const { closes, stats, truth, a } = await rootTraffic('25');
    assert.equal(closes.length, 4, "root's four connection ends were followed");
    for (const cl of closes) {
      const client = cl.direction === 'outgoing';
      const c = truth.find((x) => x.client.port === (client ? cl.sport : cl.dport))!;
      assert.equal(cl.bytes_sent, client ? c.client_sent : c.server_sent);
      assert.equal(cl.bytes_received, client ? c.client_received : c.server_received);
    }
    // 64 places, 16 to a share: the first namespace's 80 ends get 16 (the rest refused
    // there); the second namespace's 20 find the user's share full.
    assert.deepEqual(stats.untracked_by_netns, [{ netns: a.netns, connections_held: 16, connections_untracked: 64 }]);
    assert.deepEqual(stats.untracked_by_user, [{ uid: NOBODY, connections_held: 16, connections_untracked: 20 }]);
    assert.equal(stats.connections_untracked, 84, 'every refusal is in the total too');
  });

  it('--table-share outside 1..100 is a usage error', async () => {
    const r = await execa(process.execPath, [join(ROOT, 'bin', 'run.cjs'), 'trace', '--table-share', '0'], {
      reject: false,
    });
    assert.equal(r.exitCode, 2);
    assert.match(String(r.stderr), /--table-share must be between 1 and 100/);
  });
});
