import { describe, it, expect } from 'vitest';
import { runTest, spawn, VirtualClock, type Operation } from '@rioco/core';
import {
  interval,
  sleep,
  sleepUntil,
  now,
  Interval,
  IntervalBusyError,
  IntervalStoppedError,
  type MissedTickBehavior,
} from '@rioco/timers';
import { codeOf } from './helpers.js';

/** Tick `n` times, stalling `stall(i)` ms after tick i; returns [scheduled, delivered] pairs. */
function* collect(ticker: Interval, n: number, stall: (i: number) => number): Operation<Array<[number, number]>> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    const scheduled = yield* ticker.tick();
    out.push([scheduled, now()]);
    const ms = stall(i);
    if (ms > 0) yield* sleep(ms);
  }
  return out;
}

function ticks(behavior: MissedTickBehavior, n: number, stall: (i: number) => number): Promise<Array<[number, number]>> {
  return runTest(
    function* () {
      using ticker = interval(10, { missedTick: behavior });
      return yield* collect(ticker, n, stall);
    },
    { clock: new VirtualClock() },
  );
}

describe('interval: a consumer that keeps up', () => {
  it('ticks at start, start+p, start+2p… (first tick immediate) and returns the scheduled time', async () => {
    for (const b of ['burst', 'delay', 'skip'] as const) {
      expect(await ticks(b, 5, () => 3)).toEqual([
        [0, 0],
        [10, 10],
        [20, 20],
        [30, 30],
        [40, 40],
      ]);
    }
  });

  it('a start in the future delays the first tick; the schedule does not drift', async () => {
    const clock = new VirtualClock(1_000);
    const got = await runTest(
      function* () {
        const ticker = interval(0.1, { start: 1_050 });
        const out: number[] = [];
        for (let i = 0; i < 1_001; i++) out.push(yield* ticker.tick());
        expect(now()).toBe(1_150);
        return out;
      },
      { clock },
    );
    expect(got[0]).toBe(1_050);
    expect(got[1_000]).toBe(1_150); // start + k·p multiplied out, not 1000 float additions
    expect(got[1]).toBe(1_050.1);
  });
});

describe('interval: missed ticks under a stalled consumer (exact virtual times)', () => {
  // Period 10, ticks due at 0, 10, 20, …; after the tick at 0 the consumer stalls 35 ms.
  const stallOnce = (i: number) => (i === 0 ? 35 : 0);

  it("'burst' delivers the missed ticks back to back, keeping the schedule", async () => {
    expect(await ticks('burst', 7, stallOnce)).toEqual([
      [0, 0],
      [10, 35],
      [20, 35],
      [30, 35],
      [40, 40],
      [50, 50],
      [60, 60],
    ]);
  });

  it("'delay' delivers one late tick, then restarts the schedule from then", async () => {
    expect(await ticks('delay', 5, stallOnce)).toEqual([
      [0, 0],
      [10, 35],
      [45, 45],
      [55, 55],
      [65, 65],
    ]);
  });

  it("'skip' delivers one late tick, then the next multiple of the period", async () => {
    expect(await ticks('skip', 5, stallOnce)).toEqual([
      [0, 0],
      [10, 35],
      [40, 40],
      [50, 50],
      [60, 60],
    ]);
  });

  it("'skip' on an exact multiple goes to the following one (strictly after now)", async () => {
    expect(await ticks('skip', 4, (i) => (i === 0 ? 30 : 0))).toEqual([
      [0, 0],
      [10, 30],
      [40, 40],
      [50, 50],
    ]);
  });

  it('a consumer late on every tick: each behaviour keeps its own schedule', async () => {
    const slow = () => 14; // 4 ms more than the period every time
    expect(await ticks('burst', 6, slow)).toEqual([
      [0, 0], [10, 14], [20, 28], [30, 42], [40, 56], [50, 70],
    ]);
    expect(await ticks('delay', 6, slow)).toEqual([
      [0, 0], [10, 14], [24, 28], [38, 42], [52, 56], [66, 70],
    ]);
    expect(await ticks('skip', 6, slow)).toEqual([
      [0, 0], [10, 14], [20, 28], [30, 42], [50, 56], [60, 70],
    ]);
  });
});

describe('interval: stop, dispose, cancellation', () => {
  it('stop() fails the waiting tick and every later one with INTERVAL_STOPPED; it leaves no timer', async () => {
    const clock = new VirtualClock();
    await runTest(
      function* () {
        const ticker = interval(100);
        yield* ticker.tick();
        const waiter = spawn(function* () {
          try {
            yield* ticker.tick();
            return 'ticked';
          } catch (e) {
            return `${(e as IntervalStoppedError).code}@${now()}`;
          }
        });
        yield* sleep(30);
        expect(ticker.stopped).toBe(false);
        ticker.stop();
        ticker.stop(); // idempotent
        expect(ticker.stopped).toBe(true);
        expect(yield* waiter).toBe('INTERVAL_STOPPED@30');
        let err: unknown;
        try {
          yield* ticker.tick();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(IntervalStoppedError);
      },
      { clock },
    );
    expect(clock.now()).toBe(30); // the stopped tick's timer was removed
  });

  it('`using` stops the interval at the end of the block', async () => {
    await runTest(
      function* () {
        let escaped: Interval;
        {
          using ticker = interval(5);
          escaped = ticker;
          yield* ticker.tick();
        }
        expect(escaped.stopped).toBe(true);
      },
      { clock: new VirtualClock() },
    );
  });

  it('cancelling the ticking fiber removes the timer; the interval stays usable', async () => {
    const clock = new VirtualClock();
    await runTest(
      function* () {
        const ticker = interval(100);
        yield* ticker.tick(); // 0
        const t = spawn(function* () {
          yield* ticker.tick();
        });
        yield* sleep(20);
        yield* t.halt();
        expect(now()).toBe(20);
        expect(yield* ticker.tick()).toBe(100);
        expect(now()).toBe(100);
      },
      { clock },
    );
  });

  it('an interval dropped without stop() leaves nothing pending (runTest leak check)', async () => {
    const clock = new VirtualClock();
    await runTest(
      function* () {
        const ticker = interval(1_000);
        yield* ticker.tick();
        // dropped: no tick is being waited for, so no timer exists
      },
      { clock },
    );
    expect(clock.now()).toBe(0);
  });

  it('two fibers waiting on one interval: the second gets INTERVAL_BUSY', async () => {
    await runTest(
      function* () {
        const ticker = interval(50, { start: 50 });
        const first = spawn(function* () {
          return yield* ticker.tick();
        });
        yield* sleep(1);
        let err: unknown;
        try {
          yield* ticker.tick();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(IntervalBusyError);
        expect((err as IntervalBusyError).code).toBe('INTERVAL_BUSY');
        expect(yield* first).toBe(50);
      },
      { clock: new VirtualClock() },
    );
  });
});

describe('interval: long runs and bad input', () => {
  it('a 1 s interval over 10 simulated hours: 36 001 exact ticks, in well under a second', async () => {
    const clock = new VirtualClock();
    const t0 = performance.now();
    const n = await runTest(
      function* () {
        const ticker = interval(1_000);
        let count = 0;
        for (;;) {
          const at = yield* ticker.tick();
          if (at !== count * 1_000 || now() !== at) throw new Error(`tick ${count} at ${at}, now ${now()}`);
          count++;
          if (at === 36_000_000) return count;
        }
      },
      { clock },
    );
    expect(n).toBe(36_001);
    expect(clock.now()).toBe(36_000_000);
    expect(performance.now() - t0).toBeLessThan(3_000);
  });

  it('ticks interleave deterministically with sleeps of other fibers', async () => {
    const run1 = async () => {
      const log: string[] = [];
      await runTest(
        function* () {
          spawn(function* () {
            const ticker = interval(7);
            for (let i = 0; i < 6; i++) log.push(`tick ${yield* ticker.tick()}`);
          });
          spawn(function* () {
            for (let i = 1; i <= 4; i++) {
              yield* sleepUntil(i * 7);
              log.push(`sleeper ${now()}`);
            }
          });
        },
        { clock: new VirtualClock() },
      );
      return log;
    };
    const a = await run1();
    expect(a).toEqual(await run1());
    expect(a).toEqual([
      'tick 0', 'tick 7', 'sleeper 7', 'tick 14', 'sleeper 14', 'tick 21', 'sleeper 21', 'tick 28', 'sleeper 28', 'tick 35',
    ]);
  });

  it('rejects a bad period or options with INVALID_ARGUMENT', async () => {
    await runTest(function* () {
      for (const bad of [0, -1, NaN, Infinity, '10', undefined]) {
        expect(codeOf(() => interval(bad as number)), String(bad)).toBe('INVALID_ARGUMENT');
      }
      expect(codeOf(() => interval(10, { missedTick: 'catch-up' as never }))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => interval(10, { start: NaN }))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => interval(10, { start: Infinity }))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => interval(10, { ref: 1 as never }))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => interval(10, 'fast' as never))).toBe('INVALID_ARGUMENT');
    });
    expect(codeOf(() => interval(10))).toBe('NO_CURRENT_FIBER');
  });
});

describe('interval on the real clock', () => {
  it('ticks are delivered no earlier than scheduled, on the schedule', async () => {
    await runTest(function* () {
      const ticker = interval(4);
      const t0 = yield* ticker.tick();
      for (let i = 1; i <= 5; i++) {
        const at = yield* ticker.tick();
        expect(at).toBeCloseTo(t0 + i * 4, 9);
        expect(now()).toBeGreaterThanOrEqual(at);
      }
      ticker.stop();
    });
  });
});
