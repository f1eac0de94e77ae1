// The table walk's two ways of reading a socket (native/probe.h,
// NETTRACER_WALK_READS): direct loads (walk_direct, where the kernel has
// bpf_rdonly_cast) and probe reads (walk: what kernels before 6.2 run, forced
// here). Four tracers in this process, each way on each byte path, walk the
// same loopback connections of the traffic generator, found open at start and
// opened after it: every metrics record is what the generator counted and what
// TCP_INFO says, and the two ways give the same records.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { FLAG, KIND, WALK } from '../../src/generated/wire.js';
import { synByteOf } from '../../src/record/counters.js';
import { ROOT } from '../../src/root.js';
import { decodeRecords, type KernelRecord } from '../../src/tracer/decode.js';
import { loadNative, type NativeOptions, type NativeTracer, type WalkReads } from '../../src/tracer/native.js';
import { type GeneratedConnection, killAll, startGenerator } from '../helpers/processes.js';

const ENV = 'NETTRACER_WALK_READS';
const asked = process.env[ENV];

after(() => {
  killAll();
  if (asked === undefined) delete process.env[ENV];
  else process.env[ENV] = asked;
});

interface Variant {
  reads: Exclude<WalkReads, 'none'>;
  path: 'calls' | 'counters';
  tracer?: NativeTracer;
}

/** A tracer whose table walk reads as `reads` asks (the variable is read when it loads). */
function open(v: Variant, pids: number[]): NativeTracer {
  process.env[ENV] = v.reads;
  const opts: NativeOptions = {
    mapSize: 4096,
    withLoopback: true,
    pid: pids,
    verbose: false,
    pollMs: 0,
    ...(v.path === 'counters' ? { excludeGroups: ['io'] } : {}),
  };
  const t = new (loadNative().Tracer)(opts, () => {});
  assert.equal(t.walkReads(), v.reads, `${v.reads}, ${v.path}: NETTRACER_WALK_READS=${v.reads} is what loaded`);
  return t;
}

/** The metrics records of one walk. */
function metrics(t: NativeTracer, kind: (typeof WALK)[keyof typeof WALK] = WALK.metrics): KernelRecord[] {
  const out: KernelRecord[] = [];
  const r = t.walk(kind, (chunk, length) => {
    for (const rec of decodeRecords(chunk.subarray(0, length))) if (rec.kind !== KIND.listen) out.push(rec);
  });
  assert.ok(r.done, 'the walk ran to its end');
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Both ends of each connection, with the generator's counts and TCP_INFO. */
function ends(conns: GeneratedConnection[]) {
  return conns.flatMap((c) => [
    {
      local: c.client,
      remote: c.server,
      direction: 'outgoing',
      sent: c.client_sent,
      received: c.client_received,
      info: c.client_tcp_info,
    },
    {
      local: c.server,
      remote: c.client,
      direction: 'incoming',
      sent: c.server_sent,
      received: c.server_received,
      info: c.server_tcp_info,
    },
  ]);
}

// A loopback pair, half-closed: on "go" the client sends SENT bytes and the
// server RECEIVED, then the client shuts its side (FIN_WAIT2; the server in
// CLOSE_WAIT has read the FIN); TCP_INFO of both once it has settled.
const HALF_CLOSE = `
import json, os, socket, struct, sys, time
SENT, RECEIVED = 54321, 12345
def info(x):
    raw = x.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
    u = lambda off: struct.unpack_from("=I", raw, off)[0]
    return {"port": x.getsockname()[1], "segs_out": u(136), "segs_in": u(140)}
def drain(x, n):
    got = 0
    while got < n: got += len(x.recv(65536))
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(8)
print(json.dumps({"pid": os.getpid()}), flush=True)
sys.stdin.readline()
c = socket.create_connection(l.getsockname()); s, _ = l.accept()
c.sendall(b"x" * SENT); drain(s, SENT)
s.sendall(b"y" * RECEIVED); drain(c, RECEIVED)
c.shutdown(socket.SHUT_WR)
assert s.recv(1) == b""
time.sleep(0.5)
print(json.dumps({"sent": SENT, "received": RECEIVED, "client": info(c), "server": info(s)}), flush=True)
sys.stdin.readline()
`;

interface HalfClosed {
  sent: number;
  received: number;
  client: { port: number; segs_out: number; segs_in: number };
  server: { port: number; segs_out: number; segs_in: number };
}

/** The record fields a walk reads, for comparing the two ways. */
const read = (r: KernelRecord) => ({
  id: r.id,
  pid: r.pid,
  bytes_sent: r.bytes_sent,
  bytes_received: r.bytes_received,
  packets_sent: r.packets_sent,
  packets_received: r.packets_received,
  packets_retransmitted: r.packets_retransmitted,
  rtt_us: r.rtt_us,
  rtt_var_us: r.rtt_var_us,
});

/** A walk's records as read(), in id order (each tracer's table holds them in its own order). */
const byId = (recs: KernelRecord[]) => recs.map(read).sort((a, b) => a.id - b.id);

describe('the table walk reads sockets with direct loads or with probe reads', () => {
  it('both give the generator counts and TCP_INFO, for connections found at start and opened after', async () => {
    const conns = [
      { family: 4 as const, client_bytes: 123_457, server_bytes: 4_321 },
      { family: 6 as const, client_bytes: 77, server_bytes: 250_001 },
    ];
    // Older than the tracers (found by the start-up walk), and opened once they run.
    const existing = await startGenerator({ connections: conns, hold: 4, preopen: true });
    const fresh = await startGenerator({ connections: conns, hold: 4 });
    const variants: Variant[] = [
      { reads: 'direct', path: 'calls' },
      { reads: 'probe', path: 'calls' },
      { reads: 'direct', path: 'counters' },
      { reads: 'probe', path: 'counters' },
    ];
    try {
      for (const v of variants) {
        v.tracer = open(v, [existing.pid, fresh.pid]);
        metrics(v.tracer, WALK.listeners);
        assert.equal(metrics(v.tracer, WALK.existing).length, 4, `${v.reads}, ${v.path}: the ends open before it`);
      }
      let opened!: () => void;
      const isOpen = new Promise<void>((r) => (opened = r));
      const truth = Promise.all([existing.run(), fresh.run(() => opened())]);
      await isOpen;
      await sleep(700); // the last ACKs of the exchange (delayed ACKs: 40 ms and up)
      const walks = variants.map((v) => {
        const t = v.tracer!;
        metrics(t); // the owners of accepted ends no process has touched since (a file walk)
        const files = t.health().fileWalks;
        const recs = metrics(t);
        assert.equal(t.health().fileWalks, files, `${v.reads}, ${v.path}: the table walk alone made this one`);
        return recs;
      });
      const closed = (await truth).flat();
      assert.equal(closed.length, 4);

      for (const [i, v] of variants.entries()) {
        const what = `${v.reads} reads, ${v.path}`;
        assert.equal(walks[i].length, 8, `${what}: each end of the 4 connections once`);
        for (const e of ends(closed)) {
          const end = `${what}, ${e.local.addr}:${e.local.port}`;
          const r = walks[i].find(
            (x) =>
              x.saddr === e.local.addr &&
              x.sport === e.local.port &&
              x.daddr === e.remote.addr &&
              x.dport === e.remote.port,
          );
          assert.ok(r, `${end}: reported`);
          assert.equal(r.kind, KIND.metrics, end);
          // Found open at start and outgoing: TCP's count has the SYN, which the encoder takes off.
          const syn = synByteOf((r.flags & FLAG.preexisting) !== 0, e.direction);
          assert.equal(r.bytes_sent - syn, e.sent, `${end}: bytes sent, as the generator counted`);
          assert.equal(r.bytes_received, e.received, `${end}: bytes received, as the generator counted`);
          assert.equal(r.packets_sent, e.info.segs_out, `${end}: packets sent (TCP_INFO)`);
          assert.equal(r.packets_received, e.info.segs_in, `${end}: packets received (TCP_INFO)`);
          assert.equal(r.packets_retransmitted, e.info.total_retrans, `${end}: retransmissions (TCP_INFO)`);
          assert.equal(r.rtt_us, e.info.rtt_us, `${end}: rtt (TCP_INFO)`);
          assert.equal(r.rtt_var_us, e.info.rttvar_us, `${end}: rtt variance (TCP_INFO)`);
        }
      }
      // The same walk, read both ways: the same records.
      assert.deepEqual(byId(walks[0]), byId(walks[1]), 'calls: direct and probe reads agree');
      assert.deepEqual(byId(walks[2]), byId(walks[3]), 'counters: direct and probe reads agree');
    } finally {
      for (const v of variants) v.tracer?.close();
    }
  });

  it("both read a half-closed connection the same: our FIN queued on one end, the peer's received on the other", async () => {
    // TCP's counters count a FIN as a byte once sent and acknowledged, or
    // received: the walk takes them off by the socket's state and its
    // sk_shutdown, read both ways. On the counters path its bytes come from there.
    const holder = spawn('python3', ['-c', HALF_CLOSE], { stdio: ['pipe', 'pipe', 'inherit'] });
    const rl = createInterface({ input: holder.stdout });
    const lines = rl[Symbol.asyncIterator]();
    const next = async () => JSON.parse(String((await lines.next()).value)) as Record<string, number>;
    const variants: Variant[] = [
      { reads: 'direct', path: 'counters' },
      { reads: 'probe', path: 'counters' },
    ];
    try {
      const { pid } = await next();
      for (const v of variants) v.tracer = open(v, [pid]);
      holder.stdin.write('go\n');
      const truth = (await next()) as unknown as HalfClosed;
      const walks = variants.map((v) => {
        metrics(v.tracer!); // the accepted end's owner (a file walk)
        return metrics(v.tracer!);
      });
      for (const [i, v] of variants.entries()) {
        for (const [side, local, sent, received] of [
          ['client (FIN sent)', truth.client.port, truth.sent, truth.received],
          ['server (FIN received)', truth.server.port, truth.received, truth.sent],
        ] as const) {
          const what = `${v.reads} reads, ${side}`;
          const r = walks[i].find((x) => x.sport === local);
          assert.ok(r, `${what}: reported`);
          const info = side.startsWith('client') ? truth.client : truth.server;
          assert.equal(r.bytes_sent, sent, `${what}: bytes sent, the FIN not counted`);
          assert.equal(r.bytes_received, received, `${what}: bytes received, the FIN not counted`);
          assert.equal(r.packets_sent, info.segs_out, `${what}: packets sent (TCP_INFO)`);
          assert.equal(r.packets_received, info.segs_in, `${what}: packets received (TCP_INFO)`);
        }
      }
      assert.deepEqual(byId(walks[0]), byId(walks[1]), 'direct and probe reads agree');
    } finally {
      for (const v of variants) v.tracer?.close();
      holder.kill('SIGKILL');
      rl.close();
    }
  });

  it('an object whose bpf_rdonly_cast is unresolved, as on kernels before 6.2, loads and walks with probe reads', () => {
    // The object built with the kfunc renamed to one no kernel has: libbpf
    // leaves the __weak extern unresolved, as it does where the kernel lacks it.
    const made = spawnSync('make', ['-s', '-C', join(ROOT, 'bpf'), 'no-rdonly-cast'], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const program = join(ROOT, 'bpf', '.output', 'no-rdonly-cast.bpf.o');
    const load = (reads: string) => {
      process.env[ENV] = reads;
      return new (loadNative().Tracer)({ mapSize: 4096, withLoopback: false, verbose: false, program }, () => {});
    };
    for (const reads of ['probe', 'auto']) {
      // auto: this kernel has bpf_rdonly_cast, so walk_direct is tried, refused, and walk loads instead.
      const t = load(reads);
      try {
        assert.equal(t.walkReads(), 'probe', `${reads}: the walk without the kfunc loaded`);
        assert.ok(t.walk(WALK.metrics, () => {}).done, `${reads}: and walks`);
      } finally {
        t.close();
      }
    }
    assert.throws(
      () => load('direct'),
      (err: Error & { code?: string }) => err.code === 'ELOAD',
      'direct asked for: no fallback',
    );
  });

  it('NETTRACER_WALK_READS must name a way: anything else is refused with a message saying what to set', () => {
    process.env[ENV] = 'fast';
    assert.throws(
      () => new (loadNative().Tracer)({ mapSize: 4096, withLoopback: false, verbose: false }, () => {}),
      (err: Error & { code?: string }) =>
        err.code === 'EENV' && /NETTRACER_WALK_READS must be auto, direct or probe/.test(err.message),
    );
    assert.equal(loadNative().probe().walkReadsAsked, 'invalid');
  });
});
