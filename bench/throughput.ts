// throughput: one iperf3 stream under nettracer against untraced runs, over
// loopback and over a veth pair between two network namespaces (bench/README.md).
import { rmSync } from 'node:fs';
import { tmpFile } from './lib/cleanup.js';
import { which } from './lib/exec.js';
import { iperf, setupNetns, startIperfServer, type IperfServer } from './lib/net.js';
import type { Options } from './lib/options.js';
import { cpuSeconds } from './lib/proc.js';
import { fx, medianWithInterval, table, verdict } from './lib/report.js';
import { median, sandwich } from './lib/stats.js';
import { startNettracer } from './lib/tracers.js';

/** Where the client runs (prefix: ip netns exec NS, or none) and the server it reaches. */
interface PathEnv {
  prefix: string[];
  serverPrefix: string[];
  host: string;
  release: () => void;
}

interface Row {
  untraced: number;
  nettracer: number;
  ratio: number;
  cpu: number;
}

export async function benchThroughput(o: Options): Promise<void> {
  if (!which('iperf3')) {
    verdict('throughput', undefined, 'iperf3 not installed (apt-get install iperf3)');
    return;
  }
  const secs = o.iperfSeconds;
  const results: { path: string; rows: Row[] }[] = [];
  const paths: { name: string; setup: () => PathEnv }[] = [
    { name: 'loopback', setup: () => ({ prefix: [], serverPrefix: [], host: '127.0.0.1', release: () => {} }) },
    {
      name: 'veth (netns)',
      setup: () => {
        const ns = setupNetns();
        return {
          prefix: ['ip', 'netns', 'exec', ns.nsB],
          serverPrefix: ['ip', 'netns', 'exec', ns.nsA],
          host: ns.server,
          release: ns.release,
        };
      },
    },
  ];
  for (const p of paths) {
    const env = p.setup();
    let server: IperfServer | undefined;
    try {
      server = await startIperfServer(env.serverPrefix);
      const { port } = server;
      const s = await sandwich(
        o.tputRounds,
        ['nettracer'],
        () => iperf(env.prefix, env.host, port, secs),
        async (_, r) => {
          const out = tmpFile(`tput-${r}.ndjson`);
          const t = await startNettracer(out);
          try {
            const cpu0 = cpuSeconds(t.pid);
            const gbps = await iperf(env.prefix, env.host, port, secs);
            const cpu = cpuSeconds(t.pid) - cpu0;
            await t.stop();
            return { gbps, cpu };
          } finally {
            t.kill();
            rmSync(out, { force: true });
          }
        },
        (x) => x,
      );
      const rows = s.res.nettracer.map((x, i) => ({
        untraced: s.base.nettracer[i],
        nettracer: x.gbps,
        ratio: x.gbps / s.base.nettracer[i],
        cpu: x.cpu,
      }));
      results.push({ path: p.name, rows });
    } finally {
      await server?.stop();
      env.release();
    }
  }
  const out: string[][] = [];
  for (const { path: name, rows } of results) {
    rows.forEach((r, i) =>
      out.push([`${name} #${i + 1}`, fx(r.untraced), fx(r.nettracer), fx(r.ratio, 3), fx(r.cpu, 2)]),
    );
    out.push([
      `${name} median`,
      fx(median(rows.map((r) => r.untraced))),
      fx(median(rows.map((r) => r.nettracer))),
      fx(median(rows.map((r) => r.ratio)), 3),
      '',
    ]);
  }
  table(['path', 'untraced Gbit/s', 'nettracer Gbit/s', 'ratio', 'nt CPU s'], out);
  console.log(
    `  (iperf3 -t ${secs}, one stream, received rate; untraced: mean of the untraced runs just before and after`,
  );
  console.log('   the traced one, which the ratio compares it with)');
  for (const { path: name, rows } of results) {
    const ratios = rows.map((r) => r.ratio);
    verdict(
      `throughput ${name} under nettracer >= 0.97 x untraced`,
      median(ratios) >= 0.97,
      medianWithInterval(ratios, 0.97),
    );
  }
}
