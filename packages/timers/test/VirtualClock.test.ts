import { describe, it, expect } from 'vitest';
import {
  runTest,
  forEachSeed,
  spawn,
  suspend,
  wait,
  yieldNow,
  useScheduler,
  VirtualClock,
  type Operation,
} from '@rioco/core';
import { sleep, sleepUntil, now, timeout, TimeoutError } from '@rioco/timers';
import { codeOf } from './helpers.js';

/** A real (host) event a test can wait on without sleeping real time: a few turns of setImmediate. */
function hostTurns(n: number): Promise<void> {
  return new Promise((resolve) => {
    const step = (left: number) => (left === 0 ? resolve() : setImmediate(() => step(left - 1)));
    step(n);
  });
}

describe('VirtualClock: time moves only when every fiber is parked on timers', () => {
  it('runs hours of simulated time instantly, in deadline order', async () => {
    const clock = new VirtualClock();
    const order: number[] = [];
    const t0 = performance.now();
    await runTest(
      function* () {
        for (let i = 0; i < 2_000; i++) {
          const ms = ((i * 7_919) % 2_000) * 18_000; // spread over 10 hours
          spawn(function* () {
            yield* sleep(ms);
            order.push(now());
            yield* sleep(3_600_000); // and one more hour each
          });
        }
      },
      { clock },
    );
    expect(performance.now() - t0).toBeLessThan(3_000);
    expect(order).toHaveLength(2_000);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(clock.now()).toBe(1_999 * 18_000 + 3_600_000);
  });

  it('does not jump while a fiber waits on a real promise; jumps once it resolves', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    await runTest(
      function* () {
        spawn(function* () {
          yield* sleep(1_000);
          log.push(`sleeper@${now()}`);
        });
        spawn(function* () {
          yield* wait(hostTurns(20)); // real I/O stand-in: 20 turns of the host loop
          log.push(`promise resolved@${now()}`);
          yield* wait(hostTurns(5));
          log.push(`second promise@${now()}`);
        });
      },
      { clock },
    );
    expect(log).toEqual(['promise resolved@0', 'second promise@0', 'sleeper@1000']);
  });

  it('does not jump while an external callback wait or a held wake source is pending', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    await runTest(
      function* () {
        const s = useScheduler();
        spawn(function* () {
          yield* sleep(50);
          log.push(`sleeper@${now()}`);
        });
        // An external wait (the default kind of suspend): a callback from outside.
        yield* suspend<void>((r) => {
          setImmediate(() => r.ok());
        });
        log.push(`callback@${now()}`);
        // A held wake source (a socket, say) also keeps time still.
        const src = s.holdWakeSource();
        const released = spawn(function* () {
          yield* wait(hostTurns(10));
          log.push(`releasing@${now()}`);
          src.release();
        });
        yield* released;
      },
      { clock },
    );
    expect(log).toEqual(['callback@0', 'releasing@0', 'sleeper@50']);
  });

  it('a timeout around a pending promise does not fire early in virtual time', async () => {
    const clock = new VirtualClock();
    const v = await runTest(
      function* () {
        return yield* timeout(10, wait(hostTurns(30).then(() => 'real result')));
      },
      { clock },
    );
    expect(v).toBe('real result');
    expect(clock.now()).toBe(0);
  });

  it('does not move while any fiber is still runnable', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    await runTest(
      function* () {
        spawn(function* () {
          yield* sleep(1);
          log.push(`sleeper@${now()}`);
        });
        spawn(function* () {
          for (let i = 0; i < 1_000; i++) yield* yieldNow();
          log.push(`busy fiber done@${now()}`);
        });
      },
      { clock },
    );
    expect(log).toEqual(['busy fiber done@0', 'sleeper@1']);
  });

  it('replays the same interleaving of sleepers and timeouts every run', async () => {
    const once = async () => {
      const log: string[] = [];
      await runTest(
        function* () {
          for (let i = 0; i < 20; i++) {
            spawn(function* () {
              for (let k = 0; k < 5; k++) {
                let r = 'ok';
                try {
                  yield* timeout(30, sleep(((i * 13 + k * 7) % 5) * 10));
                } catch (e) {
                  if (!(e instanceof TimeoutError)) throw e;
                  r = 'timeout';
                }
                log.push(`${i}.${k}@${now()}:${r}`);
              }
            });
          }
        },
        { clock: new VirtualClock() },
      );
      return log;
    };
    const first = await once();
    expect(first).toHaveLength(100);
    expect(first.filter((l) => l.endsWith('timeout')).length).toBeGreaterThan(10);
    expect(await once()).toEqual(first);
  });

  it('under the seeded scheduler, every seed sees the same virtual times', async () => {
    await forEachSeed(
      100,
      function* (): Operation<void> {
        // forEachSeed shares one clock between seeds: work relative to where it stands.
        const t0 = now();
        const times: number[] = [];
        const tasks = [];
        for (let i = 0; i < 8; i++) {
          tasks.push(
            spawn(function* () {
              yield* sleepUntil(t0 + 100 * (i % 3));
              yield* yieldNow();
              yield* sleep(5);
              times.push(now() - t0);
            }),
          );
        }
        for (const t of tasks) yield* t;
        expect(times.sort((a, b) => a - b)).toEqual([5, 5, 5, 105, 105, 105, 205, 205]);
      },
      { clock: new VirtualClock() },
    );
  });
});

describe('VirtualClock: construction', () => {
  it('rejects a start that is not a finite number', () => {
    for (const bad of [NaN, Infinity, -Infinity, '0']) {
      expect(codeOf(() => new VirtualClock(bad as number)), String(bad)).toBe('INVALID_ARGUMENT');
    }
  });

  it('never moves backwards, nor to infinity', () => {
    const c = new VirtualClock(10);
    c.advanceTo(5);
    expect(c.now()).toBe(10);
    c.advanceTo(Infinity);
    expect(c.now()).toBe(10);
    c.advanceTo(20);
    expect(c.now()).toBe(20);
    expect(c.virtual).toBe(true);
  });
});
