// The original's formats against real traffic, checked against the NDJSON
// stream of the same connections; and a config file re-read while tracing.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { legacyAddress } from '../../src/output/legacy.js';
import {
  killAll,
  startGenerator,
  startTracer,
  type GeneratedConnection,
  type TracerProcess,
} from '../helpers/processes.js';
import { type AnyRecord, assertValidLine } from '../helpers/schemas.js';

const tmp = mkdtempSync(join(tmpdir(), 'nettracer-fmt-'));
after(() => {
  killAll();
  rmSync(tmp, { recursive: true, force: true });
});

type Rec = AnyRecord;
let truth: GeneratedConnection[];
let t: Record<'ndjson' | 'legacy' | 'log' | 'table', TracerProcess>;
let ndjson: Rec[];
const logFile = join(tmp, 'side.log');

before(async () => {
  const gen = await startGenerator({
    connections: [
      { family: 4, client_bytes: 5000, server_bytes: 600 },
      { family: 6, client_bytes: 70, server_bytes: 8000 },
    ],
    hold: 1.6,
  });
  const common = ['-f', '-t', '0.5', '--pid', String(gen.pid)];
  const [a, b, c, d] = await Promise.all([
    startTracer([...common, '--format', 'ndjson', '-l', logFile]),
    startTracer([...common, '--format', 'legacy']),
    startTracer([...common, '--format', 'log']),
    startTracer([...common, '--format', 'table']),
  ]);
  t = { ndjson: a, legacy: b, log: c, table: d };
  truth = await gen.run();
  await new Promise((r) => setTimeout(r, 800)); // one more cycle: closed connections are printed once more
  for (const p of Object.values(t)) assert.equal(await p.stop(), 0);
  ndjson = t.ndjson.lines.map(assertValidLine).filter((r) => 'saddr' in r);
});

/** Legacy address text back to the address (the inverse of the documented layout). */
function fromLegacy(hex: string): string {
  const bytes = hex.match(/../g)!.map((h) => parseInt(h, 16));
  if (bytes.length === 4) return bytes.reverse().join('.');
  const v6 = [...bytes.slice(0, 8).reverse(), ...bytes.slice(8).reverse()];
  const groups = Array.from({ length: 8 }, (_, i) => ((v6[2 * i] << 8) | v6[2 * i + 1]).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

describe('legacy format', () => {
  it('every line has the documented layout, and closed lines parse back to the NDJSON close records', () => {
    const lines = t.legacy.lines;
    assert.ok(lines.includes(' '), 'cycles end with a line holding one space');
    const rows = lines.filter((l) => l !== ' ');
    assert.ok(rows.length >= 8);
    for (const l of rows) {
      assert.match(
        l,
        /^ *\d{1,12} [01] ([0-9A-F]{8}|[0-9A-F]{32}) [0-9A-F]{4} [01] ([0-9A-F]{8}|[0-9A-F]{32}) [0-9A-F]{4} +\d+ +\d+ [01]{3} +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +\d+$/,
      );
      assert.equal(l.length, / 0 [0-9A-F]{8} [0-9A-F]{4} 0 /.test(l) ? 233 : 281, l);
    }
    const closed = rows.map((l) => l.trim().split(/\s+/)).filter((f) => f[9].endsWith('1'));
    assert.equal(closed.length, 4, 'each end shown closed exactly once');
    for (const f of closed) {
      const [, fam, sa, sp, , da, dp, pid, netns, state, bs, br, ps, pr, retr, rtt, rttvar] = f;
      const rec = ndjson.find(
        (r) =>
          r.type === 'close' &&
          r.saddr === fromLegacy(sa) &&
          r.sport === parseInt(sp, 16) &&
          r.daddr === fromLegacy(da) &&
          r.dport === parseInt(dp, 16),
      );
      assert.ok(rec, `a close record for ${f.slice(0, 7).join(' ')}`);
      assert.equal(fam, rec.family === 'ipv4' ? '0' : '1');
      assert.equal(sa, legacyAddress(rec.saddr!, rec.family!));
      assert.deepEqual([pid, netns, state, bs, br, ps, pr, retr, rtt, rttvar].map(Number), [
        rec.pid,
        rec.netns,
        Number(`1${rec.direction === 'incoming' ? 1 : 0}1`),
        rec.bytes_sent,
        rec.bytes_received,
        rec.packets_sent,
        rec.packets_received,
        rec.packets_retransmitted,
        rec.rtt_us,
        rec.rtt_var_us,
      ]);
    }
    const sent = closed.map((f) => Number(f[10])).sort((a, b) => a - b);
    assert.deepEqual(
      sent,
      truth.flatMap((c) => [c.client_sent, c.server_sent]).sort((a, b) => a - b),
      "the generator's bytes",
    );
  });
});

/** nettracer.cpp's start-up and shutdown lines. */
const STARTUP =
  'Starting NetTracer v\\S+|time_interval: [\\d.]+|map_size: \\d+|BPF program loaded|Starting TCP IPv[46] events|Starting BPF debug counters logger \\(interval=\\d+s, cpus=\\d+\\)|Events stopped|NetTracer stop reason 0';

describe('log format', () => {
  const prefix = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} \\[\\d+\\] info \\[nettracer\\] ';
  const ep = '[0-9a-f.:]+:\\d+';
  it("event and stats lines match the documented patterns and carry the generator's numbers", () => {
    const lines = t.log.lines;
    for (const l of lines) {
      assert.match(
        l,
        new RegExp(
          `^${prefix}(event (connect ${ep} -> ${ep}|accept ${ep} <- ${ep}|close ${ep} -- ${ep}) NS:\\d+ PID:\\d+|${ep} (->|<-|--) ${ep} NS:\\d+ - (stats: Bytes sent=\\d+ Bytes received=\\d+|TCP stats: Retransmissions=\\d+ Segs_in=\\d+ Segs_out=\\d+ RTT=\\d+ RTT_var=\\d+)|\\[bpf_debug_counters\\] delta: {6}.*|${STARTUP})$`,
        ),
        l,
      );
    }
    // nettracer.cpp: the start-up lines first, the shutdown lines last.
    const msg = (l: string) => l.replace(new RegExp(`^${prefix}`), '');
    assert.deepEqual(lines.slice(0, 5).map(msg), [
      'Starting NetTracer v0.1.0',
      'time_interval: 0.5',
      'map_size: 262144',
      'BPF program loaded',
      'Starting TCP IPv4 events',
    ]);
    assert.deepEqual(lines.slice(-2).map(msg), ['Events stopped', 'NetTracer stop reason 0']);
    // Per interval all stats lines, then all TCP stats lines, IPv4 before IPv6
    // (connections_printing.cpp): within a run of stats lines, no TCP stats line comes between.
    // One interval's lines share its time.
    const v4 = (l: string) => /^\d+\.\d+\.\d+\.\d+:/.test(msg(l));
    const kind = (l: string) =>
      / - stats: /.test(l) ? (v4(l) ? 0 : 2) : / - TCP stats: /.test(l) ? (v4(l) ? 1 : 3) : undefined;
    for (let i = 1; i < lines.length; i++) {
      const [a, b] = [kind(lines[i - 1]), kind(lines[i])];
      if (a === undefined || b === undefined || lines[i].slice(0, 23) !== lines[i - 1].slice(0, 23)) continue;
      assert.ok(b >= a, `interval order at line ${i}: ${lines[i - 1]} then ${lines[i]}`);
    }
    // A closed connection's final stats come after its close event (at the next interval).
    for (const c of truth) {
      const close = lines.findIndex((l) => l.includes(`event close `) && l.includes(`:${c.client.port} -- `));
      const last = lines.reduce(
        (at, l, i) => (l.includes(`:${c.client.port} -> `) && l.includes(' - stats: ') ? i : at),
        -1,
      );
      assert.ok(close >= 0 && last > close, 'final stats after the close event');
    }
    assert.equal(lines.filter((l) => / event connect /.test(l)).length, 2);
    assert.equal(lines.filter((l) => / event accept /.test(l)).length, 2);
    assert.equal(lines.filter((l) => / event close /.test(l)).length, 4);
    for (const c of truth) {
      const stat = lines.filter((l) => l.includes(`:${c.client.port} -> `) && l.includes(' - stats: ')).pop()!;
      assert.match(stat, new RegExp(`Bytes sent=${c.client_sent} Bytes received=${c.client_received}$`));
    }
  });

  it('-l writes the log format to a file while NDJSON goes to stdout', () => {
    const side = readFileSync(logFile, 'utf8').trim().split('\n');
    assert.equal(side.filter((l) => / event close /.test(l)).length, 4);
    assert.ok(t.ndjson.lines.every((l) => l.startsWith('{')));
  });
});

describe('table format', () => {
  it("the original's: header once, a row per session with its pid and bytes, and the session counts", () => {
    const lines = t.table.lines;
    assert.equal(lines.filter((l) => l.startsWith('local address')).length, 1, 'the header once');
    assert.match(lines[0], /^local address {9}remote address {8}pid {19}bytes sent {12}bytes received {8}rtt {19}$/);
    assert.ok(lines.includes('Number of passive tcp sessions: 2, active: 2, established: 4 '));
    for (const c of truth) {
      const row = lines.find((l) => l.startsWith(`${c.client.addr}:${c.client.port} `));
      assert.ok(row, `a row for the client on port ${c.client.port}`);
      const pid = ndjson.find((r) => r.sport === c.client.port)?.pid;
      assert.match(
        row,
        new RegExp(`-> ${c.server.addr}:${c.server.port} +${pid} +${c.client_sent} +${c.client_received} +\\d+ *$`),
      );
    }
  });
});

describe('--config', () => {
  it('a change takes effect while tracing, without losing tracked connections', async () => {
    const config = join(tmp, 'nettracer.conf');
    writeFileSync(config, '# slow at first\ntime_interval=30\nwith_loopback=\n');
    const gen = await startGenerator({ connections: [{ family: 4, client_bytes: 1234, server_bytes: 56 }], hold: 3 });
    const tr = await startTracer(['--config', config, '--pid', String(gen.pid)]);
    const done = gen.run();
    await new Promise((r) => setTimeout(r, 800));
    const before = tr.lines.length;
    writeFileSync(config, 'interval=0.4\nwith-loopback=true\nincremental=1\n');
    await done;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await tr.stop(), 0);
    assert.match(tr.stderr(), /nettracer\.conf re-read and applied/);
    const recs = tr.lines.map(assertValidLine).filter((r) => 'saddr' in r);
    const metrics = recs.filter((r) => r.type === 'metrics');
    assert.ok(before <= 2 && metrics.length >= 3, `no metrics at 30 s, then every 0.4 s: ${metrics.length}`);
    assert.ok(
      metrics.every((m) => m.incremental === true),
      'incremental from the file',
    );
    const closes = recs.filter((r) => r.type === 'close');
    assert.equal(closes.length, 2, 'connections tracked before the change are still followed');
    assert.deepEqual(
      closes.map((c) => c.bytes_sent!).sort((a, b) => a - b),
      [56, 1234],
    );
  });

  it('a bad file: one clear line naming the file and line, exit 2', async () => {
    const { execa } = await import('execa');
    const { RUN, ROOT } = await import('../helpers/processes.js');
    const bad = join(tmp, 'bad.conf');
    writeFileSync(bad, 'interval=5\nbogus=1\n');
    const r = await execa(process.execPath, [RUN, 'trace', '--config', bad], { reject: false, cwd: ROOT });
    assert.equal(r.exitCode, 2);
    assert.equal(String(r.stderr).trim(), `nettracer: ${bad}:2: not an option of nettracer trace`);
  });
});

describe('table format on a terminal', () => {
  it('drawn at start and on Enter, not at exit (as the original); the header once', async () => {
    const { execa } = await import('execa');
    const { RUN, ROOT } = await import('../helpers/processes.js');
    // script(1) gives the tracer a pseudo-terminal; an Enter is typed after it attached.
    const run = (keys: boolean) =>
      execa(
        'bash',
        [
          '-c',
          `(sleep 1.5; ${keys ? "printf '\\n';" : ''} sleep 3) | script -qc "${process.execPath} ${RUN} trace --format table -f -t 30 --duration 3" /dev/null`,
        ],
        { cwd: ROOT, reject: false },
      );
    const [withEnter, without] = await Promise.all([run(true), run(false)]);
    const draws = (s: unknown) => (String(s).match(/Number of passive tcp sessions/g) ?? []).length;
    assert.equal(draws(without.stdout), 1, 'at start');
    assert.equal(draws(withEnter.stdout), 2, 'and once more on Enter');
    assert.equal((String(withEnter.stdout).match(/local address/g) ?? []).length, 1, 'the header once');
    // A terminal as wide as script(1) gives: columns a sixth of it, at least 22.
    assert.match(String(withEnter.stdout), /local address +remote address +pid +bytes sent +bytes received +rtt/);
  });
});

describe("IPv4-mapped IPv6 in the original's formats (tuple_utils.cpp)", () => {
  it('legacy: after the IPv4 rows, in IPv4 layout; log: ::ffff:a.b.c.d', async () => {
    const { execa } = await import('execa');
    // One connection between IPv6 sockets on IPv4-mapped addresses, then a pure IPv4 one (so
    // that the order of arrival would put them the other way round), held open
    // while "go" waits on stdin; the script prints its ports.
    const script = `
import json, socket, sys
s4 = socket.socket(socket.AF_INET); s4.bind(('127.0.0.1', 0)); s4.listen()
s6 = socket.socket(socket.AF_INET6); s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s6.bind(('::', 0)); s6.listen()
c6 = socket.socket(socket.AF_INET6); c6.connect(('::ffff:127.0.0.1', s6.getsockname()[1])); a6, _ = s6.accept()
c4 = socket.create_connection(('127.0.0.1', s4.getsockname()[1])); a4, _ = s4.accept()
for c, a in ((c4, a4), (c6, a6)):
    c.sendall(b'x' * 100); a.recv(100)
print(json.dumps({'v4': c4.getsockname()[1], 'mapped': c6.getsockname()[1]}), flush=True)
sys.stdin.readline()
`;
    // Tracing first: the connections' connect and accept events are what the original logs.
    const [legacy, log] = await Promise.all([
      startTracer(['-f', '-t', '0.4', '--comm', 'python3', '--format', 'legacy']),
      startTracer(['-f', '-t', '0.4', '--comm', 'python3', '--format', 'log']),
    ]);
    const py = execa('python3', ['-c', script], { stdin: 'pipe', reject: false, buffer: false });
    const ports = await new Promise<{ v4: number; mapped: number }>((resolve) =>
      py.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()) as { v4: number; mapped: number })),
    );
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(await legacy.stop(), 0);
    assert.equal(await log.stop(), 0);
    py.stdin.end('go\n');
    await py;
    const hex = (p: number) => p.toString(16).toUpperCase().padStart(4, '0');
    // The last full cycle: rows between two " " lines.
    const cycles = legacy.lines.join('\n').split('\n \n');
    const last = cycles[cycles.length - 2].split('\n');
    const at = (port: number) =>
      last.findIndex((l) => {
        const f = l.trim().split(/\s+/);
        return f[3] === hex(port) && f[7] === String(py.pid);
      });
    assert.ok(at(ports.v4) >= 0 && at(ports.mapped) >= 0, last.join('\n'));
    assert.ok(at(ports.mapped) > at(ports.v4), 'the mapped socket after the IPv4 one');
    const mappedRow = last[at(ports.mapped)].trim().split(/\s+/);
    assert.deepEqual([mappedRow[1], mappedRow[2]], ['0', '0100007F'], 'in IPv4 layout');
    assert.ok(
      log.lines.some((l) => l.includes(`event connect ::ffff:127.0.0.1:${ports.mapped} -> ::ffff:127.0.0.1:`)),
      'the log writes it as inet_ntop does',
    );
    assert.ok(log.lines.some((l) => l.includes(`event connect 127.0.0.1:${ports.v4} -> 127.0.0.1:`)));
  });
});
