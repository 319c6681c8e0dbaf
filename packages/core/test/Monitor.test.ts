import { describe, it, expect } from 'vitest';
import { run, runTest, spawn, wait, yieldNow, type StallReport } from '@rioco/core';

describe('native monitor through the scheduler hooks', () => {
  it('reports a fiber that runs too long without yielding, naming it', async () => {
    let resolveReport!: (r: StallReport) => void;
    const got = new Promise<StallReport>((r) => (resolveReport = r));
    let hogId = 0;
    const report = await runTest(
      function* () {
        const hog = spawn(
          function* () {
            // Busy for ~6x the threshold: the monitor thread must notice while JS is blocked.
            const until = performance.now() + 300;
            while (performance.now() < until) {
              // spin
            }
            yield* yieldNow();
          },
          { name: 'hog' },
        );
        hogId = hog.id;
        yield* hog;
        // The report comes through the event loop once JavaScript is free again.
        return yield* wait(got);
      },
      { native: true, monitor: { stuckFiberMs: 50 }, hooks: { stall: (r) => resolveReport(r) } },
    );
    expect(report.kind).toBe('stuck-fiber');
    expect(report.fiberId).toBe(hogId);
    expect(report.ms).toBeGreaterThanOrEqual(50);
  });

  it('rejects a monitor without the native table, and bad thresholds', () => {
    expect(() => run(function* () {}, { monitor: { stuckFiberMs: 10 } })).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => run(function* () {}, { native: true, monitor: { stuckFiberMs: -1 } })).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
