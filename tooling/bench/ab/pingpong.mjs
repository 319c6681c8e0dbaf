// node tooling/bench/ab/pingpong.mjs WORKLOAD A B [pairs]
//
// Two snapshots of core+sync (snapshot.sh) and the core floor, in one process: B
// against A run for run, then each against the floor, each the median ratio of
// neighbouring runs (harness.ts interleaved()). On a VM whose speed drifts
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
const { channelPingPong } = await import(join(here, 'workloads.mjs'));
const { floorPingPong } = await import(join(here, '../dist/floor.js'));
const { interleaved } = await import(join(here, '../dist/harness.js'));

async function load(name) {
  const dir = join(here, '.variants', name);
  const core = await import(join(dir, 'core/index.js'));
  const sync = await import(join(dir, 'sync/index.js'));
  const pingpong = (cap) => channelPingPong(core, sync, cap);
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
const pairs = Number(pairsArg);
// B against A run for run, then each against the floor (harness.ts interleaved()).
const ba = await interleaved(fb, fa, N, pairs);
const af = await interleaved(fa, floorPingPong, N, pairs);
const bf = await interleaved(fb, floorPingPong, N, pairs);
const f = (r) => r.value.toFixed(3);
console.log(`${workload}: ${A}/floor ${f(af)}  ${B}/floor ${f(bf)}  ${B}/${A} ${f(ba)} (quartiles ${ba.extra.quartiles})`);
