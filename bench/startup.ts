// startup: how long nettracer takes to trace and to stop, and --help's wall
// time next to Node's own empty start (bench/README.md).
import { basename } from 'node:path';
import { launch, RUN } from '../test/helpers/launch.js';
import { type Exit, run, waitExit } from './lib/exec.js';
import { fx, table, verdict } from './lib/report.js';
import { median } from './lib/stats.js';

const msSince = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

export async function benchStartup(): Promise<void> {
  const RUNS = 5;
  const attach: number[] = [];
  const self: number[] = [];
  const stops: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const t = await launch([], { stdout: 'ignore' });
    attach.push(msSince(t0));
    self.push(t.ready.attach_ms);
    const exited = t.proc.then((r): Exit => ({ code: r.exitCode ?? null, signal: r.signal ?? null }));
    try {
      const s0 = process.hrtime.bigint();
      t.proc.kill('SIGINT');
      const r = await waitExit({ exited, kill: (s) => void t.proc.kill(s) }, 30_000);
      if (r.killed || r.code !== 0) throw new Error(`nettracer did not stop cleanly (${r.code ?? r.signal})`);
      stops.push(msSince(s0));
    } finally {
      if (t.proc.exitCode === null && t.proc.signalCode === null) t.proc.kill('SIGKILL');
    }
  }
  // Alternating with Node's own empty start: the floor no CLI can go under
  // (here it includes loading NODE_EXTRA_CA_CERTS when the environment sets it).
  const wallMs = async (cmd: string, args: string[]): Promise<number> => {
    const t0 = process.hrtime.bigint();
    const r = await run(cmd, args, { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`${basename(cmd)} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return msSince(t0);
  };
  const help: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    help.push(await wallMs(RUN, ['--help']));
    bare.push(await wallMs(process.execPath, ['-e', '0']));
  }
  const f = (xs: number[]): string => xs.map((x) => fx(x, 0)).join(' ');
  table(
    ['measure (ms)', 'median', 'runs'],
    [
      ['spawn -> ready line', fx(median(attach), 0), f(attach)],
      ['  of which self-reported', fx(median(self), 0), f(self)],
      ['SIGINT -> exit', fx(median(stops), 0), f(stops)],
      ['--help wall time', fx(median(help), 0), f(help)],
      ['  node -e 0 (the floor)', fx(median(bare), 0), f(bare)],
    ],
  );
  console.log(
    '  (trace: node bin/run.cjs trace --ready-fd 3, until its ready line; "self-reported": the attach_ms of that line;',
  );
  console.log('   --help: ./bin/run.cjs spawned directly, as a user runs it)');
  verdict('startup --help < 300 ms', median(help) < 300, `median ${fx(median(help), 0)} ms`);
  verdict('startup attached < 1 s', median(attach) < 1000, `median ${fx(median(attach), 0)} ms from spawn`);
}
