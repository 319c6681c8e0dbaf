// CPU used by the monitor thread while the process idles with a monitor subscription
// (sampling every 100 ms), a native table holding 10 000 parked fibers and the SIGQUIT
// handler installed. Reads the thread's own counters: /proc/self/task/<tid>/schedstat
// (ns on CPU) and /proc/self/task/<tid>/stat (utime+stime, clock ticks).
//
//   node --import tsx --conditions=@rioco/source packages/core/native/bench/monitor-idle.mjs [seconds] [--signal-only]
// --signal-only: no monitor subscription, only the SIGQUIT handler (the thread then
// blocks in poll(2) without a timeout).
import { readFileSync } from 'node:fs';
import {
  createNativeTableMemory,
  installDumpSignal,
  monitorThreadId,
  startMonitor,
  uninstallDumpSignal,
} from '../../src/internal/native/index.ts';
import { F_ID, F_STATE, FiberTable, S_PARKED, SLOT_WORDS } from '../../src/internal/table.ts';

const seconds = Number(process.argv[2] ?? 10);
const signalOnly = process.argv.includes('--signal-only');
const mem = createNativeTableMemory(1, 256);
const table = new FiberTable(mem);
for (let i = 1; i <= 10_000; i++) {
  const slot = table.alloc();
  table.i32[slot * SLOT_WORDS + F_STATE] = S_PARKED;
  table.i32[slot * SLOT_WORDS + F_ID] = i;
}
installDumpSignal();
const monitor = signalOnly
  ? { stop: () => {} }
  : startMonitor({ stuckMs: 1000, loopStallMs: 1000, onReport: (r) => console.log('report', r) });
const tid = monitorThreadId();
const cpu = () => {
  const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { ns, ticks: Number(f[11]) + Number(f[12]) }; // utime, stime (fields 14, 15)
};
const before = cpu();
const t0 = performance.now();
setTimeout(() => {
  const after = cpu();
  const wall = (performance.now() - t0) / 1000;
  const usedUs = (after.ns - before.ns) / 1000;
  console.log(
    `${signalOnly ? 'signal only' : 'monitor (100 ms sampling)'}: thread ${tid}: ${usedUs.toFixed(0)} µs CPU in ${wall.toFixed(1)} s idle ` +
      `(${(usedUs / wall).toFixed(1)} µs/s = ${((usedUs / 1e6 / wall) * 100).toFixed(4)}% of a core; ` +
      `${after.ticks - before.ticks} clock ticks by /proc stat)`,
  );
  monitor.stop();
  uninstallDumpSignal();
  mem.close();
}, seconds * 1000);
