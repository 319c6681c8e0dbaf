import { describe, it, expect } from 'vitest';
import { runTest, spawn, VirtualClock } from '@rioco/core';
import { sleep, interval, now } from '@rioco/timers';
import { runFixture } from './fixtures/run-fixture.js';

describe('unref timers: daemons end with the program', () => {
  it('children parked only on unref\'d timers are cancelled once the root body and ref\'d work are done', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    await runTest(
      function* () {
        spawn(function* () {
          try {
            for (;;) {
              yield* sleep(100, { ref: false });
              log.push(`daemon@${now()}`);
            }
          } finally {
            log.push(`daemon cancelled@${now()}`);
          }
        });
        spawn(function* () {
          yield* sleep(350); // ref'd: the program is not done before this
          log.push(`worker done@${now()}`);
        });
      },
      { clock },
    );
    expect(log).toEqual(['daemon@100', 'daemon@200', 'daemon@300', 'worker done@350', 'daemon cancelled@350']);
    expect(clock.now()).toBe(350); // time never moved to the daemon's next sleep (400)
  });

  it('an unref\'d interval is a daemon too; a ref\'d one keeps the program going', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    await runTest(
      function* () {
        spawn(function* () {
          using ticker = interval(40, { ref: false });
          try {
            for (;;) log.push(`unref tick ${yield* ticker.tick()}`);
          } finally {
            log.push(`unref ticker cancelled@${now()}`);
          }
        });
        spawn(function* () {
          using ticker = interval(50);
          for (let i = 0; i < 3; i++) log.push(`ref tick ${yield* ticker.tick()}`);
        });
      },
      { clock },
    );
    expect(log).toEqual([
      'unref tick 0', 'ref tick 0', 'unref tick 40', 'ref tick 50', 'unref tick 80', 'ref tick 100',
      'unref ticker cancelled@100',
    ]);
  });

  it('the root body may itself use unref\'d timers while ref\'d work keeps the program alive', async () => {
    const clock = new VirtualClock();
    await runTest(
      function* () {
        spawn(function* () {
          yield* sleep(1_000);
        });
        yield* sleep(10, { ref: false });
        expect(now()).toBe(10);
      },
      { clock },
    );
    expect(clock.now()).toBe(1_000);
  });

  it('on the real clock, a daemon sleeping a minute does not hold the program', async () => {
    const t0 = performance.now();
    let cancelled = false;
    await runTest(function* () {
      spawn(function* () {
        try {
          yield* sleep(60_000, { ref: false });
        } finally {
          cancelled = true;
        }
      });
      yield* sleep(5);
    });
    expect(cancelled).toBe(true);
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});

describe('unref timers: the process exits', () => {
  it('a process whose only pending timers are unref\'d daemons exits at once, with their cleanup run', async () => {
    const r = await runFixture('daemons-exit.ts');
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 4)).toEqual(['root body done', 'daemon ticker cancelled', 'daemon sleep cancelled', 'resolved']);
    expect(lines[4]).toMatch(/^exit 0 after \d+ ms$/);
    expect(Number(/after (\d+)/.exec(lines[4])![1])).toBeLessThan(5_000); // not the daemon's minute
    expect(r.code).toBe(0);
  });

  it('control: a ref\'d sleep keeps the process alive until it ends', async () => {
    const r = await runFixture('ref-keeps-alive.ts');
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 2)).toEqual(['child slept', 'resolved']);
    expect(Number(/after (\d+)/.exec(lines[2])![1])).toBeGreaterThanOrEqual(300);
    expect(r.code).toBe(0);
  });
});
