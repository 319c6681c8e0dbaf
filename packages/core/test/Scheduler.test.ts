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
  DeadlockError,
  LockCycleError,
  LeakError,
  VirtualClock,
  Priority,
  socketReactor,
  operationMode,
  OperationMode,
  type FiberInfo,
  type Resume,
  type Operation,
} from '@rioco/core';

describe('priorities', () => {
  it('ready fibers run in priority order, FIFO within a priority', async () => {
    const order: string[] = [];
    await runTest(function* () {
      const mk = (name: string, priority: number) =>
        spawn(
          function* () {
            order.push(name);
          },
          { priority, name },
        );
      mk('low1', Priority.low);
      mk('high1', Priority.high);
      mk('normal1', Priority.normal);
      mk('high2', Priority.high);
      mk('low2', Priority.low);
    });
    expect(order).toEqual(['high1', 'high2', 'normal1', 'low1', 'low2']);
  });

  it('aging: a low-priority fiber still runs while high-priority fibers stay busy', async () => {
    let lowRanAt = -1;
    let highSteps = 0;
    await runTest(function* () {
      let stop = false;
      for (let i = 0; i < 4; i++) {
        spawn(
          function* () {
            while (!stop) {
              highSteps++;
              yield* yieldNow();
            }
          },
          { priority: Priority.highest },
        );
      }
      spawn(
        function* () {
          lowRanAt = highSteps;
          stop = true;
        },
        { priority: Priority.lowest },
      );
    });
    expect(lowRanAt).toBeGreaterThan(0);
    // Bounded wait: 7 levels * aging step (16 pops) plus the queue length.
    expect(lowRanAt).toBeLessThan(200);
  });

  it('children inherit the parent priority', async () => {
    await runTest(function* () {
      const t = spawn(
        function* () {
          return yield* spawn(function* () {
            return useScheduler().current()!.priority;
          });
        },
        { priority: 6 },
      );
      expect(yield* t).toBe(6);
    });
  });
});

describe('operation budget', () => {
  it('a fiber whose waits are always satisfied synchronously still lets others run', async () => {
    const log: string[] = [];
    await runTest(function* () {
      let other = false;
      spawn(function* () {
        other = true;
        log.push('other ran');
      });
      // Always-ready "channel": resumes synchronously every time.
      let spins = 0;
      while (!other) {
        yield* suspend<number>((r) => r.ok(1), { internal: true });
        spins++;
      }
      log.push(`spins ${spins}`);
      expect(spins).toBeLessThanOrEqual(64);
    });
    expect(log[0]).toBe('other ran');
  });
});

describe('seeded scheduler', () => {
  function* interleaving(): Operation<string> {
    const out: string[] = [];
    const ts = ['a', 'b', 'c'].map((n) =>
      spawn(function* () {
        for (let i = 0; i < 3; i++) {
          out.push(n);
          yield* yieldNow();
        }
      }),
    );
    for (const t of ts) yield* t;
    return out.join('');
  }

  it('the same seed gives the same order, different seeds explore others', async () => {
    const a = await run(interleaving, { seed: 7 });
    const b = await run(interleaving, { seed: 7 });
    expect(a).toBe(b);
    const seen = new Set<string>();
    for (let s = 1; s <= 30; s++) seen.add(await run(interleaving, { seed: s }));
    expect(seen.size).toBeGreaterThan(5);
  });

  it('RIOCO_SEED selects the seeded scheduler', async () => {
    process.env.RIOCO_SEED = '42';
    try {
      const k = await run(function* () {
        return [useScheduler().kind, useScheduler().seed];
      });
      expect(k).toEqual(['seeded', 42]);
    } finally {
      delete process.env.RIOCO_SEED;
    }
    process.env.RIOCO_SEED = 'x';
    try {
      expect(() => run(function* () {})).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    } finally {
      delete process.env.RIOCO_SEED;
    }
  });

  it('forEachSeed names the failing seed', async () => {
    const err = await forEachSeed(50, function* () {
      const out: number[] = [];
      const a = spawn(function* () {
        out.push(1);
      });
      const b = spawn(function* () {
        out.push(2);
      });
      yield* a;
      yield* b;
      if (out[0] === 2) throw new Error('b ran first');
    }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/failed with seed \d+ \(replay: RIOCO_SEED=\d+\): b ran first/);
  });
});

describe('fiber-locals', () => {
  const requestId = new FiberLocal<string>('requestId', '-');

  it('children inherit the value at spawn time; changes stay local', async () => {
    await runTest(function* () {
      expect(requestId.get()).toBe('-');
      requestId.set('r1');
      const child = spawn(function* () {
        const seen = requestId.get();
        requestId.set('child');
        yield* yieldNow();
        return [seen, requestId.get()];
      });
      requestId.set('r2');
      expect(yield* child).toEqual(['r1', 'child']);
      expect(requestId.get()).toBe('r2');
      const withLocal = spawn(
        function* () {
          return requestId.get();
        },
        { locals: [[requestId, 'given']] },
      );
      expect(yield* withLocal).toBe('given');
    });
    expect(requestId.get()).toBe('-');
    expect(() => requestId.set('x')).toThrowError(expect.objectContaining({ code: 'NO_CURRENT_FIBER' }));
  });
});

describe('deadlock report', () => {
  it('names every parked fiber and what it waits on', async () => {
    const cleaned: string[] = [];
    const err = await run(function* () {
      const waitFor = (label: string) =>
        suspend<void>(() => {}, { reason: label, internal: true });
      spawn(
        function* () {
          try {
            yield* waitFor('channel.recv');
          } finally {
            cleaned.push('consumer');
          }
        },
        { name: 'consumer' },
      );
      yield* waitFor('mutex.lock');
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeadlockError);
    const d = err as DeadlockError;
    expect(d.code).toBe('DEADLOCK');
    expect(d.fibers.map((f) => [f.name, f.waitingOn])).toEqual([
      ['main', 'mutex.lock'],
      ['consumer', 'channel.recv'],
    ]);
    expect(d.message).toMatch(/consumer: waiting on channel.recv/);
    expect(d.fibers.map((f) => f.waitingFor)).toEqual([[], []]);
    expect(d.cycles).toEqual([]);
    expect(d.message).not.toMatch(/cycle|blocked by/);
    expect(cleaned).toEqual(['consumer']);
  });

  /** Park on `target` until cancelled (no one resumes it). */
  const holdOn = (target: object, reason = 'lock') => suspend<void>(() => {}, { reason, target, internal: true });
  const deadlock = (body: () => Operation<unknown>) =>
    run(body).then(
      () => {
        throw new Error('expected a deadlock');
      },
      (e: unknown) => e as DeadlockError,
    );

  it('follows the holders of wait targets and names the wait-for cycles', async () => {
    const ids: Record<string, number> = {};
    const l1 = { name: 'L1', holder: 0 };
    const l2 = { name: 'L2', holders: [] as number[] };
    const own = { name: 'own', holder: 0 };
    const d = await deadlock(function* () {
      const a = spawn(function* () { yield* holdOn(l2); }, { name: 'a' });
      const b = spawn(function* () { yield* holdOn(l1); }, { name: 'b' });
      const c = spawn(function* () { yield* holdOn(own); }, { name: 'c' });
      Object.assign(ids, { a: a.id, b: b.id, c: c.id });
      l1.holder = a.id; // a holds L1 and waits for L2, which b holds: a lock-order inversion
      l2.holders = [b.id, 999_999]; // a holder that is not parked adds no edge to a cycle
      own.holder = c.id; // c waits for a lock it holds itself
      yield* a;
    });
    expect(d).toBeInstanceOf(DeadlockError);
    const by = new Map(d.fibers.map((f) => [f.name, f.waitingFor]));
    expect(by.get('a')).toEqual([ids.b, 999_999]);
    expect(by.get('b')).toEqual([ids.a]);
    expect(by.get('c')).toEqual([ids.c]);
    expect(by.get('main')).toEqual([ids.a]); // it joins a
    expect(d.cycles).toEqual([[ids.a, ids.b], [ids.c]]);
    expect(d.message).toContain(`#${ids.a} a: waiting on lock (L2), blocked by #${ids.b}, #999999`);
    expect(d.message).toContain(`cycle: #${ids.a} a → #${ids.b} b → #${ids.a} a`);
    expect(d.message).toContain(`cycle: #${ids.c} c → #${ids.c} c`);
  });

  it('cycles through a join and through a parent waiting for its children', async () => {
    const ids: Record<string, number> = {};
    const heldByMain = { name: 'M', holder: 0 };
    const heldByParent = { name: 'P', holder: 0 };
    const d = await deadlock(function* () {
      ids.main = heldByMain.holder = (currentFiber() as FiberInfo).id;
      const parent = spawn(
        function* () {
          ids.parent = heldByParent.holder = (currentFiber() as FiberInfo).id;
          // Its body ends at once; it then waits for the child, which waits for it.
          ids.child = spawn(function* () { yield* holdOn(heldByParent); }, { name: 'child' }).id;
        },
        { name: 'parent' },
      );
      const worker = spawn(function* () { yield* holdOn(heldByMain); }, { name: 'worker' });
      ids.worker = worker.id;
      yield* yieldNow();
      yield* worker; // main joins the worker, which waits for a lock main holds
      yield* parent;
    });
    expect(d.cycles).toEqual([[ids.main, ids.worker], [ids.parent, ids.child]]);
    const by = new Map(d.fibers.map((f) => [f.name, f.waitingFor]));
    expect(by.get('parent')).toEqual([ids.child]);
    expect(by.get('main')).toEqual([ids.worker]);
  });

  it('a ring too long for a spread argument list (200k) still gives its one cycle', () => {
    const n = 200_000;
    const ring = Array.from({ length: n }, (_, i) => ({ id: n - i, name: `f${n - i}`, waitingOn: 'lock', waitingFor: [i === n - 1 ? n : n - i - 1] }));
    const err = new DeadlockError(ring);
    expect(err.cycles).toHaveLength(1);
    expect(err.cycles[0]).toHaveLength(n);
    expect(err.cycles[0][0]).toBe(1); // rotated to its smallest id
  });

  it('a target whose holder getter throws adds no edge', async () => {
    const target = {
      get holder(): number {
        throw new Error('not now');
      },
    };
    const d = await deadlock(function* () {
      spawn(function* () { yield* holdOn(target); }, { name: 'odd' });
      yield* yieldNow();
      yield* holdOn({});
    });
    expect(d.fibers.find((f) => f.name === 'odd')?.waitingFor).toEqual([]);
    expect(d.cycles).toEqual([]);
  });

  it('a ring of 100k waits: found without deep recursion, printed in part', () => {
    const n = 100_000;
    const ring = Array.from({ length: n }, (_, i) => ({ id: i + 1, name: `f${i + 1}`, waitingOn: 'lock', waitingFor: [((i + 1) % n) + 1] }));
    const err = new DeadlockError(ring);
    expect(err.cycles).toHaveLength(1);
    expect(err.cycles[0]).toHaveLength(n);
    expect(err.cycles[0].slice(0, 3)).toEqual([1, 2, 3]);
    expect(err.message).toMatch(/cycle: #1 f1 → #2 f2 → .* → #20 f20 → … 99980 more → #1 f1$/m);
  });

  it('lockCycles: a join that closes a cycle fails at once; so does a child waiting for its waiting parent', () =>
    runTest(
      function* () {
        const me = (currentFiber() as FiberInfo).id;
        const mine = { name: 'mine', holder: me };
        const worker = spawn(function* () { yield* holdOn(mine); }, { name: 'worker' });
        yield* yieldNow(); // the worker parks: main holds what it waits for, but runs
        let err: unknown;
        try {
          yield* worker; // main would wait for the worker, which waits for main
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(LockCycleError);
        expect((err as LockCycleError).cycles).toEqual([[me, worker.id]]);
        expect((err as LockCycleError).fibers.map((f) => f.waitingFor)).toEqual([[worker.id], [me]]);
        yield* worker.halt();

        // A parent whose body has ended waits for its children; a child that then waits
        // for a lock the parent holds would wait forever.
        const seen: unknown[] = [];
        const parent = spawn(function* () {
          const held = { holder: (currentFiber() as FiberInfo).id };
          spawn(function* () {
            yield* yieldNow(); // the parent's body ends first
            try {
              yield* holdOn(held);
            } catch (e) {
              seen.push(e);
            }
          });
        });
        yield* parent;
        expect(seen).toHaveLength(1);
        expect(seen[0]).toBeInstanceOf(LockCycleError);
        expect((seen[0] as LockCycleError).cycles[0]).toHaveLength(2);
      },
      { lockCycles: true },
    ));

  it('lockCycles must be a boolean', () => {
    expect(() => run(function* () {}, { lockCycles: 'yes' as never })).toThrow(/lockCycles must be a boolean/);
  });

  it('no false report while an external wake source is pending', async () => {
    const v = await runTest(function* () {
      const inner = spawn(function* () {
        return yield* suspend<number>((r) => {
          setImmediate(() => r.ok(9));
        });
      });
      return yield* inner;
    });
    expect(v).toBe(9);
  });

  it('no false report while a wake source is held', async () => {
    const v = await runTest(function* () {
      const s = useScheduler();
      const src = s.holdWakeSource();
      let resume!: Resume<number>;
      setImmediate(() => {
        resume.ok(4);
        src.release();
      });
      return yield* suspend<number>((r) => {
        resume = r;
      }, { internal: true });
    });
    expect(v).toBe(4);
  });
});

describe('timers on the scheduler (virtual clock)', () => {
  it('equal deadlines fire in order; time jumps when idle', async () => {
    const clock = new VirtualClock();
    const order: number[] = [];
    await runTest(
      function* () {
        const s = useScheduler();
        const sleepMs = (ms: number) =>
          suspend<void>(
            (r) => {
              const t = s.setTimer(s.clock.now() + ms, () => r.ok());
              return () => t.cancel();
            },
            { reason: 'sleep', internal: true },
          );
        for (let i = 0; i < 5; i++) {
          spawn(function* () {
            yield* sleepMs(3_600_000);
            order.push(i);
          });
        }
        const canceled = spawn(function* () {
          yield* sleepMs(10);
          order.push(99);
        });
        yield* yieldNow();
        yield* canceled.halt();
      },
      { clock },
    );
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(clock.now()).toBe(3_600_000);
  });

  it('virtual time keeps moving past timers whose callbacks wake no fiber', async () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    await runTest(
      function* () {
        const s = useScheduler();
        for (const at of [10, 20, 30]) s.setTimer(at, () => fired.push(at));
        yield* suspend<void>(
          (r) => {
            const t = s.setTimer(100, () => r.ok());
            return () => t.cancel();
          },
          { internal: true },
        );
      },
      { clock },
    );
    expect(fired).toEqual([10, 20, 30]);
    expect(clock.now()).toBe(100);
  });

  it('a root body waiting only on an unref\'d timer still advances under a virtual clock', async () => {
    const clock = new VirtualClock();
    await runTest(
      function* () {
        const s = useScheduler();
        yield* suspend<void>(
          (r) => {
            const t = s.setTimer(5_000, () => r.ok(), { ref: false });
            return () => t.cancel();
          },
          { internal: true },
        );
      },
      { clock },
    );
    expect(clock.now()).toBe(5_000);
  });

  it('bad timer input', async () => {
    await runTest(function* () {
      const s = useScheduler();
      expect(() => s.setTimer(NaN, () => {})).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      expect(() => s.setTimer(1, 5 as never)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    });
  });
});

describe('runTest leak checks', () => {
  it('fails a test that leaves a timer pending', async () => {
    const err = await runTest(function* () {
      useScheduler().setTimer(1e9, () => {});
    }, { clock: new VirtualClock() }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LeakError);
    expect((err as LeakError).message).toMatch(/1 timer\(s\) still pending/);
  });

  it('fails a test that leaves a wake source held', async () => {
    const err = await runTest(function* () {
      useScheduler().holdWakeSource(false);
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LeakError);
    expect((err as LeakError).message).toMatch(/wake source/);
  });

  it.runIf(socketReactor() !== null)('fails a test that leaves a socket registered with the native reactor', async () => {
    const reactor = socketReactor()!;
    let token = 0;
    const err = await runTest(function* () {
      token = reactor.register({ onReadiness: () => {} });
    }).then(
      () => null,
      (e: unknown) => e,
    );
    reactor.unregister(token);
    expect(err).toBeInstanceOf(LeakError);
    expect((err as LeakError).message).toMatch(/1 socket\(s\) still open/);
    // Sockets open before the test are not the test's: only new ones count.
    const before = reactor.register({ onReadiness: () => {} });
    await runTest(function* () {
      reactor.unregister(reactor.register({ onReadiness: () => {} }));
    });
    reactor.unregister(before);
  });
});

describe('hooks', () => {
  it('see spawn, switch, park, wake and exit', async () => {
    const events: string[] = [];
    const name = (f: FiberInfo) => f.name ?? `#${f.id}`;
    await runTest(
      function* () {
        const t = spawn(
          function* () {
            yield* suspend<void>((r) => {
              setImmediate(() => r.ok());
            }, { reason: 'io' });
          },
          { name: 'kid' },
        );
        yield* t;
      },
      {
        hooks: {
          spawn: (f) => events.push(`spawn ${name(f)}`),
          park: (f, reason) => events.push(`park ${name(f)} ${reason}`),
          wake: (f) => events.push(`wake ${name(f)}`),
          exit: (f, o) => events.push(`exit ${name(f)} ${o}`),
        },
      },
    );
    expect(events).toEqual([
      'spawn main',
      'spawn kid',
      'park main join',
      'park kid io',
      'wake kid',
      'exit kid ok',
      'wake main',
      'exit main ok',
    ]);
  });

  it('fibers() lists the live tree with wait reasons', async () => {
    await runTest(function* () {
      const s = useScheduler();
      const t = spawn(function* () {
        yield* suspend<void>((r) => {
          setImmediate(() => r.ok());
        }, { reason: 'io' });
      }, { name: 'kid' });
      yield* yieldNow();
      const list = s.fibers().map((f) => [f.name, f.state, f.waitingOn]);
      expect(list).toEqual([
        ['main', 'running', undefined],
        ['kid', 'parked', 'io'],
      ]);
      yield* t;
    });
  });
});

describe('operationMode()', () => {
  it('is fast under the default scheduler, a scheduling point under the seeded one, none outside', async () => {
    expect(operationMode()).toBe(OperationMode.none);
    const seen: Record<string, number[]> = { plain: [], seeded: [] };
    const body = (key: string) =>
      function* (): Operation<void> {
        for (let i = 0; i < 5; i++) {
          seen[key].push(operationMode());
          yield* yieldNow(); // the two runtimes take turns on the event loop
        }
        // A hook of the running loop sees the loop's mode too; resumes come from outside.
        yield* suspend<void>((r) => {
          setImmediate(() => {
            seen[key].push(operationMode());
            r.ok();
          });
        });
      };
    const plain = run(body('plain'), { seed: undefined });
    const seeded = run(body('seeded'), { seed: 7 });
    expect(operationMode()).toBe(OperationMode.none); // started, not running yet
    await Promise.all([plain, seeded]);
    const plainMode = process.env.RIOCO_SEED ? OperationMode.schedulingPoint : OperationMode.fast;
    expect(seen.plain).toEqual([...Array(5).fill(plainMode), OperationMode.none]);
    expect(seen.seeded).toEqual([...Array(5).fill(OperationMode.schedulingPoint), OperationMode.none]);
    expect(operationMode()).toBe(OperationMode.none);
  });
});
