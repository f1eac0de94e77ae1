// A live view's refresh without output, for bench/walk.ts: a TraceSession
// whose metrics walks go to top's live rates in memory (sampleMetrics() into
// a LiveRates, then a sample) every INTERVAL seconds; other records are dropped.
//
//   node --import tsx bench/refresh-driver.ts INTERVAL MAP_SIZE [NETNS_INODE]
//
// Prints {"ready":true,"pid":PID} once tracing (the connections open at
// start found), then {"walks":N,"connections":C} at each SIGINT-triggered stop.
import { LiveRates } from '../src/summary/rates.js';
import { TraceSession } from '../src/tracer/session.js';

const interval = Number(process.argv[2] ?? 1);
const mapSize = Number(process.argv[3] ?? 262144);
const netns = Number(process.argv[4] ?? 0);
const session = new TraceSession(
  {
    mapSize,
    withLoopback: true,
    ...(netns ? { netns } : {}),
    verbose: false,
    intervalS: 0,
    statsIntervalS: 0,
    incremental: false,
    headerSize: false,
  },
  {
    writer: { listeners: () => {}, kernel: () => {}, record: () => {}, configure: () => {} },
    flush: () => {},
  },
);
session.start();
session.announceExisting();
const rates = new LiveRates();
rates.start(Date.now());
let walks = 0;
let connections = 0;
const timer = setInterval(() => {
  if (!session.sampleMetrics(rates)) return;
  walks++;
  connections = rates.sample(Date.now()).connections.length;
}, interval * 1000);
console.log(JSON.stringify({ ready: true, pid: process.pid }));
process.on('SIGINT', () => {
  clearInterval(timer);
  session.stop(false);
  console.log(JSON.stringify({ walks, connections }));
  process.exit(0);
});
