// memory: the tracer's RSS and its kernel maps' memory with many open
// loopback connections, then the burst of closing them all (bench/README.md).
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapMemory, type MapMemory, requireBpftool } from './lib/bpftool.js';
import { tmpFile } from './lib/cleanup.js';
import { hold, type Holder } from './lib/generators.js';
import { connectionMaps } from './lib/hooks.js';
import { RecordTail } from './lib/ndjson-tail.js';
import type { Options } from './lib/options.js';
import { bpfIds, hardNofile, memStatus } from './lib/proc.js';
import { fint, fx, note, table, verdict } from './lib/report.js';
import { startNettracer } from './lib/tracers.js';

interface Row {
  size: number;
  /** VmRSS in MiB: attached and idle, once every connect/accept record was written, after a metrics walk. */
  idle: number;
  open: number;
  walk: number;
  hwm: number;
  metrics: number;
}

export async function benchMemory(o: Options): Promise<void> {
  requireBpftool();
  const tableMaps = connectionMaps();
  // Each holder keeps both ends open: 2 fds per connection, and RLIMIT_NOFILE's
  // hard limit may not be raisable (no CAP_SYS_RESOURCE in containers).
  const perHolder = Math.max(100, Math.min(20000, Math.floor((hardNofile() - 100) / 2)));
  const rows: string[][] = [];
  const mapRows: string[][] = [];
  const memRows: Row[] = [];
  let at100k: Row | undefined;
  for (const size of o.sizes) {
    const holders = Math.ceil(size / perHolder);
    if (holders > 250) throw new Error(`${size} connections need ${holders} holders (RLIMIT_NOFILE too low)`);
    const out = tmpFile(`memory-${size}.ndjson`);
    const t = await startNettracer(out, ['--interval', String(o.interval)]);
    const held: Holder[] = [];
    try {
      await sleep(1000);
      const ids = bpfIds(t.pid);
      const idle = memStatus(t.pid);
      const mapsIdle = mapMemory(ids.maps);
      const ports = new Set<number>();
      const tail = new RecordTail(out, ports);
      const t0 = Date.now();
      let opened = 0;
      // Holders one after the other, each once the tracer has caught up, so
      // the numbers are about memory, not about ring-buffer loss.
      for (let h = 0; h < holders; h++) {
        const n = Math.ceil((size - opened) / (holders - h));
        const x = await hold(n, 1, 2 + h);
        held.push(x);
        for (const p of x.ports) ports.add(p);
        opened += n;
        await tail.settle(() => tail.counts.connect + tail.counts.accept >= 2 * opened, { stallMs: 2000 });
      }
      const seenS = (Date.now() - t0) / 1000;
      const seen = tail.counts.connect + tail.counts.accept;
      const open = memStatus(t.pid);
      const mapsOpen = mapMemory(ids.maps);
      // One metrics walk over all of them. A walk that began while the last
      // holder was still connecting reports only part of them: let any walk
      // in progress finish (the file stops growing) before counting.
      await tail.settle(() => false, { stallMs: 1500 });
      // Then the next walk: wait for its records, then for the file to stop
      // growing (a walk is written as one batch).
      const m0 = tail.counts.metrics;
      await tail.settle(() => tail.counts.metrics > m0, {
        stallMs: o.interval * 2000 + 30000,
        timeoutMs: o.interval * 2000 + 30000,
      });
      await tail.settle(() => false, { stallMs: 1500 });
      const walk = memStatus(t.pid);
      const metrics = tail.counts.metrics - m0;
      // Close them all at once: a burst of 2 close records per connection.
      for (const x of held) await x.close();
      held.length = 0;
      await tail.settle(() => tail.counts.close >= 2 * size, { stallMs: 2000 });
      await t.stop();
      tail.poll();
      const conns = (m: MapMemory[]): number =>
        m.filter((x) => tableMaps.includes(x.name)).reduce((a, x) => a + x.bytes, 0);
      const total = (m: MapMemory[]): number => m.reduce((a, x) => a + x.bytes, 0);
      const row: Row = { size, idle: idle.rssMiB, open: open.rssMiB, walk: walk.rssMiB, hwm: walk.hwmMiB, metrics };
      memRows.push(row);
      if (size === 100000) at100k = row;
      rows.push([
        fint(size),
        String(holders),
        fx(row.idle, 1),
        fx(row.open, 1),
        fx(row.walk, 1),
        fx(row.hwm, 1),
        `${fint(seen)}/${fint(2 * size)}`,
        fx(seenS, 1),
        `${fint(metrics)}/${fint(2 * size)}`,
        `${fint(tail.counts.close)}/${fint(2 * size)}`,
        fint(tail.lost),
      ]);
      mapRows.push([
        fint(size),
        fx(total(mapsIdle) / 1048576, 2),
        fx(total(mapsOpen) / 1048576, 2),
        fx(conns(mapsOpen) / 1048576, 2),
        fx((conns(mapsOpen) - conns(mapsIdle)) / (2 * size), 0),
        mapsOpen.map((m) => `${m.name}=${fx(m.bytes / 1024, 0)}K`).join(' '),
      ]);
    } finally {
      for (const x of held) x.p.kill('SIGKILL');
      t.kill();
      rmSync(out, { force: true });
    }
  }
  console.log('tracer RSS (MiB) with N open loopback connections (both ends tracked: 2N sockets):');
  table(
    [
      'N',
      'holders',
      'idle',
      'all seen',
      'after walk',
      'VmHWM',
      'conn+acc seen',
      'seen in s',
      'metrics',
      'closes',
      'lost',
    ],
    rows,
  );
  console.log(`  (idle: attached, nothing open; all seen: once every connect/accept record was written;`);
  console.log(`   after walk: after a metrics walk (--interval ${o.interval}) over all of them; VmHWM: peak so far;`);
  console.log('   closes/lost: closing them all at once, a burst of 2N close records)');
  console.log('kernel map memory (bytes_memlock, MiB):');
  table(['N', 'idle', 'open', 'table maps', 'B/entry', 'per map (open)'], mapRows);
  for (const r of memRows) {
    if (r.metrics < 2 * r.size)
      note(
        `N=${fint(r.size)}: the metrics walk reported ${fint(r.metrics)} of ${fint(2 * r.size)} open connection ends (${fint(2 * r.size - r.metrics)} missing)`,
      );
  }
  const name = 'memory tracer RSS <= 100 MB at 100k connections';
  if (at100k)
    verdict(
      name,
      at100k.hwm <= 100,
      `VmHWM ${fx(at100k.hwm, 1)} MiB, VmRSS ${fx(at100k.open, 1)} all seen / ${fx(at100k.walk, 1)} after walk`,
    );
  else verdict(name, undefined, '100000 not among --sizes');
}
