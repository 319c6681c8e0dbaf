/**
 * What @rioco/debug (and deadlock reports, and fiber dumps) read of a parked fiber: the
 * wait reason's label and the primitive itself as the wait target. One row per way to
 * park on a @rioco/sync primitive.
 */
import { describe, it, expect } from 'vitest';
import { DeadlockError, run, runTest, spawn, useScheduler, type Operation } from '@rioco/core';
import { Barrier, Condvar, Mutex, Once, RwLock, Semaphore, WaitGroup, channel, select } from '@rioco/sync';
import { Gate, settle } from './helpers.js';

interface Row {
  name: string;
  /** Make the primitive busy and return it, the operation that parks on it, and an undo. */
  setup(): Operation<{ target: object | undefined; park: () => Operation<unknown>; undo?: () => void }>;
  label: string;
}

const rows: Row[] = [
  {
    name: 'Mutex.lock',
    label: 'mutex.lock',
    *setup() {
      const m = new Mutex({ name: 'm' });
      const g = yield* m.lock();
      return { target: m, park: () => m.lock(), undo: () => g.release() };
    },
  },
  {
    name: 'RwLock.read behind a writer',
    label: 'rwlock.read',
    *setup() {
      const rw = new RwLock({ name: 'rw' });
      const g = yield* rw.write();
      return { target: rw, park: () => rw.read(), undo: () => g.release() };
    },
  },
  {
    name: 'RwLock.write behind a reader',
    label: 'rwlock.write',
    *setup() {
      const rw = new RwLock({ name: 'rw' });
      const g = yield* rw.read();
      return { target: rw, park: () => rw.write(), undo: () => g.release() };
    },
  },
  {
    name: 'Condvar.wait',
    label: 'condvar.wait',
    *setup() {
      const m = new Mutex();
      const cv = new Condvar({ name: 'cv' });
      return {
        target: cv,
        *park() {
          using g = yield* m.lock();
          yield* cv.wait(g);
        },
      };
    },
  },
  {
    name: 'Semaphore.acquire',
    label: 'semaphore.acquire',
    *setup() {
      const sem = new Semaphore(1, { name: 'sem' });
      const p = yield* sem.acquire();
      return { target: sem, park: () => sem.acquire(), undo: () => p.release() };
    },
  },
  {
    name: 'Barrier.wait',
    label: 'barrier.wait',
    *setup() {
      const b = new Barrier(2, { name: 'b' });
      return { target: b, park: () => b.wait() };
    },
  },
  {
    name: 'WaitGroup.wait',
    label: 'waitgroup.wait',
    *setup() {
      const wg = new WaitGroup({ name: 'wg' });
      wg.add();
      return { target: wg, park: () => wg.wait(), undo: () => wg.done() };
    },
  },
  {
    name: 'Once.getOrInit while another caller initializes',
    label: 'once.wait',
    *setup() {
      const once = new Once<number>({ name: 'once' });
      const gate = new Gate();
      spawn(() =>
        once.getOrInit(function* () {
          yield* gate.wait();
          return 1;
        }),
      );
      yield* settle();
      return {
        target: once,
        park: () => once.getOrInit(function* () { return 2; }),
        undo: () => gate.open(),
      };
    },
  },
  {
    name: 'Channel.recv',
    label: 'channel.recv',
    *setup() {
      const ch = channel<number>(0, { name: 'jobs' });
      return { target: ch, park: () => ch.recv() };
    },
  },
  {
    name: 'Channel.send',
    label: 'channel.send',
    *setup() {
      const ch = channel<number>(0, { name: 'jobs' });
      return { target: ch, park: () => ch.send(1) };
    },
  },
  {
    name: 'select',
    label: 'channel.select',
    *setup() {
      const a = channel<number>(0);
      const b = channel<number>(0);
      return { target: undefined, park: () => select(a.onRecv(), b.onSend(1)) };
    },
  },
];

describe('wait reasons and targets of parked fibers', () => {
  for (const row of rows) {
    it(`${row.name}: "${row.label}"`, () =>
      runTest(function* () {
        const { target, park, undo } = yield* row.setup();
        const waiter = spawn(park);
        yield* settle();
        const info = useScheduler()
          .fibers()
          .find((f) => f.id === waiter.id);
        expect(info).toMatchObject({ state: 'parked', waitingOn: row.label });
        if (target !== undefined) expect(info?.waitTarget).toBe(target);
        yield* waiter.halt();
        undo?.();
        yield* settle();
      }));
  }
});

describe('deadlock reports follow who holds each lock', () => {
  it('a wait-for cycle through a mutex, a rwlock, a semaphore and a once cell is named', async () => {
    const ids: number[] = [];
    const err = await run(function* () {
      const m = new Mutex({ name: 'm' });
      const rw = new RwLock({ name: 'rw' });
      const sem = new Semaphore(1, { name: 'sem' });
      const once = new Once<number>({ name: 'once' });
      // Each takes its own lock, then (after all have) waits for the next one's.
      const f1 = spawn(function* () {
        using _m = yield* m.lock();
        yield* settle();
        using _r = yield* rw.read(); // held for writing by f2
      });
      const f2 = spawn(function* () {
        using _w = yield* rw.write();
        yield* settle();
        using _p = yield* sem.acquire(); // held by f3
      });
      const f3 = spawn(function* () {
        using _p = yield* sem.acquire();
        yield* settle();
        return yield* once.getOrInit(function* () { return 0; }); // f4 is initializing it
      });
      const f4 = spawn(function* () {
        return yield* once.getOrInit(function* () {
          yield* settle();
          using _m = yield* m.lock(); // held by f1
          return 1;
        });
      });
      ids.push(f1.id, f2.id, f3.id, f4.id);
      yield* f1;
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlockError);
    const d = err as DeadlockError;
    const [f1, f2, f3, f4] = ids;
    expect(d.cycles).toEqual([[f1, f2, f3, f4]]);
    const by = new Map(d.fibers.map((f) => [f.id, f.waitingFor]));
    expect([by.get(f1), by.get(f2), by.get(f3), by.get(f4)]).toEqual([[f2], [f3], [f4], [f1]]);
  });
});
