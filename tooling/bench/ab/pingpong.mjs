// node tooling/bench/ab/pingpong.mjs WORKLOAD A B [pairs]
//
// Two snapshots of core+sync (snapshot.sh) and the core floor, in one process: each
// pair of runs times the floor, A and B (their order alternating) and the floor again,
// and the medians of A/floor, B/floor and B/A are printed. On a VM whose speed drifts
// between seconds, neighbouring runs compare like with like; rows in separate
// processes do not. WORKLOAD: ch (channel(0) ping-pong), ch1 (channel(1)), mpmc
// (4 producers x 4 consumers, channel(64)).
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const [, , workload = 'ch', A, B, pairsArg = '40'] = process.argv;
if (A === undefined || B === undefined) {
  console.error('usage: node pingpong.mjs ch|ch1|mpmc A B [pairs]');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const { floorPingPong } = await import(join(here, '../dist/floor.js'));

async function load(name) {
  const dir = join(here, '.variants', name);
  const core = await import(join(dir, 'core/index.js'));
  const sync = await import(join(dir, 'sync/index.js'));
  const pingpong = (cap) => (n) =>
    core.run(function* () {
      const ping = sync.channel(cap);
      const pong = sync.channel(cap);
      const echo = core.spawn(function* () {
        for (let i = 0; i < n; i++) yield* pong.send(yield* ping.recv());
      });
      for (let i = 0; i < n; i++) {
        yield* ping.send(i);
        yield* pong.recv();
      }
      yield* echo;
    });
  const mpmc = (n) =>
    core.run(function* () {
      const ch = sync.channel(64);
      const per = n / 4;
      const ts = [];
      for (let p = 0; p < 4; p++)
        ts.push(core.spawn(function* () {
          for (let i = 0; i < per; i++) yield* ch.send(i);
        }));
      for (let c = 0; c < 4; c++)
        ts.push(core.spawn(function* () {
          for (let i = 0; i < per; i++) yield* ch.recv();
        }));
      for (const t of ts) yield* t;
    });
  const f = { ch: pingpong(0), ch1: pingpong(1), mpmc }[workload];
  if (f === undefined) throw new Error(`unknown workload ${workload}`);
  return f;
}

const fa = await load(A);
const fb = await load(B);
const N = 50_000;
async function time(fn) {
  const t0 = performance.now();
  await fn(N);
  return ((performance.now() - t0) * 1e6) / N;
}
for (let i = 0; i < 6; i++) {
  await time(floorPingPong);
  await time(fa);
  await time(fb);
}
const ra = [];
const rb = [];
const rba = [];
for (let i = 0; i < Number(pairsArg); i++) {
  const f0 = await time(floorPingPong);
  let a;
  let b;
  if (i % 2 === 0) {
    a = await time(fa);
    b = await time(fb);
  } else {
    b = await time(fb);
    a = await time(fa);
  }
  const fl = (f0 + (await time(floorPingPong))) / 2;
  ra.push(a / fl);
  rb.push(b / fl);
  rba.push(b / a);
}
const med = (x) => [...x].sort((p, q) => p - q)[x.length >> 1];
console.log(`${workload}: ${A}/floor ${med(ra).toFixed(3)}  ${B}/floor ${med(rb).toFixed(3)}  ${B}/${A} ${med(rba).toFixed(3)}`);
