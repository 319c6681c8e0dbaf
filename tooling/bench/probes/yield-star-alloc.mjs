// Does V8 remove an allocation that never leaves a loop body when the loop contains a
// `yield*`? Counts young-generation collections while each loop runs 20M times: a loop
// whose objects are removed causes almost none. The channel's `send(v)` object is such an
// allocation (README, Performance). Run: node tooling/bench/probes/yield-star-alloc.mjs
import { PerformanceObserver } from 'node:perf_hooks';

const DONE = { done: true, value: 0, next() { return this; }, [Symbol.iterator]() { return this; } };
class Op {
  constructor(v) { this.v = v; }
  [Symbol.iterator]() { DONE.value = this.v; return DONE; }
}

function plainLoop(n) {
  let s = 0;
  for (let i = 0; i < n; i++) for (const v of new Op(i)) s += v;
  return s + DONE.value;
}
function* generatorLoop(n) {
  let s = 0;
  for (let i = 0; i < n; i++) s += new Op(i)[Symbol.iterator]().value;
  return s;
}
function* generatorLoopWithYieldStar(n) {
  let s = 0;
  for (let i = 0; i < n; i++) s += yield* new Op(i);
  return s;
}

let minor = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail?.kind === 1) minor++; // NODE_PERFORMANCE_GC_MINOR
});
obs.observe({ entryTypes: ['gc'] });
const flush = () => new Promise((resolve) => setTimeout(resolve, 50));

for (const [name, run] of [
  ['plain function', (n) => plainLoop(n)],
  ['generator, no yield* in the loop', (n) => generatorLoop(n).next().value],
  ['generator, yield* in the loop', (n) => generatorLoopWithYieldStar(n).next().value],
]) {
  for (let r = 0; r < 3; r++) run(1e6); // warm up: let the loop be optimized
  await flush();
  minor = 0;
  for (let r = 0; r < 20; r++) run(1e6);
  await flush();
  console.log(`${name.padEnd(34)} ${String(minor).padStart(4)} young-generation GCs for 20M objects`);
}
obs.disconnect();
