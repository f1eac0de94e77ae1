// Incoming connections get their owner without a hook on any system call:
// the accepting process is known when it first sends, receives or closes, or
// when a metrics walk finds the connection among its open files. Checked with
// connections that move no byte at all, so no send or receive can tell.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import {
  killAll,
  PATHS,
  type PathName,
  startGenerator,
  startTracer,
  type GeneratedConnection,
} from '../helpers/processes.js';
import { type AnyRecord, assertValidLine } from '../helpers/schemas.js';

after(killAll);

type Rec = AnyRecord;

async function trace(
  intervalS: number,
  hold: number,
  path: PathName,
): Promise<{ pid: number; conn: GeneratedConnection; recs: Rec[] }> {
  const tracer = await startTracer(['-f', '-t', String(intervalS), ...PATHS[path]]);
  const gen = await startGenerator({ connections: [{ family: 4, client_bytes: 0, server_bytes: 0 }], hold });
  const [conn] = await gen.run();
  await sleep(300); // the close records reach the tracer
  assert.equal(await tracer.stop(), 0);
  const server = (r: Rec) =>
    r.saddr === conn.server.addr &&
    r.sport === conn.server.port &&
    r.daddr === conn.client.addr &&
    r.dport === conn.client.port;
  return { pid: gen.pid, conn, recs: tracer.lines.map((l) => assertValidLine(l)).filter(server) };
}

for (const path of Object.keys(PATHS) as PathName[]) {
  describe(`the owner of an accepted connection (${path} path)`, () => {
    it('is found by the next metrics walk while the process holds it idle', async () => {
      const { pid, recs } = await trace(1, 2.5, path);
      const accepts = recs.filter((r) => r.type === 'accept');
      assert.equal(accepts.length, 1, JSON.stringify(recs));
      const [accept] = accepts;
      const close = recs.find((r) => r.type === 'close')!;
      assert.equal(accept.pid, pid);
      assert.equal(accept.comm, 'python3');
      assert.equal(close.pid, pid);
      const metrics = recs.filter((r) => r.type === 'metrics');
      assert.ok(
        metrics.length >= 1 && recs.indexOf(accept) < recs.indexOf(metrics[0]),
        'the accept record precedes its metrics',
      );
      // Long before the close: the walk found it, not the close.
      assert.ok(
        Date.parse(close.timestamp!) - Date.parse(accept.timestamp!) >= 1000,
        `${accept.timestamp} vs ${close.timestamp}`,
      );
    });

    it('is the process that closes a connection it never used', async () => {
      const { pid, recs } = await trace(600, 0, path); // no walk before the close
      assert.deepEqual(
        recs.map((r) => r.type),
        ['accept', 'close'],
      );
      assert.ok(
        recs.every((r) => r.pid === pid && r.comm === 'python3'),
        JSON.stringify(recs),
      );
    });
  });
}
