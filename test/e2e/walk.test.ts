// Metrics walks over the connection table (the walk program, run on demand):
// each tracked connection once, with the counters TCP_INFO shows, and the
// walk over every process's open files only at start-up and when a
// connection has no owner yet. As root, in a network namespace of its own
// (the tracer filters on it: other processes' connections stay out).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { KIND, WALK } from '../../src/generated/wire.js';
import { LiveRates } from '../../src/summary/rates.js';
import { decodeRecords, type KernelRecord } from '../../src/tracer/decode.js';
import { loadNative, type NativeTracer } from '../../src/tracer/native.js';
import { TraceSession } from '../../src/tracer/session.js';
import { createNetns, deleteNetns, netnsInode } from '../helpers/netns.js';

const NS = `nt-walk-${process.pid}`;
const PAIRS = 30;

// Holds PAIRS loopback pairs; on stdin: "accept" (a new pair whose accepted
// end nobody touches), "send N" (N bytes over pair 0, read at the other end),
// "info" (TCP_INFO of both ends of pair 0). Answers one JSON line each.
const HOLDER = `
import json, os, socket, struct, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(128)
pairs = []
for _ in range(${PAIRS}):
    c = socket.create_connection(l.getsockname()); s, _ = l.accept(); pairs.append((c, s))
def info(x):
    raw = x.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
    u = lambda off: struct.unpack_from("=I", raw, off)[0]
    return {"sport": x.getsockname()[1], "rtt_us": u(68), "rtt_var_us": u(72), "retrans": u(100), "segs_out": u(136), "segs_in": u(140)}
print(json.dumps({"pid": os.getpid(), "port": l.getsockname()[1]}), flush=True)
for line in sys.stdin:
    cmd = line.split()
    if cmd[0] == "accept":
        c = socket.create_connection(l.getsockname()); s, _ = l.accept(); pairs.append((c, s))
        print(json.dumps({"sport": c.getsockname()[1]}), flush=True)
    elif cmd[0] == "send":
        n = int(cmd[1]); c, s = pairs[0]; c.sendall(b"x" * n); got = 0
        while got < n: got += len(s.recv(n - got))
        print(json.dumps({"sport": c.getsockname()[1], "sent": n}), flush=True)
    elif cmd[0] == "info":
        c, s = pairs[0]; print(json.dumps({"client": info(c), "server": info(s)}), flush=True)
`;

interface Holder {
  pid: number;
  port: number;
  ask(cmd: string): Promise<Record<string, unknown>>;
}

const holders: { proc: ChildProcess; rl: Interface }[] = [];

async function startHolder(): Promise<Holder> {
  const proc = spawn('ip', ['netns', 'exec', NS, 'python3', '-c', HOLDER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const rl = createInterface({ input: proc.stdout });
  holders.push({ proc, rl });
  const lines = rl[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const r = await lines.next();
    if (r.done) throw new Error('holder exited');
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  const first = await next();
  return {
    pid: Number(first.pid),
    port: Number(first.port),
    ask: async (cmd) => {
      proc.stdin.write(`${cmd}\n`);
      return next();
    },
  };
}

before(() => createNetns(NS));
function stopHolders(): void {
  for (const x of holders.splice(0)) {
    x.proc.kill('SIGKILL');
    x.rl.close();
  }
}

after(() => {
  stopHolders();
  deleteNetns(NS);
});

/** Every record of a walk, decoded, but for listeners (reported with their queues by every walk). */
function walk(
  tracer: NativeTracer,
  kind: (typeof WALK)[keyof typeof WALK],
  listeners: KernelRecord[] = [],
): KernelRecord[] {
  const out: KernelRecord[] = [];
  const r = tracer.walk(kind, (chunk, length) => {
    for (const rec of decodeRecords(chunk.subarray(0, length))) (rec.kind === KIND.listen ? listeners : out).push(rec);
  });
  assert.ok(r.done, 'the walk ran to its end');
  return out;
}

const settle = () => new Promise((r) => setTimeout(r, 300));

describe('metrics walks over the connection table', () => {
  it('report each connection once, as TCP_INFO counts it; the file walk runs only to find owners', async () => {
    const h = await startHolder();
    const ring: KernelRecord[] = [];
    const tracer = new (loadNative().Tracer)(
      { mapSize: 4096, withLoopback: true, netns: netnsInode(NS), verbose: false, pollMs: 0 },
      (batch, length) => ring.push(...decodeRecords(batch.subarray(0, length))),
    );
    try {
      assert.ok(
        tracer.hooks().includes('raw_tp'),
        `the table walk is in use on this kernel: ${tracer.hooks().join(' ')}`,
      );
      walk(tracer, WALK.listeners);
      const existing = walk(tracer, WALK.existing);
      assert.equal(existing.length, 2 * PAIRS, 'both ends of every pair found at start');
      const ids = new Set(existing.map((r) => r.id));
      const startup = tracer.health();
      assert.equal(startup.fileWalks, 2, 'listeners and existing: the start-up walks go over the files');

      for (let i = 0; i < 3; i++) {
        const listeners: KernelRecord[] = [];
        const m = walk(tracer, WALK.metrics, listeners);
        const mine = listeners.filter((l) => l.netns === netnsInode(NS) && l.sport === h.port);
        assert.equal(mine.length, 1, `walk ${i}: the holder's listener, once`);
        assert.equal(mine[0].accept_queue_max, 128, 'its backlog');
        assert.ok(
          m.every((r) => r.kind === KIND.metrics),
          'only metrics records',
        );
        assert.deepEqual(new Set(m.map((r) => r.id)), ids, `walk ${i}: every connection end`);
        assert.equal(m.length, ids.size, `walk ${i}: each once`);
      }
      assert.equal(tracer.health().fileWalks, 2, 'no metrics walk went over the files');

      // Counters: what TCP_INFO says of both ends of pair 0, after 5,000 bytes.
      const m0 = walk(tracer, WALK.metrics);
      const sent = await h.ask('send 5000');
      await settle();
      const info = (await h.ask('info')) as Record<string, Record<string, number>>;
      const m = walk(tracer, WALK.metrics);
      for (const side of ['client', 'server'] as const) {
        const truth = info[side];
        const r = m.find((x) =>
          side === 'client' ? x.sport === truth.sport : x.sport === h.port && x.dport === info.client.sport,
        );
        assert.ok(r, `${side} end of pair 0 reported`);
        assert.equal(r.packets_sent, truth.segs_out, `${side} packets sent`);
        assert.equal(r.packets_received, truth.segs_in, `${side} packets received`);
        assert.equal(r.packets_retransmitted, truth.retrans, `${side} retransmissions`);
        assert.equal(r.rtt_us, truth.rtt_us, `${side} rtt`);
        assert.equal(r.rtt_var_us, truth.rtt_var_us, `${side} rtt variance`);
        if (side === 'client') {
          const was = m0.find((x) => x.id === r.id);
          assert.equal(r.bytes_sent - (was?.bytes_sent ?? NaN), sent.sent, 'bytes the client wrote since');
        }
      }

      // A connection whose accepted end no process has touched: the file walk
      // finds its owner once, its accept record before its first metrics.
      const acc = await h.ask('accept');
      await settle();
      const claimed = walk(tracer, WALK.metrics);
      assert.equal(tracer.health().fileWalks, 3, 'one file walk, to find the owner');
      const server = claimed.filter((r) => r.dport === Number(acc.sport));
      assert.deepEqual(
        server.map((r) => r.kind),
        [KIND.accept, KIND.metrics],
        'the accept record, then its metrics',
      );
      assert.equal(server[0].pid, h.pid, 'owned by the process that holds it');
      assert.equal(claimed.filter((r) => r.kind === KIND.metrics).length, ids.size + 2, 'the new pair too');
      const again = walk(tracer, WALK.metrics);
      assert.equal(again.length, ids.size + 2);
      assert.equal(tracer.health().fileWalks, 3, 'owners known: no file walk');
    } finally {
      tracer.close();
      stopHolders();
    }
  });

  it('sampleMetrics() into the live rates (as top): per-connection growth in memory, no metrics record', async () => {
    const h = await startHolder();
    const kernel: KernelRecord[] = [];
    const session = new TraceSession(
      {
        mapSize: 4096,
        withLoopback: true,
        netns: netnsInode(NS),
        verbose: false,
        intervalS: 0,
        statsIntervalS: 0,
        incremental: false,
        headerSize: false,
      },
      {
        writer: {
          listeners: () => {},
          kernel: (b) => kernel.push(...decodeRecords(b)),
          record: () => {},
          configure: () => {},
        },
        flush: () => {},
      },
    );
    session.start();
    try {
      session.announceExisting();
      const rates = new LiveRates();
      rates.start(Date.now());
      assert.ok(session.sampleMetrics(rates));
      assert.equal(rates.sample(Date.now()).connections.length, 2 * PAIRS);
      const sent = await h.ask('send 7000');
      await settle();
      assert.ok(session.sampleMetrics(rates));
      const s = rates.sample(Date.now());
      const client = s.connections.find((c) => c.sport === sent.sport);
      const server = s.connections.find((c) => c.dport === sent.sport);
      assert.ok(client && server);
      assert.equal(client.bytes, 7000);
      assert.equal(server.bytes, 7000);
      assert.equal(Math.round(client.txRate * s.periodS), 7000);
      assert.equal(Math.round(server.rxRate * s.periodS), 7000);
      assert.ok(client.periodPktsTx > 0);
      const still = s.connections.filter((c) => c !== client && c !== server);
      assert.ok(
        still.every((c) => c.bytes === 0 && c.txRate === 0 && c.rxRate === 0),
        'the others did not move',
      );
      assert.equal(kernel.filter((r) => r.kind === KIND.metrics).length, 0, 'no metrics record was made');
    } finally {
      session.stop(false);
      stopHolders();
    }
  });
});
