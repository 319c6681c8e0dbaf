/**
 * Heap bytes per parked fiber, measured alone in a fresh process (the suite's row shares
 * its heap with the other rows). Run: node --expose-gc dist/probes/parked-memory.js
 */
import { run, spawn, suspend, type Operation, type Resume } from '@rioco/core';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const n = 100_000;

function* parked(resumes: Resume<void>[]): Operation<void> {
  yield* suspend<void>((r) => {
    resumes.push(r);
  });
}

// Warm up the code paths and the thread's table and ready-queue pools once.
for (const size of [n, n]) {
  const resumes: Resume<void>[] = [];
  const root = run(function* () {
    for (let i = 0; i < size; i++) spawn(parked(resumes));
  });
  while (resumes.length < size) await new Promise((r) => setImmediate(r));
  for (const r of resumes) r.ok();
  await root;
}

gc();
gc();
const before = process.memoryUsage().heapUsed;
const resumes: Resume<void>[] = new Array<Resume<void>>();
const root = run(function* () {
  for (let i = 0; i < n; i++) spawn(parked(resumes));
});
while (resumes.length < n) await new Promise((r) => setImmediate(r));
gc();
gc();
const perFiber = (process.memoryUsage().heapUsed - before) / n;
for (const r of resumes) r.ok();
await root;
console.log(`${perFiber.toFixed(0)} B of heap per parked fiber (generator object, external suspend, ${n} parked)`);
