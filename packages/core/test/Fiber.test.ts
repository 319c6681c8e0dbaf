import { describe, it, expect } from 'vitest';
import {
  run,
  runTest,
  forEachSeed,
  spawn,
  suspend,
  yieldNow,
  supervisor,
  wait,
  useAbortSignal,
  ensure,
  currentFiber,
  CancelledError,
  RiocoError,
  InvalidArgumentError,
  type Operation,
  type Task,
  type Resume,
  useScheduler,
  VirtualClock,
} from '@rioco/core';

/** A one-slot handoff built on suspend: the minimal fiber-to-fiber primitive. */
class Slot<T> {
  private waiter: Resume<T> | null = null;
  private value: T | undefined;
  private has = false;
  put(v: T): void {
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w.ok(v);
    } else {
      this.value = v;
      this.has = true;
    }
  }
  *take(): Operation<T> {
    if (this.has) {
      this.has = false;
      return this.value as T;
    }
    return yield* suspend<T>(
      (r) => {
        this.waiter = r;
        return () => {
          this.waiter = null;
        };
      },
      { reason: 'slot.take', internal: true },
    );
  }
}

describe('spawn and join', () => {
  it('joins children and returns the value', async () => {
    const v = await runTest(function* () {
      const a = spawn(function* () {
        yield* yieldNow();
        return 20;
      });
      const b = spawn(function* (x: number, y: number) {
        return x + y;
      }, { args: [1, 1] as [number, number] });
      return (yield* a) + (yield* b);
    });
    expect(v).toBe(22);
  });

  it('a task is a promise of its value', async () => {
    await runTest(function* () {
      const t = spawn(function* () {
        return 'x';
      });
      const v = yield* wait(t);
      expect(v).toBe('x');
    });
    const root = run(function* () {
      return 5;
    });
    await expect(root).resolves.toBe(5);
  });

  it('a parent finishes only after its children', async () => {
    const log: string[] = [];
    await runTest(function* () {
      spawn(function* () {
        yield* yieldNow();
        yield* yieldNow();
        log.push('child');
      });
      log.push('parent body done');
    });
    expect(log).toEqual(['parent body done', 'child']);
  });

  it('joining a finished task returns at once, again and again', async () => {
    await runTest(function* () {
      const t = spawn(function* () {
        return 3;
      });
      yield* yieldNow();
      expect(t.done).toBe(true);
      expect(yield* t).toBe(3);
      expect(yield* t).toBe(3);
    });
  });

  it('spawning a generator object avoids a closure per spawn', async () => {
    function* work(n: number): Operation<number> {
      yield* yieldNow();
      return n * 2;
    }
    const v = await runTest(function* () {
      const ts: Task<number>[] = [];
      for (let i = 0; i < 100; i++) ts.push(spawn(work(i)));
      let sum = 0;
      for (const t of ts) sum += yield* t;
      return sum;
    });
    expect(v).toBe(9900);
  });
});

describe('cancellation', () => {
  it('delivers return() at the suspension point so finally runs, once', async () => {
    const log: string[] = [];
    await runTest(function* () {
      const slot = new Slot<number>();
      const t = spawn(function* () {
        try {
          yield* slot.take();
          log.push('not reached');
        } finally {
          log.push('finally');
        }
      });
      yield* yieldNow();
      t.cancel();
      t.cancel();
      yield* t.halt();
      expect(t.done).toBe(true);
    });
    expect(log).toEqual(['finally']);
  });

  it('finally may yield* and runs to completion; a second cancel does not interrupt it', async () => {
    const log: string[] = [];
    await runTest(function* () {
      const slot = new Slot<string>();
      const t = spawn(function* () {
        try {
          yield* suspend(() => {}, { reason: 'forever', internal: true });
        } finally {
          log.push('cleanup start');
          const v = yield* slot.take();
          log.push(`cleanup got ${v}`);
        }
      });
      yield* yieldNow();
      t.cancel();
      yield* yieldNow();
      t.cancel();
      slot.put('bye');
      yield* t.halt();
    });
    expect(log).toEqual(['cleanup start', 'cleanup got bye']);
  });

  it('cleanup that waits and then throws CancelledError ends the fiber cancelled, not failed', async () => {
    // What an operation does when its cleanup must wait (Condvar.wait re-acquiring its
    // mutex): a pending return would not survive the caller's `yield*`, so it unwinds
    // the rest of the way with CancelledError.
    const log: string[] = [];
    await runTest(function* () {
      const slot = new Slot<string>();
      function* op(): Operation<string> {
        let stopped = true;
        try {
          yield* suspend(() => {}, { reason: 'forever', internal: true });
          stopped = false;
          return 'never';
        } finally {
          if (stopped) {
            yield* slot.take();
            // eslint-disable-next-line no-unsafe-finally
            throw new CancelledError('unwinding after a waiting cleanup');
          }
        }
      }
      const t = spawn(function* () {
        try {
          yield* op();
          log.push('after op (must not run)');
        } finally {
          log.push('caller finally');
        }
      });
      const later = new Slot<string>();
      const sibling = spawn(function* () {
        yield* later.take();
        log.push('sibling still runs'); // a failure would have cancelled it
      });
      yield* yieldNow();
      t.cancel();
      yield* yieldNow();
      slot.put('cleanup may go on');
      let joined: unknown;
      try {
        yield* t;
      } catch (e) {
        joined = e;
      }
      expect(joined).toBeInstanceOf(CancelledError);
      later.put('sibling');
      yield* sibling;
    });
    expect(log).toEqual(['caller finally', 'sibling still runs']);
  });

  it('children are halted with the parent, in reverse spawn order, before the parent cleans up', async () => {
    const log: string[] = [];
    await runTest(function* () {
      let started = 0;
      const parent = spawn(function* () {
        for (const name of ['a', 'b', 'c']) {
          spawn(function* () {
            started++;
            try {
              yield* suspend(() => {}, { internal: true });
            } finally {
              yield* yieldNow();
              log.push(name);
            }
          });
        }
        try {
          yield* suspend(() => {}, { internal: true });
        } finally {
          log.push('parent');
        }
      });
      while (started < 3) yield* yieldNow();
      yield* parent.halt();
    });
    expect(log).toEqual(['c', 'b', 'a', 'parent']);
  });

  it('reverse-order finalizers hold under any interleaving', async () => {
    await forEachSeed(150, function* () {
      const log: number[] = [];
      let started = 0;
      const parent = spawn(function* () {
        for (let i = 0; i < 4; i++) {
          spawn(function* () {
            started++;
            try {
              for (;;) yield* yieldNow();
            } finally {
              yield* yieldNow();
              log.push(i);
            }
          });
        }
        for (;;) yield* yieldNow();
      });
      while (started < 4) yield* yieldNow();
      yield* parent.halt();
      expect(log).toEqual([3, 2, 1, 0]);
    });
  });

  it('teardown runs on cancel and a late resume is ignored', async () => {
    let late: Resume<number> | undefined;
    let tornDown = 0;
    const after: string[] = [];
    await runTest(function* () {
      const t = spawn(function* () {
        try {
          yield* suspend<number>(
            (r) => {
              late = r;
              return () => tornDown++;
            },
            { internal: true },
          );
          after.push('resumed');
        } finally {
          after.push('finally');
        }
      });
      yield* yieldNow();
      yield* t.halt();
      late!.ok(1);
      late!.fail(new Error('late'));
      yield* yieldNow();
    });
    expect(tornDown).toBe(1);
    expect(after).toEqual(['finally']);
  });

  it('a teardown may be an object with cancel(): a TimerHandle, or the wait\'s own record', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    await runTest(
      function* () {
        const s = useScheduler();
        // A TimerHandle as the teardown: cancelling the fiber cancels the timer.
        const sleeper = spawn(function* () {
          yield* suspend<void>((r) => s.setTimer(s.clock.now() + 1_000, () => r.ok()), { internal: true });
          log.push('woke');
        });
        // The wait's own record: cancel() runs once, and only on cancellation.
        const record = {
          cancels: 0,
          cancel(): void {
            this.cancels++;
          },
        };
        let resume: Resume<string> | undefined;
        const waiter = spawn(function* () {
          return yield* suspend<string>((r) => {
            resume = r;
            return record;
          });
        });
        const resumed = spawn(function* () {
          return yield* suspend<string>((r) => {
            queueMicrotask(() => r.ok('done'));
            return record;
          });
        });
        expect(yield* resumed).toBe('done');
        expect(record.cancels).toBe(0);
        yield* yieldNow();
        yield* waiter.halt();
        resume!.ok('late');
        expect(record.cancels).toBe(1);
        yield* sleeper.halt();
        expect(s.clock.now()).toBe(0);
        log.push(`now ${s.clock.now()}`);
      },
      { clock },
    );
    // The sleeper's timer went with it: no wake-up, and virtual time never had to move.
    expect(log).toEqual(['now 0']);
    expect(clock.now()).toBe(0);
  });

  it('joining a cancelled task throws CancelledError; halt() does not', async () => {
    await runTest(function* () {
      const t = spawn(function* () {
        yield* suspend(() => {}, { internal: true });
      });
      yield* yieldNow();
      t.cancel();
      let caught: unknown;
      try {
        yield* t;
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(CancelledError);
      expect((caught as RiocoError).code).toBe('CANCELLED');
      yield* t.halt();
    });
  });

  it('a task cancelled before it ever ran does not run its body', async () => {
    let ran = false;
    await runTest(function* () {
      const t = spawn(function* () {
        ran = true;
      });
      t.cancel();
      yield* t.halt();
    });
    expect(ran).toBe(false);
  });

  it('a fiber may cancel itself; it unwinds at its next suspension', async () => {
    const log: string[] = [];
    await runTest(function* () {
      const t: Task<void> = spawn(function* () {
        try {
          t.cancel();
          log.push('still running');
          yield* yieldNow();
          log.push('not reached');
        } finally {
          log.push('finally');
        }
      });
      yield* yieldNow();
      yield* t.halt();
    });
    expect(log).toEqual(['still running', 'finally']);
  });

  it('useAbortSignal aborts when the fiber is cancelled', async () => {
    let signal: AbortSignal | undefined;
    await runTest(function* () {
      const t = spawn(function* () {
        signal = useAbortSignal();
        yield* suspend(() => {}, { internal: true });
      });
      yield* yieldNow();
      expect(signal!.aborted).toBe(false);
      yield* t.halt();
      expect(signal!.aborted).toBe(true);
      expect(signal!.reason).toBeInstanceOf(CancelledError);
    });
  });

  it('wait(signal => promise) aborts the signal on cancel', async () => {
    let aborted = false;
    await runTest(function* () {
      const t = spawn(function* () {
        yield* wait(
          (signal) =>
            new Promise<void>((_, reject) => {
              signal.addEventListener('abort', () => {
                aborted = true;
                reject(new Error('aborted'));
              });
            }),
        );
      });
      yield* yieldNow();
      yield* t.halt();
    });
    expect(aborted).toBe(true);
  });

  it('Symbol.dispose cancels and Symbol.asyncDispose waits', async () => {
    const log: string[] = [];
    await runTest(function* () {
      {
        using _t = spawn(function* () {
          try {
            yield* suspend(() => {}, { internal: true });
          } finally {
            log.push('disposed');
          }
        });
        yield* yieldNow();
      }
    });
    expect(log).toEqual(['disposed']);
    const root = run(function* () {
      spawn(function* () {
        try {
          yield* suspend(() => {}, { internal: true });
        } finally {
          log.push('async disposed');
        }
      });
      yield* suspend(() => {}, { internal: false });
    });
    await new Promise((r) => setImmediate(r));
    await root[Symbol.asyncDispose]();
    expect(log).toEqual(['disposed', 'async disposed']);
  });
});

describe('errors', () => {
  it('a child error cancels its siblings and is rethrown from the parent, unwrapped, cause kept', async () => {
    const cause = new Error('root cause');
    const boom = new Error('boom', { cause });
    const log: string[] = [];
    const p = run(function* () {
      spawn(function* () {
        try {
          yield* suspend(() => {}, { internal: true });
        } finally {
          log.push('sibling cleaned up');
        }
      });
      spawn(function* () {
        yield* yieldNow();
        throw boom;
      });
      try {
        yield* suspend(() => {}, { internal: true });
      } finally {
        log.push('parent cleaned up');
      }
    });
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBe(boom);
    expect((err as Error).cause).toBe(cause);
    expect(log).toEqual(['sibling cleaned up', 'parent cleaned up']);
  });

  it('the last child failing after its parent body returned fails the parent', async () => {
    const boom = new Error('late child failure');
    const err = await run(function* () {
      spawn(function* () {
        yield* suspend<void>((r) => {
          setImmediate(() => r.fail(boom));
        });
      });
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBe(boom);
  });

  it('a joiner gets the original error', async () => {
    const boom = new TypeError('bad');
    const err = await run(function* () {
      yield* supervisor(function* () {
        const t = spawn(function* () {
          throw boom;
        });
        try {
          yield* t;
        } catch (e) {
          return e;
        }
      });
    }).then(
      () => 'no error',
      (e: unknown) => e,
    );
    // The supervisor scope returned the caught error as its value... run resolved.
    expect(err).toBe('no error');
    const caught = await run(function* () {
      return yield* supervisor(function* () {
        const t = spawn(function* () {
          throw boom;
        });
        try {
          yield* t;
          return undefined;
        } catch (e) {
          return e;
        }
      });
    });
    expect(caught).toBe(boom);
  });

  it('supervisor children fail alone', async () => {
    const done: string[] = [];
    const errors: unknown[] = [];
    await runTest(
      function* () {
        yield* supervisor(function* () {
          const bad = spawn(function* () {
            yield* yieldNow();
            throw new Error('job 1 failed');
          });
          spawn(function* () {
            yield* yieldNow();
            yield* yieldNow();
            done.push('job 2');
          });
          try {
            yield* bad;
          } catch (e) {
            errors.push(e);
          }
          done.push('scope');
        });
      },
    );
    expect(done.sort()).toEqual(['job 2', 'scope']);
    expect((errors[0] as Error).message).toBe('job 1 failed');
  });

  it('an unjoined supervised failure goes to the unhandledError hook', async () => {
    const seen: unknown[] = [];
    await runTest(
      function* () {
        yield* supervisor(function* () {
          spawn(function* () {
            throw new Error('nobody joins me');
          });
        });
      },
      { hooks: { unhandledError: (e) => seen.push(e) } },
    );
    expect((seen[0] as Error).message).toBe('nobody joins me');
  });

  it('an error thrown into a suspension surfaces at the yield* site', async () => {
    const v = await runTest(function* () {
      try {
        yield* suspend<number>((r) => r.fail(new RangeError('nope')), { internal: true });
        return 'no';
      } catch (e) {
        return (e as Error).name;
      }
    });
    expect(v).toBe('RangeError');
  });

  it('a register function that throws fails the wait', async () => {
    const v = await runTest(function* () {
      try {
        yield* suspend<number>(() => {
          throw new Error('register failed');
        });
        return 'no';
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(v).toBe('register failed');
  });
});

describe('bad input', () => {
  it('spawn outside a fiber', () => {
    expect(() => spawn(function* () {})).toThrowError(expect.objectContaining({ code: 'NO_CURRENT_FIBER' }));
  });

  it('spawn of a non-operation, bad priority, bad args', async () => {
    await runTest(function* () {
      expect(() => spawn(42 as never)).toThrow(InvalidArgumentError);
      expect(() => spawn(function* () {}, { priority: -1 })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      expect(() => spawn(function* () {}, { priority: 8 })).toThrow(/0 \(lowest\) to 7/);
      expect(() => spawn(function* () {}, { priority: 1.5 })).toThrow(InvalidArgumentError);
      expect(() => spawn(function* () {}, { name: 3 as never })).toThrow(InvalidArgumentError);
      expect(() => spawn(function* () {}, { args: 'x' as never })).toThrow(InvalidArgumentError);
    });
  });

  it('a spawned function that returns a non-operation fails that fiber with a clear error', async () => {
    const err = await run(function* () {
      yield* spawn((() => 5) as never);
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(/not an operation/);
  });

  it('bodies run through the iterator protocol they define: own next or [Symbol.iterator] on a generator function, or any iterable', async () => {
    // spawn() tells plain generators apart without reading their properties (see
    // isPlainGenerator); anything else must still be driven through its own methods.
    const calls: string[] = [];
    function* counted(): Operation<number> {
      yield* yieldNow();
      return 1;
    }
    const ownNext = counted.prototype as { next?: (this: Generator, v: unknown) => IteratorResult<unknown> };
    const builtinNext = Object.getPrototypeOf(ownNext).next as (this: Generator, v: unknown) => IteratorResult<unknown>;
    ownNext.next = function (this: Generator, v: unknown) {
      calls.push('own next');
      return builtinNext.call(this, v);
    };
    function* swapped(): Operation<number> {
      return 2;
    }
    (swapped.prototype as { [Symbol.iterator]?: () => Iterator<unknown> })[Symbol.iterator] = function () {
      calls.push('own iterator');
      return (function* () {
        yield* yieldNow();
        return 3;
      })();
    };
    const iterable: Operation<number> = {
      *[Symbol.iterator]() {
        calls.push('iterable');
        yield* yieldNow();
        return 4;
      },
    };
    await runTest(function* () {
      expect(yield* spawn(counted)).toBe(1);
      expect(yield* spawn(swapped)).toBe(3);
      expect(yield* spawn(iterable)).toBe(4);
      expect(yield* spawn(function* () {
        return 5;
      })).toBe(5);
    });
    // counted: next runs at the start and after the yield; swapped's own iterator replaced its body.
    expect(calls).toEqual(['own next', 'own next', 'own iterator', 'iterable']);
  });

  it('a plain yield (not yield*) is rejected at the yield site', async () => {
    // The type system already rejects this; the runtime must too.
    const err = await run((function* () {
      yield 5;
    }) as never).then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as RiocoError).code).toBe('INVALID_YIELD');
  });

  it('joining a task of another runtime', async () => {
    let foreign: Task<number> | undefined;
    const other = run(function* () {
      foreign = spawn(function* () {
        yield* suspend<number>((r) => {
          setImmediate(() => r.ok(1));
        });
        return 1;
      });
      return yield* foreign;
    });
    await new Promise((r) => setImmediate(r));
    await runTest(function* () {
      expect(() => {
        const it = foreign![Symbol.iterator]();
        it.next();
      }).toThrowError(expect.objectContaining({ code: 'FOREIGN_TASK' }));
      // The supported way: await it as a promise.
      expect(yield* wait(foreign!)).toBe(1);
    });
    await other;
  });

  it('a fiber cannot join itself', async () => {
    const err = await run(function* () {
      const me = spawn(function* (): Operation<number> {
        return yield* me;
      });
      yield* me;
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as RiocoError).code).toBe('INVALID_ARGUMENT');
  });
});

describe('current fiber', () => {
  it('reports id, name, priority, parent and state', async () => {
    await runTest(function* () {
      const root = currentFiber()!;
      expect(root.name).toBe('main');
      expect(root.state).toBe('running');
      const t = spawn(
        function* () {
          const me = currentFiber()!;
          return [me.name, me.priority, me.parentId];
        },
        { name: 'kid', priority: 6 },
      );
      expect(yield* t).toEqual(['kid', 6, root.id]);
    });
    expect(currentFiber()).toBeUndefined();
  });
});

describe('ensure', () => {
  it('runs cleanups last-in first-out after the body and children, on every outcome', async () => {
    const log: string[] = [];
    await runTest(function* () {
      const t = spawn(function* () {
        ensure(() => log.push('first registered'));
        ensure(() => log.push('second registered'));
        const forgotten = ensure(() => log.push('removed, never runs'));
        forgotten();
        forgotten();
        spawn(function* () {
          yield* yieldNow();
          log.push('child done');
        });
        log.push('body done');
      });
      yield* t;
      const c = spawn(function* () {
        ensure(() => log.push('cancelled fiber cleaned'));
        yield* suspend(() => {}, { internal: true });
      });
      yield* yieldNow();
      yield* c.halt();
    });
    expect(log).toEqual(['body done', 'child done', 'second registered', 'first registered', 'cancelled fiber cleaned']);
  });

  it('a throwing cleanup fails the fiber; ensure needs a fiber and a function', async () => {
    const err = await run(function* () {
      ensure(() => {
        throw new Error('cleanup failed');
      });
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as Error).message).toBe('cleanup failed');
    expect(() => ensure(() => {})).toThrowError(expect.objectContaining({ code: 'NO_CURRENT_FIBER' }));
    await runTest(function* () {
      expect(() => ensure(5 as never)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    });
  });
});

describe('resume handles', () => {
  it('a Resume works once: calls after the wait ended, or after the fiber parked again, do nothing', () =>
    runTest(function* () {
      const handles: Resume<number>[] = [];
      const wait = (): Operation<number> => suspend<number>((r) => void handles.push(r), { internal: true });
      const got: number[] = [];
      const t = spawn(function* () {
        got.push(yield* wait());
        got.push(yield* wait());
      });
      yield* yieldNow();
      handles[0].ok(1);
      handles[0].ok(99); // already resumed: ignored
      yield* yieldNow();
      expect(handles).toHaveLength(2);
      expect(handles[1]).not.toBe(handles[0]);
      handles[0].ok(98); // stale: the fiber waits on handles[1] now
      handles[0].fail(new Error('stale'));
      handles[1].ok(2);
      yield* t;
      expect(got).toEqual([1, 2]);
    }));

  it('reuseResume: one Resume per fiber, re-aimed at each park; still ignored once the wait ended', () =>
    runTest(function* () {
      const handles: Resume<number>[] = [];
      const wait = (): Operation<number> =>
        suspend<number>((r) => void handles.push(r), { internal: true, reuseResume: true });
      const plain = (): Operation<number> => suspend<number>((r) => void handles.push(r), { internal: true });
      const got: number[] = [];
      const t = spawn(function* () {
        got.push(yield* wait());
        got.push(yield* plain());
        got.push(yield* wait());
      });
      yield* yieldNow();
      handles[0].ok(1);
      yield* yieldNow();
      handles[0].ok(97); // the reused handle is aimed at a finished wait: the plain wait is untouched
      expect(got).toEqual([1]);
      handles[1].ok(2);
      yield* yieldNow();
      expect(handles[2]).toBe(handles[0]); // the same object, aimed at the new park
      handles[2].ok(3);
      handles[2].ok(96); // already resumed
      yield* t;
      expect(got).toEqual([1, 2, 3]);
      // Cancelling a fiber parked on such a wait: its teardown runs, the handle then does nothing.
      let torn = 0;
      let h: Resume<number> | undefined;
      const c = spawn(function* () {
        yield* suspend<number>(
          (r) => {
            h = r;
            return () => torn++;
          },
          { internal: true, reuseResume: true },
        );
      });
      yield* yieldNow();
      yield* c.halt();
      expect(torn).toBe(1);
      h!.ok(5); // nothing to resume
      expect(c.done).toBe(true);
    }));
});
