// --pid and --port given several times: a connection is kept when its owner is
// any of the pids and its local or remote port any of the ports, filtered in
// the kernel (bpf/nettracer.bpf.c: pid_wanted, port_wanted), on either path.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { execa } from 'execa';
import { killAll, PATHS, ROOT, RUN, startGenerator, startTracer } from '../helpers/processes.js';
import { assertValidLine } from '../helpers/schemas.js';

after(killAll);

describe('filters with several values', () => {
  it('--pid A --pid B keeps A and B, not C; --port P --port R keeps the connections to P and R', async () => {
    const spec = { connections: [{ family: 4 as const, client_bytes: 100, server_bytes: 200 }], hold: 0.3 };
    const gens = [await startGenerator(spec), await startGenerator(spec), await startGenerator(spec)];
    const [a, b, c] = gens;
    const runs = Object.entries(PATHS).flatMap(([path, p]) => [
      { path, kind: 'pid', args: ['-f', ...p, '--pid', String(a.pid), '--pid', String(b.pid)] },
      { path, kind: 'port', args: ['-f', ...p, '--port', String(a.ports['4']), '--port', String(c.ports['4'])] },
    ]);
    const tracers = await Promise.all(runs.map((r) => startTracer(r.args)));
    await Promise.all(gens.map((g) => g.run()));
    await new Promise((r) => setTimeout(r, 300));
    const ours = new Set(gens.map((g) => g.pid));
    for (const [i, t] of tracers.entries()) {
      assert.equal(await t.stop(), 0);
      const pids = t.lines
        .map(assertValidLine)
        .filter((r) => r.type === 'close' && ours.has(r.pid as number))
        .map((r) => r.pid);
      const want = runs[i].kind === 'pid' ? [a.pid, b.pid] : [a.pid, c.pid];
      // Two ends (client and server) per generator, each closed once.
      assert.deepEqual(pids.sort(), [...want, ...want].sort(), `${runs[i].path} ${runs[i].kind}`);
    }
  });

  it(`more values than the kernel's filter holds: one line, exit 2`, async () => {
    const args = Array.from({ length: 9 }, (_, i) => ['--port', String(1000 + i)]).flat();
    const r = await execa(process.execPath, [RUN, 'trace', ...args], { cwd: ROOT, reject: false });
    assert.equal(r.exitCode, 2);
    assert.equal(String(r.stderr), 'nettracer: --port is given 9 times: at most 8 values are followed at once');
  });
});
