// The timer queue driver lives in @rioco/core (internal/timerQueue.ts, Clock.ts) so that
// sibling packages share it; these tests drive it through the public Scheduler.setTimer
// and the Clock interface.
import { describe, it, expect, vi, afterEach } from 'vitest';
import fc from 'fast-check';
import {
  runTest,
  suspend,
  useScheduler,
  RealClock,
  VirtualClock,
  type Clock,
  type TimerHandle,
  type Resume,
  type Operation,
} from '@rioco/core';
import { sleep, sleepUntil, now } from '@rioco/timers';

/**
 * A fiber waits on a Bell that timer callbacks ring. Under a VirtualClock every batch of
 * timers must wake some fiber: the runtime re-checks for idleness (and moves time on)
 * only when a fiber ran (see the report on runtime.ts checkIdle).
 */
class Bell {
  private waiter: Resume<void> | null = null;
  private rung = false;
  ring = (): void => {
    const w = this.waiter;
    this.waiter = null;
    if (w) w.ok();
    else this.rung = true;
  };
  *wait(): Operation<void> {
    if (this.rung) {
      this.rung = false;
      return;
    }
    yield* suspend<void>(
      (r) => {
        this.waiter = r;
        return () => {
          this.waiter = null;
        };
      },
      { reason: 'bell', internal: true },
    );
  }
}

describe('timer queue: order and cancellation (property)', () => {
  it('fires exactly the timers not cancelled, in (deadline, set) order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            at: fc.integer({ min: 0, max: 40 }).map((n) => n / 4), // many ties, some fractions
            cancelBefore: fc.boolean(),
            cancelOther: fc.option(fc.nat(), { nil: undefined }),
          }),
          { minLength: 1, maxLength: 60 },
        ),
        async (plan) => {
          const fired: number[] = [];
          const cancelled = new Set<number>();
          await runTest(
            function* () {
              const s = useScheduler();
              const bell = new Bell();
              const handles: TimerHandle[] = [];
              let done = false;
              plan.forEach((p, i) => {
                handles.push(
                  s.setTimer(p.at, () => {
                    fired.push(i);
                    if (p.cancelOther !== undefined) {
                      const j = p.cancelOther % plan.length;
                      if (!handles[j].settled) cancelled.add(j);
                      handles[j].cancel();
                    }
                    bell.ring();
                  }),
                );
              });
              plan.forEach((p, i) => {
                if (p.cancelBefore) {
                  handles[i].cancel();
                  cancelled.add(i);
                }
              });
              s.setTimer(1_000, () => {
                done = true;
                bell.ring();
              });
              while (!done) yield* bell.wait();
              for (const h of handles) expect(h.settled).toBe(true);
            },
            { clock: new VirtualClock() },
          );
          const expected = plan
            .map((p, i) => ({ at: p.at, i }))
            .filter(({ i }) => !cancelled.has(i))
            .sort((a, b) => a.at - b.at || a.i - b.i)
            .map(({ i }) => i);
          expect(fired).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a timer set by a callback for an instant already due runs after the current batch', async () => {
    const order: string[] = [];
    await runTest(
      function* () {
        const s = useScheduler();
        const bell = new Bell();
        s.setTimer(10, () => {
          order.push('a');
          s.setTimer(5, () => {
            order.push('c (set by a, already due)');
            bell.ring();
          });
        });
        s.setTimer(10, () => {
          order.push('b');
          bell.ring();
        });
        yield* bell.wait(); // woken by b
        yield* bell.wait(); // woken by c
        expect(now()).toBe(10);
      },
      { clock: new VirtualClock() },
    );
    expect(order).toEqual(['a', 'b', 'c (set by a, already due)']);
  });

  it('handles report settled once fired or cancelled; cancel is idempotent', async () => {
    await runTest(
      function* () {
        const s = useScheduler();
        const a = s.setTimer(10, () => {});
        const b = s.setTimer(6, () => {});
        expect([a.settled, b.settled]).toEqual([false, false]);
        b.cancel();
        b.cancel();
        expect(b.settled).toBe(true);
        yield* sleep(10); // fires in the same batch as `a`
        expect(a.settled).toBe(true);
        a.cancel(); // after firing: no effect
      },
      { clock: new VirtualClock() },
    );
  });

  it('a callback that throws does not stop the others; the error is rethrown asynchronously', async () => {
    const saved = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    const seen: unknown[] = [];
    const onErr = (e: unknown) => void seen.push(e);
    process.on('uncaughtException', onErr);
    try {
      const order: string[] = [];
      const boom = new Error('callback bug');
      await runTest(
        function* () {
          const s = useScheduler();
          s.setTimer(10, () => {
            order.push('first');
            throw boom;
          });
          s.setTimer(10, () => order.push('second'));
          yield* sleep(10);
          order.push('fiber woke');
        },
        { clock: new VirtualClock() },
      );
      await new Promise((r) => setImmediate(r));
      expect(order).toEqual(['first', 'second', 'fiber woke']);
      expect(seen).toEqual([boom]);
    } finally {
      process.off('uncaughtException', onErr);
      for (const l of saved) process.on('uncaughtException', l);
    }
  });
});

describe('timer queue on a clock whose host timer fires early', () => {
  /** A real clock whose wake-ups come up to 3 ms early (Node's timers can, by < 1 ms). */
  class EarlyClock implements Clock {
    readonly virtual = false;
    wakeups = 0;
    private h: ReturnType<typeof setTimeout> | undefined;
    now(): number {
      return performance.now();
    }
    arm(at: number | null, fire: () => void): void {
      if (this.h !== undefined) clearTimeout(this.h);
      this.h = undefined;
      if (at === null) return;
      this.h = setTimeout(() => {
        this.h = undefined;
        this.wakeups++;
        fire();
      }, Math.max(0, at - performance.now() - 3));
    }
  }

  it('re-arms after a wake-up with nothing due: every sleep ends, none early', async () => {
    const clock = new EarlyClock();
    const late: number[] = [];
    await runTest(
      function* () {
        const t0 = now();
        for (let i = 0; i < 10; i++) {
          const at = t0 + 10 * (i + 1);
          yield* sleepUntil(at);
          late.push(now() - at);
        }
      },
      { clock },
    );
    expect(late).toHaveLength(10);
    for (const l of late) expect(l).toBeGreaterThanOrEqual(0);
    expect(clock.wakeups).toBeGreaterThan(10); // early wake-ups happened and were re-armed
  });
});

describe('RealClock', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** arm() applies its last request in a microtask: let it run. */
  const applied = () => new Promise<void>((r) => queueMicrotask(r));

  it('never hands the host a delay it would overflow (Node turns > 2^31-1 ms into 1 ms)', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const c = new RealClock();
    const fire = vi.fn();
    c.arm(performance.now() + 2 ** 40, fire, true);
    await applied();
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0][1]).toBe(2 ** 31 - 1);
    c.arm(null, fire, false);
    await applied();
    expect(fire).not.toHaveBeenCalled();
  });

  it('coalesces a burst of arm() calls into one host timer, and none when it ends disarmed', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const clear = vi.spyOn(globalThis, 'clearTimeout');
    const c = new RealClock();
    const fire = vi.fn();
    const t = performance.now() + 60_000;
    for (let i = 0; i < 100; i++) c.arm(t - i, fire, true);
    await applied();
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0][1]).toBeGreaterThan(59_000);
    // A timer added and removed in the same burst never reaches the host.
    c.arm(t - 200, fire, true);
    c.arm(t - 99, fire, true);
    await applied();
    expect(spy).toHaveBeenCalledTimes(1);
    expect(clear).not.toHaveBeenCalled();
    c.arm(null, fire, false);
    await applied();
    expect(clear).toHaveBeenCalledTimes(1);
  });

  it('keeps one host timer per deadline; a ref change flips the same timer', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const c = new RealClock();
    const fire = vi.fn();
    const at = performance.now() + 60_000;
    c.arm(at, fire, true);
    await applied();
    c.arm(at, fire, false);
    await applied();
    expect(spy).toHaveBeenCalledTimes(1);
    const handle = spy.mock.results[0].value as NodeJS.Timeout;
    expect(handle.hasRef()).toBe(false);
    c.arm(at, fire, true);
    await applied();
    expect(handle.hasRef()).toBe(true);
    c.arm(at + 1, fire, true);
    await applied();
    expect(spy).toHaveBeenCalledTimes(2);
    c.arm(null, fire, false);
    await applied();
  });

  it('after its host timer fired, arming the same deadline again sets a new host timer', async () => {
    // The regression: a host timer that fired before `at` (nothing due yet) left the clock
    // believing it was still armed for `at`, so the runtime's re-arm did nothing: a hang.
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const c = new RealClock();
    const at = performance.now() + 60_000;
    let rearmed = 0;
    const fire = () => {
      rearmed++;
      c.arm(at, fire, true); // what the runtime does when nothing was due
    };
    c.arm(at, fire, true);
    await applied();
    const hostCallback = spy.mock.calls[0][0];
    hostCallback(); // the host timer fires (early)
    await applied();
    expect(rearmed).toBe(1);
    expect(spy).toHaveBeenCalledTimes(2);
    c.arm(null, fire, false);
    await applied();
  });
});
