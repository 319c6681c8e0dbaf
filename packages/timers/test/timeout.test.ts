import { describe, it, expect } from 'vitest';
import {
  run,
  runTest,
  forEachSeed,
  spawn,
  suspend,
  yieldNow,
  useScheduler,
  currentFiber,
  FiberLocal,
  VirtualClock,
  CancelledError,
  DeadlockError,
  RiocoError,
  type Operation,
} from '@rioco/core';
import { sleep, sleepUntil, now, timeout, deadline, TimeoutError } from '@rioco/timers';
import { Lock, Slot } from './helpers.js';

function* caught<T>(op: Operation<T>): Operation<T | unknown> {
  try {
    return yield* op;
  } catch (e) {
    return e;
  }
}

describe('timeout: the operation finishes in time', () => {
  it('returns its value and removes the deadline timer', async () => {
    const clock = new VirtualClock();
    const v = await runTest(
      function* () {
        const v = yield* timeout(1_000, function* () {
          yield* sleep(40);
          return 'done';
        });
        expect(now()).toBe(40);
        return v;
      },
      { clock },
    );
    expect(v).toBe('done');
    // No timer was left for the clock to jump to (runTest also checked nothing is pending).
    expect(clock.now()).toBe(40);
  });

  it('passes the operation its wait results and errors unchanged', async () => {
    const clock = new VirtualClock();
    const boom = new Error('boom');
    await runTest(
      function* () {
        const slot = new Slot<number>();
        spawn(function* () {
          yield* sleep(5);
          slot.put(42);
        });
        expect(yield* timeout(100, slot.take())).toBe(42);
        const err = yield* caught(
          timeout(100, function* () {
            yield* sleep(1);
            throw boom;
          }),
        );
        expect(err).toBe(boom); // the original error, not a wrapper
        const failing = suspend<void>((r) => {
          setImmediate(() => r.fail(boom));
        });
        expect(yield* caught(timeout(100, failing))).toBe(boom);
      },
      { clock },
    );
  });

  it('runs the operation in the caller fiber (same fiber, same fiber-locals)', async () => {
    const who = new FiberLocal<string>('who', 'nobody');
    await runTest(function* () {
      const outer = currentFiber()!.id;
      who.set('caller');
      const inner = yield* timeout(1_000, function* () {
        yield* yieldNow();
        return [currentFiber()!.id, who.get()] as const;
      });
      expect(inner).toEqual([outer, 'caller']);
    });
  });

  it('an operation that never waits returns even with a zero time limit', async () => {
    await runTest(
      function* () {
        expect(
          yield* timeout(0, function* () {
            return 5;
          }),
        ).toBe(5);
      },
      { clock: new VirtualClock() },
    );
  });

  it('a function op can be run many times; a generator object op is single-use like any', async () => {
    const clock = new VirtualClock();
    await runTest(
      function* () {
        let runs = 0;
        const op = timeout(10, function* () {
          runs++;
          yield* sleep(1);
          return runs;
        });
        expect(yield* op).toBe(1);
        expect(yield* op).toBe(2);
        expect(now()).toBe(2);
      },
      { clock },
    );
  });

  it('keeps the operation wait visible to dumps (reason and target pass through)', async () => {
    const clock = new VirtualClock();
    await runTest(
      function* () {
        const slot = new Slot<number>();
        const t = spawn(function* () {
          return yield* timeout(1_000, slot.take());
        }, { name: 'bounded' });
        yield* sleep(1);
        const info = useScheduler().fibers().find((f) => f.name === 'bounded')!;
        expect(info.waitingOn).toBe('slot.take');
        expect(info.waitTarget).toBe(slot);
        slot.put(1);
        expect(yield* t).toBe(1);
      },
      { clock },
    );
  });
});

describe('timeout: the time limit passes', () => {
  it('throws TimeoutError (code TIMEOUT) exactly at the deadline', async () => {
    const clock = new VirtualClock(100);
    await runTest(
      function* () {
        const err = yield* caught(timeout(250, sleep(1_000)));
        expect(err).toBeInstanceOf(TimeoutError);
        expect(err).toBeInstanceOf(RiocoError);
        expect((err as TimeoutError).code).toBe('TIMEOUT');
        expect((err as TimeoutError).ms).toBe(250);
        expect((err as TimeoutError).deadline).toBe(350);
        expect((err as TimeoutError).message).toMatch(/within 250 ms/);
        expect(now()).toBe(350);
        const err2 = yield* caught(deadline(400, sleep(1_000)));
        expect(err2).toBeInstanceOf(TimeoutError);
        expect((err2 as TimeoutError).ms).toBeUndefined();
        expect((err2 as TimeoutError).deadline).toBe(400);
        expect(now()).toBe(400);
      },
      { clock },
    );
    expect(clock.now()).toBe(400); // the cancelled inner sleeps left nothing to jump to
  });

  it('a 10-minute timeout runs in milliseconds under the virtual clock', async () => {
    const clock = new VirtualClock();
    const t0 = performance.now();
    await runTest(
      function* () {
        const never = new Slot<void>();
        const err = yield* caught(timeout(600_000, never.take()));
        expect(err).toBeInstanceOf(TimeoutError);
        expect(never.waiting).toBe(false); // the wait was torn down
      },
      { clock },
    );
    expect(clock.now()).toBe(600_000);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });

  it('cancels the operation and finishes its cleanup, even a cleanup that waits, before the error arrives', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    await runTest(
      function* () {
        const lock = new Lock();
        const holdAndHang = function* (): Operation<void> {
          yield* lock.acquire('op');
          try {
            log.push('op holds the lock');
            yield* sleep(10_000);
            log.push('op finished (must not happen)');
          } catch (e) {
            log.push(`op catch saw ${String(e)} (must not happen)`);
          } finally {
            log.push(`op cleanup starts@${now()}`);
            yield* sleep(7); // cleanup that itself waits, past the deadline
            lock.release('op');
            log.push(`op cleanup done@${now()}`);
          }
        };
        try {
          yield* timeout(100, holdAndHang);
        } catch (e) {
          log.push(`caller caught ${(e as RiocoError).code}@${now()}, lock holder: ${String(lock.holder)}`);
        }
        // The lock is usable again at once.
        yield* lock.acquire('caller');
        lock.release('caller');
      },
      { clock },
    );
    expect(log).toEqual([
      'op holds the lock',
      'op cleanup starts@100',
      'op cleanup done@107',
      'caller caught TIMEOUT@107, lock holder: null',
    ]);
  });

  it('an operation whose waiting cleanup ends with CancelledError (as Condvar.wait does) still times out with TimeoutError', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    await runTest(
      function* () {
        // The pattern of an operation that must finish a wait when stopped: JavaScript
        // would turn its pending return into a normal completion at the caller's
        // `yield*`, so it unwinds the rest of the way by throwing CancelledError.
        const stubborn = function* (): Operation<string> {
          let stopped = true;
          try {
            yield* sleep(10_000);
            stopped = false;
            return 'finished';
          } finally {
            if (stopped) {
              yield* sleep(5);
              log.push(`cleanup done@${now()}`);
              // eslint-disable-next-line no-unsafe-finally
              throw new CancelledError('unwound after a waiting cleanup');
            }
          }
        };
        const err = yield* caught(timeout(50, stubborn));
        expect(err).toBeInstanceOf(TimeoutError);
        log.push(`caller caught ${(err as RiocoError).code}@${now()}`);
        // Not a stop of the deadline's: a CancelledError thrown in time passes through.
        const own = yield* caught(
          timeout(50, function* () {
            yield* sleep(1);
            throw new CancelledError('the operation says so');
          }),
        );
        expect(own).toBeInstanceOf(CancelledError);
      },
      { clock },
    );
    expect(log).toEqual(['cleanup done@55', 'caller caught TIMEOUT@55']);
  });

  it('a timed-out waiter leaves the lock queue: the lock is never handed to it later', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    await runTest(
      function* () {
        const lock = new Lock();
        yield* lock.acquire('holder');
        const waiter = spawn(function* () {
          try {
            yield* timeout(50, lock.acquire('waiter'));
            log.push('waiter got the lock (must not happen)');
          } catch (e) {
            log.push(`waiter ${(e as RiocoError).code}@${now()}, queue ${lock.waiters}`);
          }
        });
        const third = spawn(function* () {
          yield* sleep(60);
          yield* lock.acquire('third');
          log.push(`third got the lock@${now()}`);
          lock.release('third');
        });
        yield* sleep(100);
        lock.release('holder');
        yield* waiter;
        yield* third;
        expect(lock.holder).toBe(null);
      },
      { clock },
    );
    expect(log).toEqual(['waiter TIMEOUT@50, queue 0', 'third got the lock@100']);
  });

  it('the operation catch blocks do not see the timeout; an error thrown by its cleanup propagates instead', async () => {
    const clock = new VirtualClock();
    const cleanupErr = new Error('cleanup failed');
    await runTest(
      function* () {
        const err = yield* caught(
          timeout(5, function* () {
            try {
              yield* sleep(100);
            } finally {
              // eslint-disable-next-line no-unsafe-finally -- the point: a cleanup that throws
              throw cleanupErr;
            }
          }),
        );
        expect(err).toBe(cleanupErr);
      },
      { clock },
    );
  });

  it('an operation that only yields (never parks) is stopped once the deadline timer fired (real clock)', async () => {
    let spins = 0;
    await runTest(function* () {
      const err = yield* caught(
        timeout(5, function* () {
          for (;;) {
            spins++;
            yield* yieldNow();
          }
        }),
      );
      expect(err).toBeInstanceOf(TimeoutError);
    });
    expect(spins).toBeGreaterThan(0);
  });

  it('the deadline is measured from when the wait starts', async () => {
    const clock = new VirtualClock();
    await runTest(
      function* () {
        const op = timeout(30, sleep(20)); // fits if measured from yield*
        yield* sleep(25);
        yield* op;
        expect(now()).toBe(45);
      },
      { clock },
    );
  });
});

describe('timeout: results at the deadline instant (deterministic)', () => {
  it('a sleep ending exactly at the deadline loses; one ending just before wins', async () => {
    const clock = new VirtualClock();
    await runTest(
      function* () {
        expect(yield* caught(timeout(100, sleep(100)))).toBeInstanceOf(TimeoutError);
        expect(
          yield* timeout(100, function* () {
            yield* sleep(99.999);
            return 'in time';
          }),
        ).toBe('in time');
      },
      { clock },
    );
  });

  it('a value another fiber produces at the deadline instant loses, and is not lost', async () => {
    const clock = new VirtualClock();
    await runTest(
      function* () {
        const slot = new Slot<string>();
        spawn(function* () {
          yield* sleepUntil(100); // the producer's timer was even set before the deadline's
          slot.put('late');
        });
        yield* yieldNow();
        const err = yield* caught(deadline(100, slot.take()));
        expect(err).toBeInstanceOf(TimeoutError);
        expect(now()).toBe(100);
        // The value was produced after the consumer left: it waits in the slot.
        expect(yield* slot.take()).toBe('late');
      },
      { clock },
    );
  });

  it('a value delivered by an earlier-set timer at the same instant wins (it was handed over first)', async () => {
    const clock = new VirtualClock();
    await runTest(
      function* () {
        const slot = new Slot<string>();
        const s = useScheduler();
        s.setTimer(100, () => slot.put('handed over')); // set before the deadline's timer
        const v = yield* deadline(100, function* () {
          const got = yield* slot.take();
          return got; // no further wait: the result stands
        });
        expect(v).toBe('handed over');
      },
      { clock },
    );
  });

  it('a value delivered before the deadline timer fired is kept; the operation stops at its next wait', async () => {
    const clock = new VirtualClock();
    const kept: string[] = [];
    await runTest(
      function* () {
        const slot = new Slot<string>();
        useScheduler().setTimer(100, () => slot.put('msg'));
        const err = yield* caught(
          deadline(100, function* () {
            const got = yield* slot.take();
            try {
              yield* sleep(1);
            } finally {
              kept.push(got); // the operation still owns what it received
            }
          }),
        );
        expect(err).toBeInstanceOf(TimeoutError);
      },
      { clock },
    );
    expect(kept).toEqual(['msg']);
  });

  it('a wait satisfied at once still succeeds after the deadline passed, until its timer fired', async () => {
    const clock = new VirtualClock();
    await runTest(
      function* () {
        const slot = new Slot<number>();
        slot.put(7);
        expect(yield* timeout(0, slot.take())).toBe(7);
        // A wait that would block past the deadline times out without parking.
        expect(yield* caught(timeout(0, slot.take()))).toBeInstanceOf(TimeoutError);
        expect(slot.waiting).toBe(false);
        expect(now()).toBe(0);
      },
      { clock },
    );
  });

  it('a wait that would block once the deadline passed times out at once, before a ready fiber could fill it', async () => {
    const clock = new VirtualClock();
    await runTest(
      function* () {
        const slot = new Slot<number>();
        const producer = spawn(function* () {
          slot.put(1); // ready to run, but the consumer's deadline is already due
        });
        const err = yield* caught(timeout(0, slot.take()));
        expect(err).toBeInstanceOf(TimeoutError);
        yield* producer;
        expect(slot.full).toBe(true); // the value stayed for the next taker
      },
      { clock },
    );
  });

  it('under any interleaving: a timeout fires iff the work needs at least as long', async () => {
    await forEachSeed(
      150,
      (seed) =>
        function* (): Operation<void> {
          const tasks = [];
          for (let i = 0; i < 10; i++) {
            const limit = 10 * (1 + ((seed + i) % 3));
            const work = 10 * (1 + ((seed * 3 + i * 5) % 3));
            tasks.push(
              spawn(function* () {
                const t0 = now();
                const r = yield* caught(
                  timeout(limit, function* () {
                    yield* sleep(work);
                    return 'ok';
                  }),
                );
                if (work >= limit) {
                  expect(r).toBeInstanceOf(TimeoutError);
                  expect(now() - t0).toBe(limit);
                } else {
                  expect(r).toBe('ok');
                  expect(now() - t0).toBe(work);
                }
              }),
            );
          }
          for (const t of tasks) yield* t;
        },
      { clock: new VirtualClock() },
    );
  });
});

describe('timeout and cancellation', () => {
  it('cancelling the fiber cancels the operation: its cleanup runs, no TimeoutError, no timer left', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    await runTest(
      function* () {
        const t = spawn(function* () {
          try {
            yield* timeout(1_000, function* () {
              try {
                yield* sleep(5_000);
              } finally {
                log.push(`op cleanup@${now()}`);
                yield* sleep(3);
                log.push(`op cleanup done@${now()}`);
              }
            });
          } catch (e) {
            log.push(`caught ${String(e)} (must not happen)`);
          } finally {
            log.push(`caller cleanup@${now()}`);
          }
        });
        yield* sleep(10);
        yield* t.halt();
      },
      { clock },
    );
    expect(log).toEqual(['op cleanup@10', 'op cleanup done@13', 'caller cleanup@13']);
    expect(clock.now()).toBe(13);
  });

  it('a fiber cancelled while the timed-out operation cleans up still lets that cleanup finish with its real results', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    await runTest(
      function* () {
        const slot = new Slot<number>();
        const t = spawn(function* () {
          try {
            yield* timeout(10, function* () {
              try {
                yield* sleep(1_000);
              } finally {
                log.push(`cleanup waits@${now()}`);
                const v = yield* slot.take(); // cleanup that needs a result
                log.push(`cleanup got ${v}@${now()}`);
              }
            });
          } finally {
            log.push(`fiber cleanup@${now()}`);
          }
        });
        yield* sleep(20);
        t.cancel(); // while the operation cleanup waits on the slot
        yield* sleep(10);
        expect(slot.waiting).toBe(true); // its wait survived the cancellation
        slot.put(42);
        yield* t.halt();
        expect(yield* caught(t)).toBeInstanceOf(RiocoError); // cancelled
      },
      { clock },
    );
    expect(log).toEqual(['cleanup waits@10', 'cleanup got 42@30', 'fiber cleanup@30']);
  });

  it('... also when the cleanup result arrived but the fiber is cancelled before it runs', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    await runTest(
      function* () {
        const slot = new Slot<number>();
        const t = spawn(function* () {
          yield* timeout(10, function* () {
            try {
              yield* sleep(1_000);
            } finally {
              const v = yield* slot.take();
              log.push(`cleanup got ${v}`);
              yield* sleep(5);
              log.push(`cleanup done@${now()}`);
            }
          });
        });
        yield* sleep(20);
        slot.put(7); // the fiber is now ready with 7...
        t.cancel(); // ...and cancelled before it ran
        yield* t.halt();
      },
      { clock },
    );
    expect(log).toEqual(['cleanup got 7', 'cleanup done@25']);
  });

  it('nested timeouts: the inner one is caught inside; the outer one stops both, inner cleanup included', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    await runTest(
      function* () {
        const innerFirst = yield* timeout(100, function* () {
          const r = yield* caught(timeout(10, sleep(50)));
          log.push(`inner: ${(r as RiocoError).code}@${now()}`);
          return 'outer survived';
        });
        log.push(innerFirst);
        const r = yield* caught(
          timeout(10, function* () {
            yield* timeout(100, function* () {
              try {
                yield* sleep(50);
              } finally {
                yield* sleep(2);
                log.push(`inner cleanup@${now()}`);
              }
            });
          }),
        );
        log.push(`outer: ${(r as RiocoError).code}@${now()} ms=${(r as TimeoutError).ms}`);
      },
      { clock },
    );
    expect(log).toEqual(['inner: TIMEOUT@10', 'outer survived', 'inner cleanup@22', 'outer: TIMEOUT@22 ms=10']);
    expect(clock.now()).toBe(22);
  });
});

describe('timeout and deadlock detection', () => {
  it('a bounded wait on something no one will do is not a deadlock; after the timeout it is', async () => {
    const clock = new VirtualClock();
    const never = new Slot<void>();
    const err = await run(
      function* () {
        const r = yield* caught(timeout(1_000, never.take()));
        expect(r).toBeInstanceOf(TimeoutError);
        yield* never.take(); // unbounded now: nothing can ever wake it
      },
      { clock },
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeadlockError);
    expect(clock.now()).toBe(1_000);
  });
});

describe('timeout and deadline: bad input', () => {
  it('rejects bad durations, deadlines and operations at the call with INVALID_ARGUMENT', async () => {
    await runTest(function* () {
      const op = sleep(1);
      for (const bad of [-1, NaN, Infinity, -Infinity, '5', null]) {
        expect(() => timeout(bad as number, op), String(bad)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      }
      for (const bad of [NaN, Infinity, -Infinity, undefined]) {
        expect(() => deadline(bad as number, op), String(bad)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      }
      for (const bad of [null, undefined, 5, 'op', {}]) {
        expect(() => timeout(10, bad as never), String(bad)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      }
      // A function that does not return an operation fails where the wait starts.
      const err = yield* caught(timeout(10, (() => 42) as never));
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
    });
  });
});

describe('timeout around a join', () => {
  it('gives up waiting for the task; the task itself goes on (cancel it to stop it)', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    await runTest(
      function* () {
        const t = spawn(function* () {
          yield* sleep(100);
          log.push(`task done@${now()}`);
          return 7;
        });
        const r = yield* caught(timeout(10, t));
        expect(r).toBeInstanceOf(TimeoutError);
        expect(t.done).toBe(false);
        expect(yield* t).toBe(7); // still joinable
      },
      { clock },
    );
    expect(log).toEqual(['task done@100']);
  });
});
